"""Job timings: recorded by real workers in their settle call, rolled up to hours and days, read back."""

from __future__ import annotations

import math
import threading
import time

import pytest
import redis

from lensops.engine import keys, timings
from lensops.engine.producer import Producer
from lensops.engine.rollup import roll_up, roll_up_all
from lensops.engine.scripts import SETTLE_FIXED_ARGS, Commands
from lensops.engine.timings import Histogram, bucket, lower_bound, upper_bound
from lensops.engine.worker import QueueWorker
from lensops.ops.history import collect_history, collect_totals
from tests.conftest import run_burst
from tests.pool_helpers import wait_for
from tests.redis_server import free_port


def apply(connection, commands: Commands) -> None:
    """Run a command list the way SETTLE does (values by ARGV index), for writing aggregates at a chosen time."""
    with connection.pipeline(transaction=True) as pipe:
        for op in commands.ops:
            pipe.execute_command(op[0], *(commands.argv[i - SETTLE_FIXED_ARGS - 1] for i in op[1:]))
        pipe.execute()


def settle_at(connection, when: float, run: float, wait: float, outcome: str = "ok", type_name: str = "system.sleep"):
    started = when - run
    commands = timings.record(Commands(), "system", type_name, outcome, when, started, started - wait)
    apply(connection, commands)


# -- the buckets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0.0004, 0.001, 0.0123, 0.2, 0.2005, 1.0, 7.3, 599.0, 3 * 3600.0])
def test_a_value_lies_in_its_bucket(seconds):
    index = bucket(seconds)
    assert lower_bound(index) < seconds <= upper_bound(index) or (index == timings.LOWEST and seconds <= 0.001)


def test_out_of_range_values_go_to_the_end_buckets():
    assert bucket(0.0) == timings.LOWEST
    assert bucket(1e9) == timings.OVERFLOW
    assert math.isinf(upper_bound(timings.OVERFLOW))


def test_quantiles_are_within_half_a_bucket():
    histogram = Histogram()
    for value in [0.2005] * 10:
        histogram.counts[bucket(value)] = histogram.counts.get(bucket(value), 0) + 1
    p50 = histogram.quantile(0.5)
    assert p50 is not None and abs(p50 - 0.2005) / 0.2005 < 0.06
    spread = Histogram()
    for value in (0.01 * n for n in range(1, 101)):  # 0.01 .. 1.00 s
        spread.counts[bucket(value)] = spread.counts.get(bucket(value), 0) + 1
    assert abs((spread.quantile(0.5) or 0) - 0.5) < 0.5 * 0.12
    assert abs((spread.quantile(0.95) or 0) - 0.95) < 0.95 * 0.12


def test_exported_buckets_are_cumulative_and_end_at_inf():
    histogram = Histogram({bucket(0.002): 2, bucket(0.5): 3, timings.OVERFLOW: 1}, total_us=1_000)
    cumulative = histogram.cumulative()
    assert [count for _bound, count in cumulative] == sorted(count for _bound, count in cumulative)
    assert cumulative[-1] == (math.inf, 6)
    assert dict(cumulative)[1.0] == 5


def test_a_garbled_hash_reads_as_less_data():
    parsed = timings.parse([b"system.echo|r-20", b"3", b"noise", b"1", b"system.echo|rx", b"2", b"a|ok", b"zz"])
    assert parsed["system.echo"].run.counts == {-20: 3}
    assert "a" not in parsed  # "zz" is no count


# -- recorded by real workers ---------------------------------------------------------------------------


def test_a_real_worker_records_run_and_wait_times(settings, connection):
    producer = Producer(settings, connection)
    for _ in range(4):
        producer.enqueue("system.sleep", {"seconds": 0.2})
    producer.enqueue("system.fail", {"message": "no", "permanent": True})
    assert run_burst(settings, connection) == 5
    history = collect_history(connection, "1h", ["system"])
    queue = history.queue("system")
    sleep = next(t for t in queue.types if t.name == "system.sleep")
    assert sleep.processed == 4 and sleep.failed == 0
    assert sleep.run.count == 4 and sleep.run.p50 is not None
    assert abs(sleep.run.p50 - 0.2) < 0.2 * 0.1  # the buckets' resolution, plus the worker's own overhead
    assert sleep.run.mean is not None and 0.2 <= sleep.run.mean < 0.3
    assert sleep.wait.count == 4  # the later ones waited for the earlier ones' 0.2 s
    assert sleep.wait.p95 is not None and sleep.wait.p95 > 0.2
    failed = next(t for t in queue.types if t.name == "system.fail")
    assert (failed.processed, failed.failed, failed.failure_rate) == (1, 1, 1.0)
    assert queue.processed == 5 and sum(slot.processed for slot in queue.slots) == 5
    assert history.bottleneck == "system"


