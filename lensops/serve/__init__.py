"""`lensops serve`: the read-only HTTP API, Prometheus metrics and the optional operator actions."""
