"""Email benchmark: messages per second to a local SMTP server, connection reuse vs one per message.

Starts its own SMTP sink (aiosmtpd, in a separate process, plain and STARTTLS with a throwaway CA)
and a private redis-server; never touches the machine's shared services. Usage:

    python -m bench.bench_email [--messages 300]

Every message goes through the whole handler: render the order confirmation, assemble the MIME
message, check and write the sent-once record in Redis, and send. Prints messages per second for
each mode, the reuse/per-message ratio, and the figures against the seed system (10/min before
queues, 100/min with them). A last run goes through the real worker, with the queue's rate limit
lifted to show the capacity behind it.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
import trustme

from lensops.config import _build
from lensops.email.sender import send_email_job
from lensops.email.settings import SmtpSettings
from lensops.email.transports import SmtpTransport, close_connections
from lensops.engine.registry import JobContext, get_job_type
from lensops.jobs import email as email_jobs
from tests.redis_server import RedisServer, free_port

SEED_PER_MINUTE = 10  # the lab's system before queues
QUEUED_PER_MINUTE = 100  # with queues: the email queue's rate limit


def start_sink(folder: Path, ca: trustme.CA) -> tuple[subprocess.Popen[bytes], int]:
    """An aiosmtpd process that accepts and discards mail, offering STARTTLS (not requiring it)."""
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink",
         "--tlscert", str(cert_file), "--tlskey", str(key_file), "--no-requiretls"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as probe:
                probe.recv(100)  # the greeting
            return process, port
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the aiosmtpd sink did not start") from None
            time.sleep(0.05)


def smtp_settings(folder: Path, redis_url: str, smtp: dict[str, Any], queues: dict[str, Any] | None = None) -> Any:
    raw = {"redis": {"data_dir": str(folder)}, "email": {"transport": "smtp", "smtp": smtp}, "queues": queues or {}}
    return _build(raw, None, {"LENSOPS_REDIS_URL": redis_url})


def run_handlers(count: int, connection: redis.Redis, settings: Any, transport: SmtpTransport, label: str) -> float:
    job_type = get_job_type("email.order_confirmation")
    payload = job_type.validate(email_jobs.ORDER_CONFIRMATION_EXAMPLE)
    send_email_job("order_confirmation", payload, JobContext(f"warm-{label}", "", "email", 1, connection, settings),
                   transport)  # fmt: skip
    started = time.perf_counter()
    for number in range(count):
        context = JobContext(f"{label}-{number}", job_type.name, "email", 1, connection, settings)
        result = send_email_job("order_confirmation", payload, context, transport)
        assert result["status"] == "sent", result
    rate = count / (time.perf_counter() - started)
    close_connections()
    return rate


def run_worker(count: int, connection: redis.Redis, settings: Any) -> float:
    from lensops.engine.producer import Producer
    from lensops.engine.worker import QueueWorker

    producer = Producer(settings, connection)
    for _ in range(count):
        producer.enqueue("email.order_confirmation", email_jobs.ORDER_CONFIRMATION_EXAMPLE)
    started = time.perf_counter()
    ran = QueueWorker(settings, connection, "email", burst=True).run()
    rate = ran / (time.perf_counter() - started)
    close_connections()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200, help="messages per mode and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per mode (median reported)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        ca = trustme.CA()
        ca_file = folder / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        server = RedisServer(folder / "redis").start()
        sink, port = start_sink(folder, ca)
        connection = redis.Redis.from_url(server.url)
        try:
            print(f"email benchmark: {args.rounds} rounds of {args.messages} order confirmations per mode, "
                  f"aiosmtpd sink on 127.0.0.1:{port}")  # fmt: skip
            samples: dict[tuple[str, str], list[float]] = {}
            for round_number in range(args.rounds):  # interleaved rounds: noise hits every mode alike
                for security in ("none", "starttls"):
                    smtp = {"host": "127.0.0.1", "port": port, "security": security, "ca_file": str(ca_file)}
                    settings = smtp_settings(folder, server.url, smtp)
                    config = SmtpSettings.model_validate({**smtp, "ca_file": ca_file})
                    for mode, reuse in (("per message", False), ("reused", True)):
                        label = f"{security}-{'reuse' if reuse else 'once'}-{round_number}"
                        rate = run_handlers(
                            args.messages, connection, settings, SmtpTransport(config, reuse=reuse), label
                        )
                        samples.setdefault((security, mode), []).append(rate)
            rates = {key: statistics.median(values) for key, values in samples.items()}
            header = f"{'msgs/s':>10}{'range':>16}{'msgs/min':>10}{'x seed':>9}{'x queued':>9}"
            print(f"\n  {'mode (median of rounds)':<34}{header}")
            for (security, mode), rate in rates.items():
                name = f"{'plain' if security == 'none' else 'STARTTLS'}, connection {mode}"
                low, high = min(samples[security, mode]), max(samples[security, mode])
                print(f"  {name:<34}{rate:>10,.1f}{f'{low:,.0f}-{high:,.0f}':>16}{rate * 60:>10,.0f}"
                      f"{rate * 60 / SEED_PER_MINUTE:>9,.0f}{rate * 60 / QUEUED_PER_MINUTE:>9,.1f}")  # fmt: skip
            print()
            for security in ("none", "starttls"):
                label = "plain" if security == "none" else "STARTTLS"
                once, reused = rates[security, "per message"], rates[security, "reused"]
                setup_ms = (1 / once - 1 / reused) * 1000
                print(f"  reuse / per-message ({label}): {reused / once:.1f}x; a new connection costs {setup_ms:.1f} ms"
                      " here on loopback, plus ~3-5 network round trips to a remote server")  # fmt: skip

            no_limit = {"email": {"rate": ""}}
            settings = smtp_settings(
                folder, server.url, {"host": "127.0.0.1", "port": port, "security": "none"}, no_limit
            )
            rate = run_worker(args.messages, connection, settings)
            print(f"\n  through one lensops worker, rate limit lifted: {rate:,.1f} msgs/s ({rate * 60:,.0f}/min, "
                  f"{rate * 60 / QUEUED_PER_MINUTE:,.0f}x the 100/min the queue allows by default)")  # fmt: skip
        finally:
            connection.close()
            sink.terminate()
            sink.wait(timeout=10)
            server.stop()


if __name__ == "__main__":
    main()
