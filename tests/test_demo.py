"""`lensops demo`: its job mix from whatever types exist, its own settings, and real headless runs
(embedded Redis, a worker pool, the stream) that leave nothing running behind them."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import pytest

from lensops.config import load_settings
from lensops.demo import PAUSED_QUEUE, clean_environment, frame_trace, job_mix, write_demo_config
from lensops.engine.registry import get_job_type, load_job_types
from lensops.oma import OmaError, inspect_bytes
from tests.pool_helpers import wait_for


def test_the_mix_uses_every_declared_family_with_valid_payloads():
    types = load_job_types()
    mix = job_mix(types)
    families = {name.split(".", 1)[0] for name in types}
    assert {job.type_name.split(".", 1)[0] for job in mix} == families
    rng = random.Random(3)
    for job in mix:
        get_job_type(job.type_name).validate(job.payload(rng))  # raises on a bad payload
    assert any(job.type_name == "system.sleep" for job in mix)
    assert any(job.type_name == "system.fail" and job.payload(rng).get("succeed_on_attempt") for job in mix)
    assert "system.noop" not in {job.type_name for job in mix}


def test_the_mix_never_needs_a_family_that_is_absent():
    types = load_job_types()
    only = {name: t for name, t in types.items() if name.startswith(("system.", "pdf."))}
    mix = job_mix(only)
    assert mix and {job.type_name.split(".")[0] for job in mix} == {"system", "pdf"}
    assert job_mix({}) == []


def test_frame_traces_parse_and_broken_ones_fail_like_real_bad_files():
    rng = random.Random(5)
    report = inspect_bytes(frame_trace(rng).encode(), mono_pd={"right": 31.5, "left": 32.0}).to_dict()
    assert report["right"]["points"] == 360 and report["left"]["points"] == 360
    assert 40 < report["right"]["hbox"] < 60
    with pytest.raises(OmaError, match="declares 360 radii"):
        inspect_bytes(frame_trace(rng, broken=True).encode())


def test_demo_settings_are_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LENSOPS_REDIS_URL", "redis://production.lab:6379/0")
    monkeypatch.setenv("LENSOPS_EMAIL_TRANSPORT", "smtp")
    config = write_demo_config(tmp_path / "demo")
    env = clean_environment(config)
    assert not any(key.startswith("LENSOPS_") and key != "LENSOPS_CONFIG" for key in env)
    settings = load_settings(config, environ=env)
    assert settings.redis.url == "embedded" and settings.data_dir == tmp_path / "demo"
    assert settings.sections["email"]["transport"] == "file"
    assert all(policy.fallback == "error" for policy in settings.queues.values())
    assert settings.queue("scheduled").retry_delays() == [3, 6, 12]


def _demo(data_dir: Path, *args: str, **kwargs) -> subprocess.Popen[str]:
    env = {**os.environ, "LENSOPS_DATA_DIR": str(data_dir), "LENSOPS_CONFIG": str(data_dir / "absent.toml")}
    (data_dir / "absent.toml").parent.mkdir(parents=True, exist_ok=True)
    (data_dir / "absent.toml").write_text("")
    env["LENSOPS_REDIS_URL"] = "redis://127.0.0.1:1/0"  # the lab's Redis: the demo must not use it
    return subprocess.Popen(
        [sys.executable, "-m", "lensops", "demo", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kwargs,
    )


def _processes_using(config: Path) -> list[int]:
    """Live processes started with LENSOPS_CONFIG pointing at `config` (the demo's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            status = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if f"LENSOPS_CONFIG={config}".encode() in environ and status != "Z":
            found.append(int(entry.name))
    return found


def _lines_of(stream: IO[str] | None) -> tuple[list[str], threading.Thread]:
    """Every line `stream` gives, appended as it arrives by a thread (joined: the stream has ended)."""
    lines: list[str] = []
    assert stream is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(stream.readline, "")), daemon=True)
    reader.start()
    return lines, reader


def _assert_nothing_left(demo_dir: Path) -> None:
    assert _processes_using(demo_dir / "config.toml") == []
    assert not (demo_dir / "redis.sock").exists()
    pid = int((demo_dir / "redis.pid").read_text()) if (demo_dir / "redis.pid").exists() else None
    if pid is not None:
        wait_for(lambda: not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2],
                 10, "the demo's Redis to exit")  # fmt: skip


def test_headless_demo_runs_real_jobs_prints_json_and_stops_everything(tmp_path: Path):
    process = _demo(tmp_path, "--no-dashboard", "--seconds", "6", "--rate", "8", "--json")
    out, err = process.communicate(timeout=90)
    assert process.returncode == 0, err
    document = json.loads(out)  # exactly one JSON document on stdout
    queues = document["queues"]
    assert set(queues) == {"email", "pdf", "notification", "ai", "oma", "scheduled", "system"}
    finished = {name: q["counts"]["finished"] for name, q in queues.items()}
    assert finished["email"] > 0 and finished["notification"] > 0 and finished["oma"] > 0, finished
    assert sum(finished.values()) > 20
    assert document["workers"] and all(w["alive"] for w in document["workers"])
    demo_dir = tmp_path / "demo"
    log = (demo_dir / "demo.log").read_text()
    assert f"{PAUSED_QUEUE} paused" in log and f"{PAUSED_QUEUE} resumed" in log
    assert list((demo_dir / "outbox").iterdir()), "mail went to files"
    assert err == ""  # --json: nothing but the document
    _assert_nothing_left(demo_dir)


def test_ctrl_c_stops_the_demo_and_what_it_started(tmp_path: Path):
    process = _demo(tmp_path, "--no-dashboard", "--seconds", "120")
    demo_dir = tmp_path / "demo"
    said, reader = _lines_of(process.stderr)
    wait_for(lambda: any("running for" in line for line in said), 30, "the demo to say it is running")
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=60)
    reader.join(timeout=10)
    assert process.stdout is not None
    out, err = process.stdout.read(), "".join(said)
    assert process.returncode == 130, err
    assert "interrupted: stopped the workers and Redis" in err and out == ""
    _assert_nothing_left(demo_dir)


def test_json_needs_no_dashboard_and_the_dashboard_needs_a_terminal(tmp_path: Path):
    refused = _demo(tmp_path, "--json")
    _, err = refused.communicate(timeout=30)
    assert refused.returncode == 2 and "--json goes with --no-dashboard" in err
    no_tty = _demo(tmp_path, stdin=subprocess.DEVNULL)
    _, err = no_tty.communicate(timeout=30)
    assert no_tty.returncode == 2 and "needs a terminal" in err
    assert not (tmp_path / "demo").exists()  # refused before starting anything
