"""`lensops notifications list|read|count`: output contract, exit codes, errors on one line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lensops.cli.notifications import app
from lensops.notify.models import Notification
from lensops.notify.store import NotificationStore
from tests.redis_server import free_port


@pytest.fixture
def env(redis_url: str, tmp_path: Path) -> dict[str, str | None]:
    config = tmp_path / "config.toml"
    config.write_text("[notification]\nmax_per_user = 50\n")
    return {"LENSOPS_REDIS_URL": redis_url, "LENSOPS_CONFIG": str(config)}


@pytest.fixture
def inbox(connection) -> NotificationStore:
    store = NotificationStore(connection)
    now = datetime.now(UTC)
    for number, (priority, title) in enumerate(
        [("low", "Reorder blanks"), ("urgent", "Coater down"), ("medium", "Order LO-1 shipped")]
    ):
        store.add(
            Notification(
                id=f"n{number}",
                kind="system",
                user_id="u-7",
                title=title,
                body="…",
                priority=priority,
                created_at=now - timedelta(minutes=10 - number),
            )
        )
    store.mark_read("u-7", ["n2"])
    return store


def invoke(env: dict[str, str | None], *args: str):
    return CliRunner().invoke(app, list(args), env=env)


def test_list_json_is_one_document_unread_first(env, inbox):
    result = invoke(env, "list", "u-7", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["user_id"] == "u-7" and document["unread"] == 2
    assert [(n["id"], n["read"]) for n in document["notifications"]] == [("n1", False), ("n0", False), ("n2", True)]
    assert document["notifications"][0]["priority"] == "urgent"
    assert result.stderr == ""


def test_list_unread_and_limit(env, inbox):
    unread = json.loads(invoke(env, "list", "u-7", "--unread", "--json").stdout)
    assert [n["id"] for n in unread["notifications"]] == ["n1", "n0"]
    limited = json.loads(invoke(env, "list", "u-7", "--limit", "1", "--json").stdout)
    assert [n["id"] for n in limited["notifications"]] == ["n1"]


def test_list_human_output_is_a_table(env, inbox):
    result = invoke(env, "list", "u-7")
    assert result.exit_code == 0
    assert "u-7: 2 unread" in result.stdout
    assert "Coater down" in result.stdout and "urgent" in result.stdout
    assert "●" in result.stdout
    empty = invoke(env, "list", "nobody", "--unread")
    assert empty.exit_code == 0 and empty.stdout.strip() == "no unread notifications for nobody"


def test_count(env, inbox):
    assert invoke(env, "count", "u-7").stdout.strip() == "2"
    assert json.loads(invoke(env, "count", "u-7", "--json").stdout) == {"user_id": "u-7", "unread": 2}
    assert json.loads(invoke(env, "count", "nobody", "--json").stdout) == {"user_id": "nobody", "unread": 0}


def test_read_ids_then_all(env, inbox):
    result = invoke(env, "read", "u-7", "n1")
    assert result.exit_code == 0 and result.stdout.strip() == "marked 1 notification read"
    assert inbox.unread_count("u-7") == 1
    result = invoke(env, "read", "u-7", "--all", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"user_id": "u-7", "marked": 1, "unknown": []}
    assert inbox.unread_count("u-7") == 0


def test_read_unknown_ids_fails_after_marking_the_known_ones(env, inbox):
    result = invoke(env, "read", "u-7", "n0", "nope", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"user_id": "u-7", "marked": 1, "unknown": ["nope"]}
    assert result.stderr == "error: u-7 has no notification nope\n"
    assert inbox.unread_count("u-7") == 1


@pytest.mark.parametrize("args", [["read", "u-7"], ["read", "u-7", "n0", "--all"]])
def test_read_needs_ids_or_all_but_not_both(env, inbox, args):
    result = invoke(env, *args)
    assert result.exit_code == 2
    assert result.stderr == "error: give notification ids or --all (not both)\n"
    assert inbox.unread_count("u-7") == 2


def test_invalid_user_id_is_a_usage_error(env):
    result = invoke(env, "count", "bad user", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: invalid user id 'bad user'") and result.stderr.count("\n") == 1


def test_unreachable_redis_is_a_failure_on_one_line(env):
    result = invoke({**env, "LENSOPS_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}, "count", "u-7", "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: Redis unreachable at redis://127.0.0.1:")
    assert result.stderr.count("\n") == 1


def test_bad_config_is_a_usage_error_naming_the_key(env, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[notification]\nmax_per_user = -1\n")
    result = invoke({**env, "LENSOPS_CONFIG": str(broken)}, "count", "u-7")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {broken}: notification.max_per_user") and result.stderr.count("\n") == 1


def test_no_arguments_shows_help(env):
    result = invoke(env)
    assert result.exit_code == 2
    assert "list" in result.output and "read" in result.output and "count" in result.output


def test_list_is_readable_at_80_columns(env, connection):
    store = NotificationStore(connection)
    title = "Order LO-2025-004211 for Optica Central has shipped with DHL Express, tracking JD0146000062"
    job_id = "5c8621fa0b9d4e2f8a7c3d1e9f6b2a40"  # a job id as the producer makes them
    store.add(
        Notification(
            id=job_id,
            kind="order",
            user_id="u-8",
            title=title,
            body="…",
            priority="medium",
            created_at=datetime.now(UTC),
        )
    )
    result = invoke({**env, "COLUMNS": "80", "LINES": "40"}, "list", "u-8")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    # The whole title is there (wrapped at word boundaries), and the id whole on one line to copy.
    words = " ".join(lines).split()
    assert all(word in words for word in title.split())
    assert any(job_id in line for line in lines)
    title_lines = [line for line in lines if any(word in line for word in ("Order", "shipped", "tracking"))]
    assert len(title_lines) <= 3  # a few lines, not one word per line
