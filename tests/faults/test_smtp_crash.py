"""A worker killed while the SMTP server holds the whole message but has not answered yet: the retry
must not send a copy. It stops with "delivery unknown" until an operator says `retry --force`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from lensops.config import load_settings
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.jobs.email import GENERAL_EXAMPLE
from tests.faults.harness import SlowAcceptingSmtp, children_of, start_pool, stop_pool, wait_until_done, write_config

KILLS = 3


def test_killed_while_the_server_answers_sends_no_copy(faulty, tmp_path):
    pool = None

    def kill_the_sender(_message: bytes) -> None:
        if len(smtp.messages) <= KILLS and pool is not None:  # the first KILLS messages: kill the worker mid-reply
            for child in children_of(pool.pid):
                os.kill(child, signal.SIGKILL)

    with SlowAcceptingSmtp(delay=0.2, on_message=kill_the_sender) as smtp:
        config = write_config(tmp_path / "config.toml", faulty.url, extra=smtp.config_tables())
        client = faulty.client()
        producer = Producer(load_settings(config, environ={}), client)
        ids = [producer.enqueue("email.general", GENERAL_EXAMPLE).id for _ in range(KILLS + 2)]
        pool = start_pool(config, "email")
        try:
            statuses = wait_until_done(client, ids, 60)
            assert sorted(statuses) == ["failed"] * KILLS + ["finished"] * 2, statuses
            assert [smtp.copies_of(job_id) for job_id in ids] == [1] * len(ids)  # no copy, ever
            unknown = [job_id for job_id, s in zip(ids, statuses, strict=True) if s == "failed"]
            for job_id in unknown:
                [*_, last] = [json.loads(a) for a in client.lrange(keys.attempts(job_id), 0, -1)]
                assert last["exc_type"] == "DeliveryUnknown" and f"retry --force {job_id}" in last["message"]

            # An operator checked the mailbox and decides to send again.
            retry = subprocess.run(
                [sys.executable, "-m", "lensops", "retry", "--force", unknown[0]],
                env={**os.environ, "LENSOPS_CONFIG": str(config)},
                capture_output=True,
                text=True,
            )
            assert retry.returncode == 0, retry.stderr
            assert wait_until_done(client, [unknown[0]], 30) == ["finished"]
            assert smtp.copies_of(unknown[0]) == 2
        finally:
            assert stop_pool(pool) == 0
