"""`lensops enqueue TYPE --payload @file.jsonl`: a job per line, all lines checked before any is
written, ids printed in order; bad lines named by number, and nothing enqueued."""

from __future__ import annotations

import json

import pytest

from lensops.cli import payload_lines
from lensops.cli.payload_lines import MAX_LINE
from lensops.engine import keys
from lensops.engine.producer import CHUNK
from lensops.engine.runtime import read_call


@pytest.fixture
def cli(make_cli, tmp_path):
    return make_cli(f'[spool]\npath = "{tmp_path / "spool.jsonl"}"\n')


def _lines(path, payloads) -> str:
    path.write_text("".join(f"{json.dumps(p)}\n" if p is not None else "\n" for p in payloads), encoding="utf-8")
    return f"@{path}"


def test_a_job_per_line_in_order_blank_lines_skipped(cli, connection, tmp_path):
    count = CHUNK * 2 + 3  # more than one round trip
    payloads = [{"message": f"order {n}"} for n in range(count)]
    source = _lines(tmp_path / "orders.jsonl", [*payloads[:5], None, *payloads[5:]])
    result = cli("enqueue", "system.echo", "--payload", source)
    assert result.exit_code == 0, result.output
    ids = result.stdout.split()
    assert len(ids) == len(set(ids)) == count
    assert [i.decode() for i in connection.lrange(keys.rq_queue("system"), 0, -1)] == ids
    assert f"{count} system.echo job(s) from {tmp_path / 'orders.jsonl'}: {count} queued" in result.stderr
    call = read_call(connection.hget(keys.rq_job(ids[-1]), "data"), 1 << 20)
    assert call[2] == ["system.echo", {"message": f"order {count - 1}", "data": {}}]  # the last line's payload


def test_stdin_with_options_for_every_job_and_a_json_report(cli, connection):
    text = '{"n": 1}\n{"n": 2}\n'
    result = cli("enqueue", "system.noop", "--jsonl", "-p", "@-", "--in", "10m", "--priority", "urgent", "--json",
                 input=text)  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["type"] == "system.noop" and report["jobs"] == 2 and report["statuses"] == {"scheduled": 2}
    scheduled = connection.zrange(keys.rq_registry("scheduled", "system:urgent"), 0, -1)
    assert sorted(i.decode() for i in scheduled) == sorted(report["ids"])


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('{"message": "a"}\n{bad\n', ["line 2: not valid JSON"]),
        ('{"message": "a"}\n{"nope": 1}\n[1]\n', ["line 2 field message: Field required", "line 3: Input should be"]),
        ("\n\n", ["no payloads (every line is blank)"]),
    ],
)
def test_bad_lines_are_named_and_nothing_is_enqueued(cli, connection, tmp_path, lines, expected):
    path = tmp_path / "bad.jsonl"
    path.write_text(lines, encoding="utf-8")
    result = cli("enqueue", "system.echo", "-p", f"@{path}")
    assert result.exit_code == 2
    assert result.stdout == ""
    for text in expected:
        assert text in result.stderr, result.stderr
    assert connection.llen(keys.rq_queue("system")) == 0
    assert not connection.keys("rq:job:*")


def test_many_bad_lines_are_capped_with_a_count(cli, connection, tmp_path):
    source = _lines(tmp_path / "bad.jsonl", [{"message": 1}] * (payload_lines.SHOWN_PROBLEMS + 7))
    result = cli("enqueue", "system.echo", "-p", source)
    assert result.exit_code == 2
    errors = result.stderr.splitlines()
    assert len(errors) == payload_lines.SHOWN_PROBLEMS + 1
    assert errors[-1] == "error: ... and 7 more; nothing was enqueued"
    assert connection.llen(keys.rq_queue("system")) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--jsonl", "-p", '{"message": "a"}'], "--jsonl reads a file"),
        (["-p", "@LINES", "--id", "po-1"], "--id names one job"),
        (["-p", "@/no/such/file.jsonl"], "cannot read payload file /no/such/file.jsonl"),
        (["-p", "@LINES", "--queue", "nowhere"], "unknown queue 'nowhere'"),
    ],
)
def test_option_mistakes_with_json_lines(cli, connection, tmp_path, args, message):
    source = _lines(tmp_path / "ok.jsonl", [{"message": "a"}])
    result = cli("enqueue", "system.echo", *[source if a == "@LINES" else a for a in args])
    assert result.exit_code == 2
    assert message in result.stderr, result.stderr
    assert not connection.keys("rq:job:*")


def test_a_file_that_is_not_utf8_is_refused(cli, connection, tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"message": "Brillengläser"}\n'.encode("latin-1"))
    result = cli("enqueue", "system.echo", "-p", f"@{path}")
    assert result.exit_code == 2 and "not UTF-8 text" in result.stderr
    assert not connection.keys("rq:job:*")


def test_unicode_line_separators_inside_strings_and_a_bom_are_payload_text(cli, connection, tmp_path):
    path = tmp_path / "notes.jsonl"
    lines = ['{"message": "Optyk \u2028Łódź\u0085"}', '{"message": "second"}']
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode())  # UTF-8 with a BOM, no final newline
    result = cli("enqueue", "system.echo", "--payload", f"@{path}", "--json")
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)["ids"][0]
    call = read_call(connection.hget(keys.rq_job(first), "data"), 1 << 20)
    assert call[2][1]["message"] == "Optyk \u2028Łódź\u0085"


def test_deeply_nested_and_oversized_lines_are_named(cli, connection, tmp_path):
    path = tmp_path / "hostile.jsonl"
    path.write_text('{"message": "ok"}\n' + "[" * 100_000 + "\n" + '"' + "x" * (MAX_LINE + 1) + '"\n')
    result = cli("enqueue", "system.echo", "--payload", f"@{path}")
    assert result.exit_code == 2
    assert f"{path} line 2: nested too deeply to be a payload" in result.stderr
    assert f"{path} line 3: {MAX_LINE + 3:,} characters" in result.stderr
    assert "Traceback" not in result.output and connection.llen(keys.rq_queue("system")) == 0
