"""`lensops enqueue`, `types`, `pause`/`resume`, `spool`: output, exit codes and errors on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lensops.engine import keys
from lensops.engine.registry import load_job_types


@pytest.fixture
def cli(make_cli, tmp_path):
    return make_cli(f'[spool]\npath = "{tmp_path / "spool.jsonl"}"\n')


def test_enqueue_prints_the_job_id(cli, connection):
    result = cli("enqueue", "system.echo", "--payload", '{"message": "hi"}')
    assert result.exit_code == 0, result.output
    job_id = result.stdout.strip()
    assert connection.lrange(keys.rq_queue("system"), 0, -1) == [job_id.encode()]


def test_enqueue_json_file_delay_priority_and_id(cli, connection, tmp_path):
    payload = tmp_path / "payload.json"
    payload.write_text('{"n": 4}')
    result = cli("enqueue", "system.noop", "-p", f"@{payload}", "--in", "10m", "--id", "nightly-1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"id": "nightly-1", "status": "scheduled", "queue": "system"}
    again = cli("enqueue", "system.noop", "-p", f"@{payload}", "--id", "nightly-1", "--json")
    assert json.loads(again.stdout)["status"] == "duplicate"
    urgent = cli("enqueue", "system.noop", "--priority", "urgent", "--at", "2020-01-01T00:00:00+00:00")
    assert urgent.exit_code == 0
    assert connection.zcard(keys.rq_registry("scheduled", "system:urgent")) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["system.echo", "-p", "{nope"], "payload from --payload is not valid JSON"),
        (
            ["system.echo", "-p", '{"message": 1}'],
            "invalid payload for system.echo: message: Input should be a valid string",
        ),
        (["system.echo", "-p", "@/no/such/file.json"], "cannot read payload file /no/such/file.json"),
        (["system.ech", "-p", "{}"], "unknown job type 'system.ech'"),
        (["system.noop", "--in", "soon"], "--in: unparseable duration 'soon'"),
        (["system.noop", "--at", "tomorrow"], "--at 'tomorrow' is not an ISO 8601 date-time"),
        (["system.noop", "--in", "1m", "--at", "2030-01-01T00:00:00"], "either --in or --at"),
        (["system.noop", "--priority", "asap"], "unknown priority 'asap'"),
        (["system.noop", "--queue", "mail"], "unknown queue 'mail' (queues: email, pdf"),
    ],
)
def test_enqueue_bad_input_exits_2_with_one_line_on_stderr(cli, connection, args, message):
    result = cli("enqueue", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert connection.dbsize() == 0


def test_types_lists_every_type_and_examples_validate(cli, connection):
    listed = json.loads(cli("types", "--json").stdout)
    assert {t["name"] for t in listed} == set(load_job_types())
    echo = next(t for t in listed if t["name"] == "system.echo")
    assert {"name": "message", "type": "string", "required": True}.items() <= echo["fields"][0].items()
    for job_type in listed:
        example = cli("types", job_type["name"], "--example")
        assert example.exit_code == 0
        enqueued = cli("enqueue", job_type["name"], "-p", example.stdout)
        assert enqueued.exit_code == 0, enqueued.stderr
    human = cli("types")
    assert "system.sleep" in human.stdout and "seconds*" in human.stdout
    assert cli("types", "--example").exit_code == 2


def test_pause_and_resume(cli, connection):
    assert cli("pause", "email").stdout.strip() == "email: paused"
    assert connection.exists(keys.paused("email"))
    assert cli("pause", "email").stdout.strip() == "email: already paused"
    assert cli("resume", "email").stdout.strip() == "email: resumed"
    assert not connection.exists(keys.paused("email"))
    bad = cli("pause", "emial")
    assert bad.exit_code == 2 and "unknown queue 'emial'" in bad.stderr


def test_spool_status_and_flush(cli, connection, tmp_path, settings):
    from lensops.engine.spool import Spool, SpooledJob

    Spool(tmp_path / "spool.jsonl").append(SpooledJob("sp-1", "system.noop", {"n": 1}, "medium", "system", None, 0))
    assert json.loads(cli("spool", "status", "--json").stdout)["pending"] == 1
    flushed = cli("spool", "flush", "--json")
    assert json.loads(flushed.stdout) == {
        "replayed": 1,
        "duplicates": 0,
        "remaining": 0,
        "error": None,
        "rejected": 0,
        "elsewhere": 0,
    }
    assert connection.lrange(keys.rq_queue("system"), 0, -1) == [b"sp-1"]


def test_unreachable_redis_is_one_line_with_masked_url(tmp_path):
    env = {**os.environ, "LENSOPS_REDIS_URL": "redis://ops:hunter2@127.0.0.1:1/0", "LENSOPS_CONFIG": ""}
    env.pop("LENSOPS_CONFIG")
    result = subprocess.run(
        [sys.executable, "-m", "lensops", "pause", "email"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: Redis unreachable at redis://ops:***@127.0.0.1:1/0")
    assert "hunter2" not in result.stderr


def test_bad_config_exits_2_naming_file_and_key(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[queues.email]\nrate = "fast"\n')
    env = {**os.environ, "LENSOPS_CONFIG": str(config)}
    result = subprocess.run(
        [sys.executable, "-m", "lensops", "pause", "email"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert f"{config}: queues.email.rate: unparseable rate 'fast'" in result.stderr


def test_help_and_version(cli):
    assert "enqueue" in cli("--help").stdout
    assert cli("--version").stdout.startswith("lensops ")
    assert cli("worker", "--help").exit_code == 0


def test_shell_completion_script_and_answers():
    # Without shell detection `--show-completion` takes the shell by name; with it, it asks the
    # process tree, which names no shell under a CI runner or a detached session.
    no_detection = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    script = subprocess.run(
        [sys.executable, "-m", "lensops", "--show-completion", "bash"],
        env=no_detection,
        capture_output=True,
        text=True,
        check=False,
    )
    assert script.returncode == 0 and "_lensops_completion" in script.stdout
    env = {**os.environ, "COMP_WORDS": "lensops sta", "COMP_CWORD": "1", "_LENSOPS_COMPLETE": "complete_bash"}
    answer = subprocess.run([sys.executable, "-m", "lensops"], env=env, capture_output=True, text=True, check=False)
    assert answer.stdout.split() == ["stats"]
