"""The no-op function plain rq runs in the baseline (importable by rq's workers)."""


def noop(n: int = 0) -> int:
    return n
