"""The demo's own settings, environment and lab history, apart from the lab's real ones."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from lensops.config import Settings

# Small pools and short backoffs, so that retries happen while someone watches.
DEMO_QUEUES: dict[str, dict[str, Any]] = {
    "email": {"concurrency": 2, "backoff": ["3s", "6s", "12s"]},
    "pdf": {"concurrency": 1},
    "notification": {"concurrency": 2, "backoff": ["2s", "4s"]},
    "ai": {"concurrency": 1, "backoff": ["5s"]},
    "oma": {"concurrency": 1},
    "scheduled": {"concurrency": 1, "retries": 3, "backoff": ["3s", "6s", "12s"]},
    # The stream's system.* checks; with scheduled's one, as many processes as before they split.
    "system": {"concurrency": 2, "retries": 3, "backoff": ["3s", "6s", "12s"]},
}


def demo_directory(base: Settings) -> Path:
    return base.data_dir / "demo"


def write_demo_config(directory: Path) -> Path:
    """The demo's config.toml: its own embedded Redis, small pools, mail to files, PDFs in the folder."""
    directory.mkdir(parents=True, exist_ok=True)
    text = [
        "# Written by `lensops demo`: the demo's own Redis and files, never the lab's.",
        "[redis]",
        'url = "embedded"',
        f"data_dir = {json.dumps(str(directory))}",
        "[spool]",
        f"path = {json.dumps(str(directory / 'spool.jsonl'))}",
        "[worker]",
        'heartbeat = "2s"',
        'dead_after = "10s"',
        "[email]",
        'transport = "file"',
        f"outbox = {json.dumps(str(directory / 'outbox'))}",
        "[pdf]",
        f"output_dir = {json.dumps(str(directory / 'pdf'))}",
    ]
    for queue, policy in DEMO_QUEUES.items():
        text.append(f"[queues.{queue}]")
        text += [f"{key} = {json.dumps(value)}" for key, value in {**policy, "fallback": "error"}.items()]
    path = directory / "config.toml"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def clean_environment(config: Path) -> dict[str, str]:
    """This process' environment without any LENSOPS_* override, pointing at the demo's config."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LENSOPS_")}
    env["LENSOPS_CONFIG"] = str(config)
    return env


def seed_lab_history(settings: Settings) -> bool:
    """Give the ai family a synthetic lab history to read, if the data layer is there and the demo's
    database does not exist yet. True when it seeded one."""
    try:
        from lensops.data.engine import database_url, sqlite_path
        from lensops.data.seed import seed_database
        from lensops.data.synthetic import SeedSpec
    except ImportError:
        return False  # no data layer: the ai jobs fail saying so, which is a fair demo too
    url = database_url(settings, environ={})
    path = sqlite_path(url)
    if path is None or path.exists():
        return False
    seed_database(url, SeedSpec())
    return True
