"""The rq job hash a lensops job is written as, prepared without building rq objects.

rq reads a job from its hash (`Job.fetch`, `rq info`, rq-dashboard); it needs `data`, `origin`,
`status`, the timestamps and, for lensops' retries and TTLs, a few more fields. Everything that
depends only on the job type, queue and priority is encoded once per producer (`statics`); per job
only the id, the data and the time are new. The ENQUEUE scripts write the fields in one round trip.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from functools import cache

from lensops.config import Settings
from lensops.engine import keys
from lensops.engine.outcomes import iso
from lensops.engine.runtime import DISPATCH

# Below this many bytes the data is stored as plain JSON (rq reads both): compressing a small
# payload costs more time than it saves memory.
COMPRESS_FROM = 1024


@dataclass(frozen=True, slots=True)
class PreparedJob:
    """A validated job, ready to be written: its fields as the scripts take them."""

    id: str
    type_name: str
    queue: str
    priority: str
    due: float | None  # epoch seconds for a delayed job
    payload_json: bytes  # the validated payload, as stored (JSON)
    statics: str  # JSON list of the fields shared by every job of its type, queue and priority

    @property
    def physical(self) -> str:
        return keys.physical_queue(self.queue, self.priority)

    @property
    def data(self) -> bytes:
        """rq's `data` field: the call rq records, (function, instance, args, kwargs), as JSON."""
        raw = _call_head(self.type_name) + self.payload_json + b"],{}]"
        return zlib.compress(raw) if len(raw) >= COMPRESS_FROM else raw


@cache
def _call_head(type_name: str) -> bytes:
    return f'["{DISPATCH}",null,[{json.dumps(type_name)},'.encode()


def statics(settings: Settings, type_name: str, queue: str, priority: str) -> str:
    """The hash fields every job of (type, queue, priority) shares, as a JSON list of strings."""
    policy = settings.queue(queue)
    fields = {
        "origin": keys.physical_queue(queue, priority),
        "description": type_name,
        "timeout": str(int(policy.timeout)),
        "result_ttl": str(int(policy.keep_finished)),
        "failure_ttl": str(int(policy.keep_failed)),
        "meta": json.dumps({"type": type_name, "priority": priority, "queue": queue}),
    }
    if policy.retries:
        fields["retries_left"] = str(policy.retries)
        fields["retry_intervals"] = json.dumps(policy.retry_delays())
    return json.dumps([item for pair in fields.items() for item in pair])


def now_iso() -> str:
    """The enqueue time in rq's format (created_at and enqueued_at)."""
    return iso(time.time())
