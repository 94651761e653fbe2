"""The live dashboard (Textual). Importing this package is cheap: textual loads in `run_dashboard`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

    from lensops.config import Settings


def run_dashboard(
    settings: Settings, connection: redis.Redis, *, refresh: float = 1.0, read_only: bool = False
) -> None:
    """Run the dashboard in this terminal until the operator quits."""
    from lensops.tui.app import DashboardApp
    from lensops.tui.source import RedisSource

    DashboardApp(RedisSource(settings, connection), refresh=refresh, read_only=read_only).run()
