"""Every Redis key lensops reads or writes, in one place.

rq's own layout (``rq:queue:*``, ``rq:job:*``, the registries) is kept exactly as rq writes it so
that ``rq info`` and rq-dashboard keep working; lensops adds only the ``lensops:*`` keys below.

Priorities map onto rq queues: ``medium`` is the plain queue (``email``), the others are sibling
rq queues (``email:urgent``, ``email:high``, ``email:low``). A worker pops them in that order, so a
higher-priority job always starts before a lower one that is waiting.
"""

from __future__ import annotations

from lensops.config import PRIORITIES

RQ_QUEUES = "rq:queues"
RQ_WORKERS = "rq:workers"


def physical_queue(queue: str, priority: str = "medium") -> str:
    """The rq queue that holds `queue`'s jobs of `priority`."""
    return queue if priority == "medium" else f"{queue}:{priority}"


def physical_queues(queue: str) -> list[str]:
    """The rq queues of `queue`, highest priority first (the order workers pop them)."""
    return [physical_queue(queue, priority) for priority in PRIORITIES]


def logical_queue(physical: str) -> str:
    """The lensops queue an rq queue belongs to (``email:urgent`` -> ``email``)."""
    return physical.split(":", 1)[0]


def rq_queue(physical: str) -> str:
    return f"rq:queue:{physical}"


def rq_job(job_id: str) -> str:
    return f"rq:job:{job_id}"


def rq_registry(kind: str, physical: str) -> str:
    """rq's registry keys: started is ``rq:wip:``, the others ``rq:<kind>:``."""
    return f"rq:wip:{physical}" if kind == "started" else f"rq:{kind}:{physical}"


def rq_worker(name: str) -> str:
    return f"rq:worker:{name}"


def rq_workers_of(physical: str) -> str:
    return f"rq:workers:{physical}"


def rq_results(job_id: str) -> str:
    return f"rq:results:{job_id}"


def rq_execution(job_id: str, execution_id: str) -> str:
    return f"rq:execution:{job_id}:{execution_id}"


def rq_executions(job_id: str) -> str:
    return f"rq:executions:{job_id}"


def paused(queue: str) -> str:
    """Present while `queue` is paused; workers take none of its jobs."""
    return f"lensops:paused:{queue}"


def wakeup(queue: str) -> str:
    """A short list of tokens pushed on enqueue; idle workers block on it instead of polling."""
    return f"lensops:wakeup:{queue}"


def failures() -> str:
    """Capped list of the most recent failures (JSON), newest first, for the dashboard."""
    return "lensops:failures"


def attempts(job_id: str) -> str:
    """List of JSON records, one per failed attempt (error, traceback, when, worker)."""
    return f"lensops:attempts:{job_id}"


def redis_resumed() -> str:
    """Sorted set with one member, "at": when Redis last came back after a lensops process lost it.

    The sweeper gives every worker `dead_after` seconds of reachable Redis after that moment before
    it reads a silent heartbeat as death (a worker that could not reach Redis is not dead).
    """
    return "lensops:redis:resumed"


def maintenance_lock(queue: str) -> str:
    """Held by the one worker doing the dead-job sweep for `queue` at a time."""
    return f"lensops:lock:sweep:{queue}"


def delivered(job_id: str) -> str:
    """Set once a handler's side effect (an accepted email) is done: a retry must not repeat it."""
    return f"lensops:done:{job_id}"


def delivery_in_doubt(job_id: str) -> str:
    """Set just before a side effect is committed (an email's final dot): if the worker dies before
    `delivered` is set, the retry cannot know whether it happened, and stops for an operator."""
    return f"lensops:sending:{job_id}"


LIMITER_PREFIX = "lensops:limits"


def stop_request(job_id: str) -> str:
    """Set by `lensops cancel` for a running job; its worker stops the job at the next heartbeat."""
    return f"lensops:stop:{job_id}"


def notification_items(user_id: str) -> str:
    """Hash: notification id -> the notification as JSON."""
    return f"lensops:notify:{{{user_id}}}:items"


def notification_timeline(user_id: str) -> str:
    """Sorted set of every stored notification id, scored by creation time (ms): newest last."""
    return f"lensops:notify:{{{user_id}}}:all"


def notification_unread(user_id: str) -> str:
    """Sorted set of the unread notification ids, scored like the timeline."""
    return f"lensops:notify:{{{user_id}}}:unread"


def notification_channel(user_id: str) -> str:
    """Pub/sub channel on which each new notification of the user is published as JSON."""
    return f"lensops:notify:{{{user_id}}}:live"


def schedule_last_run(name: str) -> str:
    """Epoch seconds up to which schedule `name`'s runs have been handled (enqueued, or skipped as
    missed, or not backfilled on a first start): where the next scheduler tick carries on."""
    return f"lensops:schedule:{name}:last"


def schedule_last_enqueued(name: str) -> str:
    """Hash of the latest run of schedule `name` that was enqueued: run_at, job_id, status, enqueued_at."""
    return f"lensops:schedule:{name}:enqueued"


def timings(queue: str, resolution: str, slot: int) -> str:
    """Hash of run/wait histograms and outcome counts of `queue`'s job types for one time slot.

    `resolution` is "m" (epoch minute, written as each job settles), "h" (epoch hour) or "d"
    (epoch day, UTC), the last two written by the roll-up. Fields are ``<type>|<metric>``.
    """
    return f"{timings_prefix(queue, resolution)}{slot}"


def timings_prefix(queue: str, resolution: str) -> str:
    """`timings` without its slot number (the Lua scripts append the slots they read)."""
    return f"lensops:timing:{queue}:{resolution}:"


def timings_total(queue: str) -> str:
    """Hash: every rolled-up hour of `queue` added together (monotonic, for Prometheus counters)."""
    return f"lensops:timing:{queue}:total"


def timings_rolled(queue: str) -> str:
    """The last epoch hour of `queue` whose minutes the roll-up has added to hours, days and total."""
    return f"lensops:timing:{queue}:rolled"
