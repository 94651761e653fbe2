"""lensops: background jobs for an optical-lens lab, on rq 2.x and Redis.

The host application needs only::

    import lensops
    job_id = lensops.enqueue("email.order_confirmation", {...}, priority="high")

Heavy modules are imported on first use so that `import lensops` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lensops.registry import JobContext, PayloadError, PermanentError, UnknownJobType

__version__ = "0.1.0"
__all__ = [
    "JobContext",
    "PayloadError",
    "PermanentError",
    "UnknownJobType",
    "__version__",
    "enqueue",
    "enqueue_at",
    "enqueue_in",
]

if TYPE_CHECKING:
    from lensops.producer import enqueue, enqueue_at, enqueue_in


def __getattr__(name: str) -> Any:
    if name in ("enqueue", "enqueue_in", "enqueue_at"):
        from lensops import producer as module

        return getattr(module, name)
    raise AttributeError(f"module 'lensops' has no attribute {name!r}")