def test_a_retried_job_waits_from_its_requeue_not_its_first_enqueue(make_settings, connection):
    settings = make_settings(queues={"system": {"retries": 1, "backoff": ["0.5s"]}})
    producer = Producer(settings, connection)
    producer.enqueue("system.fail", {"message": "flaky", "succeed_on_attempt": 2})
    run_burst(settings, connection)
    fail = collect_history(connection, "1h", ["system"]).queue("system").types[0]
    assert (fail.processed, fail.retried, fail.failed) == (2, 1, 0)
    # the second attempt's wait starts when promote.lua put it back (after the 0.5 s backoff)
    assert fail.wait.p99 is not None and fail.wait.p99 < 0.5


def test_undeclared_type_names_are_not_trusted_as_fields(connection):
    settle_at(connection, time.time(), 0.01, 0.0, "failed", type_name="evil|r999")
    types = collect_history(connection, "1h", ["system"]).queue("system").types
    assert [t.name for t in types] == [timings.UNKNOWN_TYPE]


# -- rolled up -----------------------------------------------------------------------------------------------


def test_finished_hours_roll_up_once_into_hours_days_and_total(connection):
    base = (int(time.time() // 86400) - 2) * 86400  # two days ago, 00:00 UTC
    for hour in range(3):
        for minute in (0, 30, 59):
            settle_at(connection, base + hour * 3600 + minute * 60 + 1, run=0.1 * (hour + 1), wait=1.0)
    settle_at(connection, base + 3600 + 5, run=0.5, wait=0.0, outcome="failed")
    now = base + 3 * 3600 + 600  # 03:10: hours 0-2 are finished
    assert roll_up_all(connection, "system", now) > 0
    first_hour = int(base // 3600)
    assert roll_up(connection, "system", now).through == first_hour + 2
    assert roll_up(connection, "system", now).hours == 0  # a second worker adds nothing twice
    hours = [timings.parse(_flat(connection, keys.timings("system", "h", first_hour + n))) for n in range(3)]
    assert [h["system.sleep"].processed for h in hours] == [3, 4, 3]
    assert hours[1]["system.sleep"].outcomes["failed"] == 1
    day = timings.parse(_flat(connection, keys.timings("system", "d", int(base // 86400))))
    assert day["system.sleep"].processed == 10
    assert day["system.sleep"].run.sum == pytest.approx(0.1 * 3 + 0.2 * 3 + 0.3 * 3 + 0.5)
    assert 0 < connection.ttl(keys.timings("system", "h", first_hour)) <= 91 * 86400
    total = collect_totals(connection, ["system"], now=now).queues["system"]["system.sleep"]
    assert total.processed == 10


def test_readers_see_the_same_numbers_before_and_after_the_roll_up(connection):
    base = (int(time.time() // 3600) - 4) * 3600
    for n in range(6):
        settle_at(connection, base + n * 1800 + 7, run=0.05, wait=0.01)
    now = time.time()
    ranges = ("24h", "7d", "90d")
    before = [collect_history(connection, name, ["system"], now=now).queue("system") for name in ranges]
    totals_before = collect_totals(connection, ["system"], now=now).queues["system"]["system.sleep"]
    assert roll_up_all(connection, "system", now) > 0
    after = [collect_history(connection, name, ["system"], now=now).queue("system") for name in ranges]
    assert before == after
    assert [q.processed for q in after] == [6, 6, 6]
    assert [len(q.slots) for q in after] == [24, 168, 90]
    totals_after = collect_totals(connection, ["system"], now=now).queues["system"]["system.sleep"]
    assert totals_before == totals_after and totals_after.processed == 6


def test_minutes_the_roll_up_has_not_reached_are_read_back_six_hours_only(connection):
    # bounded reads: an hour older than that is shown once a worker has rolled it up
    base = (int(time.time() // 3600) - 8) * 3600
    settle_at(connection, base + 60, run=0.05, wait=0.01)
    now = time.time()
    assert collect_history(connection, "7d", ["system"], now=now).queue("system").processed == 0
    roll_up_all(connection, "system", now)
    assert collect_history(connection, "7d", ["system"], now=now).queue("system").processed == 1


def test_history_refuses_an_unknown_range_or_queue(connection):
    with pytest.raises(ValueError, match="unknown range"):
        collect_history(connection, "2w")
    with pytest.raises(ValueError, match="unknown queue"):
        collect_history(connection, "24h", ["printing"])


def _flat(connection, key: str) -> list[bytes]:
    return [part for pair in connection.hgetall(key).items() for part in pair]


def test_the_snapshot_carries_each_queues_p95_run_and_wait(settings, connection):
    from lensops.ops.snapshot import collect_snapshot

    producer = Producer(settings, connection)
    for _ in range(3):
        producer.enqueue("system.sleep", {"seconds": 0.2})
    run_burst(settings, connection)
    snapshot = collect_snapshot(connection, settings)
    scheduled = snapshot.queue("system")
    assert scheduled.run_p95 is not None and 0.2 <= scheduled.run_p95 < 0.2 * 1.13  # within one bucket
    assert scheduled.wait_p95 is not None and scheduled.wait_p95 > 0.2  # the third waited for two others
    assert snapshot.queue("email").run_p95 is None
    assert snapshot.to_json()["queues"]["system"]["run_p95"] == scheduled.run_p95


def test_a_job_recovered_from_a_dead_worker_counts_as_failed_without_a_run_time(connection):
    from lensops.engine.outcomes import ClaimedJob, Failure, failure, iso

    now = time.time()
    job = ClaimedJob("j1", "e1", "system", {"description": b"system.sleep", "enqueued_at": iso(now).encode()})
    commands, status = failure(job, "", Failure("WorkerDied", "worker gone", ""), now, now, "system.sleep")
    assert status == "failed"
    apply(connection, commands)
    settle_at(connection, now, run=0.3, wait=0.1)  # and one that finished normally
    sleep = collect_history(connection, "1h", ["system"]).queue("system").types[0]
    assert sleep.run.count == 1 and sleep.wait.count == 1
    assert (sleep.processed, sleep.failed, sleep.retried) == (2, 1, 0)


def test_the_roll_up_gives_every_minute_it_reads_its_ttl(connection):
    # a worker sends the EXPIRE with a minute's first job only; were that settle dropped, no TTL
    minute = (int(time.time() // 3600) - 2) * 60 + 5
    connection.hset(keys.timings("system", "m", minute), "system.sleep|r-10", 1)
    assert connection.ttl(keys.timings("system", "m", minute)) == -1
    roll_up_all(connection, "system", time.time())
    assert 0 < connection.ttl(keys.timings("system", "m", minute)) <= timings.MINUTE_TTL


def test_a_busy_worker_sends_its_counts_within_a_second_without_stopping(settings, connection):
    """Successes' counts leave the settle call; the process' sender thread delivers them, exactly."""
    producer = Producer(settings, connection)
    producer.enqueue_many([("system.noop", {"n": n}) for n in range(300)])
    producer.enqueue("system.sleep", {"seconds": 4})  # busy long after the no-ops: no settle to ride
    worker = QueueWorker(settings, connection, "system")
    thread = threading.Thread(target=worker.serve)
    thread.start()
    try:
        sleeping = lambda: worker.current is not None and worker.current.fields.get("description") == b"system.sleep"  # noqa: E731
        wait_for(sleeping, what="the sleep to start")
        noop = lambda: collect_history(connection, "1h", ["system"]).queue("system").types  # noqa: E731
        wait_for(lambda: sum(t.processed for t in noop()) == 300, timeout=3, what="the no-ops counted, mid-sleep")
        assert sleeping()  # no settle since the no-ops: the sender thread sent their counts
        [counted] = noop()
        assert (counted.name, counted.run.count, counted.wait.count) == ("system.noop", 300, 300)
    finally:
        worker.request_stop()
        thread.join(10)
    assert collect_history(connection, "1h", ["system"]).queue("system").processed == 301  # none twice


def test_held_counts_wait_out_an_outage_and_are_never_sent_twice(connection):
    """Counts held while Redis does not answer are kept and sent once it does: none lost or doubled."""
    unreachable = redis.Redis(port=free_port(), socket_connect_timeout=0.2)
    held, now = timings.HeldCounts(), time.time()
    for n in range(5):
        started = now - 0.1
        commands = timings.record(
            Commands(), "system", "system.noop", "ok", now + n / 100, started, started - 0.1, held=held
        )
        assert not commands  # nothing rides the settle
    assert timings.send_held(unreachable, held, now) is False
    assert timings.send_held(connection, held, now) is True
    assert timings.send_held(connection, held, now) is True  # nothing left: sends nothing
    noop = collect_history(connection, "1h", ["system"]).queue("system").types[0]
    assert (noop.processed, noop.run.count, noop.wait.count) == (5, 5, 5)
