"""What operators read and do, shared by the CLI, the dashboard and any other front end: the
one-round-trip snapshot, job lookup, health, and the actions (retry, purge, cancel, pause)."""
