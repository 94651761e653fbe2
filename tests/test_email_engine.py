"""Email through the real engine: 4xx retried by the worker, kill -9 after acceptance, a PDF attached."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from email import message_from_bytes, policy

from lensops.config import load_settings
from lensops.engine import keys
from lensops.engine.producer import Producer
from lensops.jobs import email as email_jobs
from tests.conftest import run_burst
from tests.pool_helpers import stop, wait_for
from tests.test_email_smtp import ENV_OVERRIDES, SmtpServer, smtp, smtp_settings  # noqa: F401


def with_fast_retries(settings):
    queues = dict(settings.queues)
    queues["email"] = queues["email"].model_copy(update={"backoff": [0.1], "rate": None})
    return settings.model_copy(update={"queues": queues})


def test_4xx_is_retried_by_the_worker_then_delivered_once(smtp, connection, tmp_path):  # noqa: F811
    settings = with_fast_retries(smtp_settings(tmp_path, smtp))
    smtp.handler.data_replies = ["451 4.3.0 Mailbox busy, try later"]
    job_id = Producer(settings, connection).enqueue("email.general", email_jobs.GENERAL_EXAMPLE).id
    run_burst(settings, connection, "email")
    assert connection.hget(keys.rq_job(job_id), "status") == b"finished"
    assert len(smtp.handler.messages) == 1
    [attempt] = [json.loads(a) for a in connection.lrange(keys.attempts(job_id), 0, -1)]
    assert "451 4.3.0 Mailbox busy" in attempt["message"]


def test_5xx_fails_permanently_through_the_worker(smtp, connection, tmp_path):  # noqa: F811
    settings = with_fast_retries(smtp_settings(tmp_path, smtp))
    smtp.handler.data_replies = ["550 5.1.1 No such mailbox"]
    job_id = Producer(settings, connection).enqueue("email.general", email_jobs.GENERAL_EXAMPLE).id
    run_burst(settings, connection, "email")
    assert connection.hget(keys.rq_job(job_id), "status") == b"failed"
    assert connection.llen(keys.attempts(job_id)) == 1
    assert smtp.handler.messages == []


def test_pool_worker_killed_after_acceptance_sends_exactly_one_copy(smtp, connection, redis_url, tmp_path):  # noqa: F811
    settings = smtp_settings(tmp_path, smtp)
    config = settings.source
    text = config.read_text().replace("[redis]\n", "[redis]\nsocket_timeout = 1\n")
    text += "[worker]\nheartbeat = 0.5\ndead_after = 2\npoll = 0.2\n[queues.email]\nbackoff = [0]\n"
    config.write_text(text)
    settings = load_settings(config, environ={})  # reloaded: the retry runs at once
    flag = tmp_path / "killed-once"
    # The supervisor sets the hook before forking, so its worker processes inherit it: the first
    # one dies by SIGKILL right after the server accepted the message.
    launcher = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from lensops.email import delivery

        def die_once(job_id, record):
            flag = Path({str(flag)!r})
            if not flag.exists():
                flag.write_text(job_id)
                os.kill(os.getpid(), signal.SIGKILL)

        delivery.set_after_accepted_hook(die_once)
        from lensops.cli.app import main
        sys.argv = ["lensops", "worker", "email"]
        main()
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ENV_OVERRIDES}
    env.update(LENSOPS_CONFIG=str(config), LENSOPS_REDIS_URL=redis_url)
    job_id = (
        Producer(settings, connection).enqueue("email.order_confirmation", email_jobs.ORDER_CONFIRMATION_EXAMPLE).id
    )
    pool = subprocess.Popen(
        [sys.executable, "-c", launcher], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: connection.hget(keys.rq_job(job_id), "status") in (b"finished", b"failed"), 30, "the retry")
    except AssertionError:
        raise AssertionError(f"the pool said: {stop(pool)[1]}") from None
    code, err = stop(pool)
    assert code == 0, err
    assert connection.hget(keys.rq_job(job_id), "status") == b"finished", err
    assert flag.read_text() == job_id  # the kill did happen
    assert len(smtp.handler.messages) == 1
    [attempt] = [json.loads(a) for a in connection.lrange(keys.attempts(job_id), 0, -1)]
    assert "killed by SIGKILL" in attempt["message"]
    from lensops.ops.lookup import job_detail

    assert job_detail(connection, job_id).result["status"] == "already_sent"


def test_invoice_pdf_is_attached_after_its_job_finishes(connection, tmp_path, make_settings):
    settings = make_settings(queues={"pdf": {"rate": None}, "email": {"rate": None}})
    producer = Producer(settings, connection)
    from lensops.engine.registry import get_job_type

    pdf_id = producer.enqueue("pdf.invoice", get_job_type("pdf.invoice").example).id
    mail = {**email_jobs.GENERAL_EXAMPLE, "attach_result_of": pdf_id}
    mail_job = producer.enqueue("email.general", mail, depends_on=pdf_id)
    assert mail_job.status == "deferred"
    assert run_burst(settings, connection, "email") == 0  # waits for its invoice
    run_burst(settings, connection, "pdf")
    run_burst(settings, connection, "email")
    assert connection.hget(keys.rq_job(mail_job.id), "status") == b"finished"
    message = message_from_bytes(
        (settings.data_dir / "outbox" / f"{mail_job.id}.eml").read_bytes(), policy=policy.default
    )
    [attachment] = message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF")
