"""Running the API under uvicorn, after refusing configurations that would expose it.

With no token configured the server starts only where nobody else can reach it: a loopback address
or a unix socket (whose file permissions decide who may connect). Actions need an admin token.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from lensops.config import Settings
from lensops.serve.auth import ENV_NAME, TokenTable, load_tokens
from lensops.serve.settings import ServeSettings


class ServeRefused(Exception):
    """The server will not start like this; the message says why and what to do instead."""


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    socket: Path | None = None

    def __str__(self) -> str:
        return f"unix:{self.socket}" if self.socket else f"http://{self.host}:{self.port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure(listen: Listen, tokens: TokenTable, allow_actions: bool) -> None:
    """Raise ServeRefused when `listen` without tokens would let others in, or actions lack an admin."""
    if not tokens and listen.socket is None and not is_loopback(listen.host):
        raise ServeRefused(
            f"refusing to serve on {listen.host} without API tokens: set {ENV_NAME} (role:token,...) "
            "or [serve] tokens_file, or bind to 127.0.0.1 or a unix socket"
        )
    if allow_actions and not tokens.has_admin:
        raise ServeRefused("--allow-actions needs an admin token (admin:<token> in the API tokens)")


def prepare(
    settings: Settings, serve: ServeSettings, listen: Listen, allow_actions: bool, environ: dict[str, str] | None = None
) -> TokenTable:
    """The tokens to serve with, once the exposure checks pass. Raises TokenError, ServeRefused."""
    env = os.environ if environ is None else environ
    tokens = load_tokens(env.get(ENV_NAME), serve.tokens_file)
    check_exposure(listen, tokens, allow_actions)
    return tokens


def run(
    settings: Settings,
    serve: ServeSettings,
    listen: Listen,
    tokens: TokenTable,
    *,
    allow_actions: bool,
    public_probes: bool,
    verbose: bool = False,
) -> None:
    """Serve until SIGTERM/SIGINT (uvicorn's graceful shutdown)."""
    import uvicorn

    from lensops.redis.connection import connect
    from lensops.serve.app import ServeOptions, create_app

    connection = connect(settings)
    options = ServeOptions(tokens, allow_actions=allow_actions, public_probes=public_probes, serve=serve)
    app = create_app(settings, connection, options)
    logging.getLogger("lensops").info("lensops serve on %s", listen)
    config = uvicorn.Config(
        app,
        host=listen.host,
        port=listen.port,
        uds=str(listen.socket) if listen.socket else None,
        log_level="info" if verbose else "warning",
        access_log=verbose,
        server_header=False,
        proxy_headers=False,
    )
    uvicorn.Server(config).run()
