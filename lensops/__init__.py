"""lensops: background jobs for an optical-lens lab, on rq 2.x and Redis.

The host application needs only::

    import lensops
    job_id = lensops.enqueue("email.order_confirmation", {...}, priority="high")

Heavy modules are imported on first use so that `import lensops` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    "enqueue_many",
]

if TYPE_CHECKING:
    from lensops.engine.producer import enqueue, enqueue_at, enqueue_in, enqueue_many
    from lensops.engine.registry import JobContext, PayloadError, PermanentError, UnknownJobType

_LAZY = {
    "enqueue": "lensops.engine.producer",
    "enqueue_in": "lensops.engine.producer",
    "enqueue_at": "lensops.engine.producer",
    "enqueue_many": "lensops.engine.producer",
    "JobContext": "lensops.engine.registry",
    "PayloadError": "lensops.engine.registry",
    "PermanentError": "lensops.engine.registry",
    "UnknownJobType": "lensops.engine.registry",
}


def __getattr__(name: str) -> Any:
    # Lazy, so that `import lensops` (and `lensops --help`) does not pay for pydantic and rq.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lensops' has no attribute {name!r}")
