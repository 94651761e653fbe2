"""The engine: what moves jobs. Job types and enqueue, the worker and its supervised pool, how each
outcome is written, the Lua that makes each step one round trip, the spool, rate limits and the
scheduler. It never imports the operator layer (`lensops.ops`) or the terminal shells."""
