"""The HTTP API as a FastAPI app over lensops' read-only data layer (and its actions, when allowed).

Every document is what the CLI's ``--json`` prints (ops.reports, ops.lookup, ops.history). Every
route needs a bearer token (viewer for reads, admin for actions) unless the server runs without
tokens on loopback (then callers may read, never act) or /metrics and health were opened to
scrapers. Errors are ``{"error": "..."}`` with 401/403/404/409/503, never a stack trace; a Redis
URL appears only masked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

import redis
from fastapi import Depends, FastAPI, Path, Query, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from lensops.config import Settings
from lensops.durations import parse_duration
from lensops.ops import actions, control
from lensops.ops.health import HealthThresholds
from lensops.ops.history import collect_history
from lensops.ops.lookup import job_detail, list_jobs
from lensops.ops.reports import health_document, info_document, stats_document
from lensops.ops.snapshot import collect_snapshot
from lensops.redis.connection import describe
from lensops.redis.urls import mask_url
from lensops.serve import schemas
from lensops.serve.auth import TokenTable, allows, bearer
from lensops.serve.settings import ServeSettings

log = logging.getLogger("lensops.serve")

QueueName = Literal["email", "pdf", "notification", "ai", "oma", "scheduled", "system"]  # config.QUEUE_NAMES
StateName = Literal["queued", "started", "scheduled", "deferred", "finished", "failed", "canceled"]
RangeName = Literal["1h", "24h", "7d", "90d"]
_ERROR = {"model": schemas.ErrorDocument}
_READ_ERRORS: dict[int | str, dict[str, Any]] = {401: _ERROR, 503: _ERROR}
_ACTION_ERRORS: dict[int | str, dict[str, Any]] = {401: _ERROR, 403: _ERROR, 404: _ERROR, 409: _ERROR, 503: _ERROR}
_bearer = HTTPBearer(auto_error=False, description="A token of LENSOPS_API_TOKENS or [serve] tokens_file")


@dataclass(frozen=True)
class ServeOptions:
    tokens: TokenTable
    allow_actions: bool = False
    public_probes: bool = False
    serve: ServeSettings = field(default_factory=ServeSettings)


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _options(request: Request) -> ServeOptions:
    return request.app.state.options  # type: ignore[no-any-return]


def _role(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str:
    tokens = _options(request).tokens
    if not tokens:
        return "viewer"  # no tokens: only possible on loopback or a unix socket; reading only
    if credentials is None:
        raise ApiError(401, "a bearer token is required (Authorization: Bearer <token>)")
    granted = tokens.role_of(credentials.credentials)
    if granted is None:
        raise ApiError(401, "the bearer token is not valid")
    return granted


def viewer(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]) -> str:
    """Any valid token (every read)."""
    return _role(request, credentials)


def probe(request: Request) -> None:
    """/metrics and health: a token unless the server opened them to scrapers."""
    if not _options(request).public_probes:
        _role(request, _bearer_credentials(request))


def admin(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]) -> str:
    """An admin token, on a server that allows actions."""
    granted = _role(request, credentials)
    if not _options(request).allow_actions:
        raise ApiError(403, "actions are disabled: start lensops serve with --allow-actions")
    if not allows(granted, "admin"):
        raise ApiError(403, "this action needs an admin token")
    return granted


Viewer = Annotated[str, Depends(viewer)]
Admin = Annotated[str, Depends(admin)]


def create_app(settings: Settings, connection: redis.Redis, options: ServeOptions) -> FastAPI:
    """The app; `connection` is shared by the worker threads that run the (synchronous) routes."""
    from lensops import __version__

    app = FastAPI(
        title="lensops",
        version=__version__,
        description="The lens lab's background jobs: queue statistics, health, jobs, history and metrics.",
        openapi_url=None,  # served below, behind the same tokens as everything else
        docs_url=None,
        redoc_url=None,
    )
    where = describe(connection)

    @app.exception_handler(ApiError)
    def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _error(exc.status, str(exc), headers)

    @app.exception_handler(StarletteHTTPException)
    def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(redis.RedisError)
    def _redis_error(_request: Request, exc: redis.RedisError) -> JSONResponse:
        return _error(503, f"Redis unreachable at {where}: {mask_url(str(exc)).splitlines()[0]}")

    @app.exception_handler(Exception)
    def _internal_error(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("request failed", exc_info=exc)  # the trace goes to the log, never to the caller
        return _error(500, "internal error (the server's log has the details)")

    app.state.options = options

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_role: Viewer) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/queue/stats", response_model=schemas.StatsDocument, responses=_READ_ERRORS)
    def stats(_role: Viewer) -> JSONResponse:
        """Queues by state, workers and recent failures: `lensops stats --json`, one round trip."""
        return JSONResponse(stats_document(collect_snapshot(connection, settings)))

    @app.get(
        "/api/queue/health",
        response_model=schemas.HealthDocument,
        responses={**_READ_ERRORS, 400: _ERROR, 503: {"model": schemas.HealthDocument}},
        dependencies=[Depends(probe)],
    )
    def health(
        max_latency: Annotated[str | None, Query(description="Oldest queued job older than this: stuck")] = None,
        max_failure_rate: Annotated[float | None, Query(ge=0, le=1)] = None,
        require_workers: bool | None = None,
    ) -> JSONResponse:
        """`lensops health --json`: 200 when healthy, 503 when not (with the reasons)."""
        defaults = options.serve
        try:
            latency = parse_duration(max_latency) if max_latency else defaults.max_latency
        except ValueError as exc:
            raise ApiError(400, f"max_latency: {exc}") from None
        thresholds = HealthThresholds(
            latency,
            defaults.max_failure_rate if max_failure_rate is None else max_failure_rate,
            require_workers=defaults.require_workers if require_workers is None else require_workers,
        )
        document = health_document(connection, settings, thresholds)
        return JSONResponse(document, status_code=200 if document["healthy"] else 503)

    @app.get("/api/queue/info", response_model=schemas.InfoDocument, responses=_READ_ERRORS)
    def info(_role: Viewer) -> JSONResponse:
        """Versions, the Redis server (URL masked) and every queue's configuration: `lensops info --json`."""
        return JSONResponse(info_document(connection, settings))

    @app.get("/api/queue/jobs", response_model=schemas.JobsDocument, responses=_READ_ERRORS)
    def jobs(
        _role: Viewer,
        queue: QueueName | None = None,
        state: StateName | None = None,
        type_name: Annotated[str | None, Query(alias="type", max_length=200)] = None,
        q: Annotated[str | None, Query(description="Text in the job id, type or payload", max_length=200)] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    ) -> JSONResponse:
        """Jobs newest first, a page at a time: `lensops jobs --json`."""
        result = list_jobs(
            connection,
            queues=[queue] if queue else None,
            states=[state] if state else None,
            type_name=type_name,
            search=q,
            limit=limit,
            offset=(page - 1) * limit,
        )
        jobs = [asdict(job) for job in result.jobs]
        return JSONResponse({"page": page, "limit": limit, "more": result.more, "jobs": jobs})

    @app.get("/api/queue/jobs/{job_id}", response_model=schemas.JobDocument, responses={**_READ_ERRORS, 404: _ERROR})
    def job(_role: Viewer, job_id: Annotated[str, Path(max_length=200)]) -> JSONResponse:
        """Everything about one job: `lensops job ID --json`."""
        detail = job_detail(connection, job_id)
        if detail is None:
            raise ApiError(404, f"no job with id {job_id!r} (it may have expired)")
        return JSONResponse(asdict(detail))

    @app.get("/api/queue/history", response_model=schemas.HistoryDocument, responses=_READ_ERRORS)
    def history(
        _role: Viewer,
        queue: QueueName | None = None,
        range_name: Annotated[RangeName, Query(alias="range")] = "24h",
    ) -> JSONResponse:
        """Run and wait percentiles, processed, failed and failure rate per queue and type, with a
        series of slots (minutes for 1h, hours for 24h and 7d, days for 90d)."""
        document = collect_history(connection, range_name, [queue] if queue else None).to_json()
        return JSONResponse(document)

    @app.post("/api/queue/jobs/{job_id}/retry", response_model=schemas.RetryDocument, responses=_ACTION_ERRORS)
    def retry(_role: Admin, job_id: Annotated[str, Path(max_length=200)]) -> JSONResponse:
        """Requeue a failed job with a fresh attempt budget (admin; --allow-actions)."""
        report = actions.retry_jobs(connection, settings, [job_id])
        why = report.refused.get(job_id)
        if why == "unknown job id":
            raise ApiError(404, f"no job with id {job_id!r}")
        if why:
            raise ApiError(409, f"not retried: {why}")
        log.warning("api: job %s retried", job_id)
        return JSONResponse({"retried": report.retried, "not_retried": report.refused})

    @app.post("/api/queue/jobs/{job_id}/cancel", response_model=schemas.CancelDocument, responses=_ACTION_ERRORS)
    def cancel(_role: Admin, job_id: Annotated[str, Path(max_length=200)]) -> JSONResponse:
        """Cancel a waiting job, or ask the worker running it to stop it (admin; --allow-actions)."""
        outcome = actions.cancel(connection, settings, job_id)
        if outcome == "unknown job id":
            raise ApiError(404, f"no job with id {job_id!r}")
        if outcome not in ("canceled", "stopping"):
            raise ApiError(409, f"not canceled: {outcome}")
        log.warning("api: job %s %s", job_id, outcome)
        return JSONResponse({"id": job_id, "outcome": outcome})

    @app.post("/api/queue/{queue}/pause", response_model=schemas.PauseDocument, responses=_ACTION_ERRORS)
    def pause(_role: Admin, queue: QueueName) -> JSONResponse:
        """Stop workers taking the queue's jobs; running ones finish (admin; --allow-actions)."""
        changed = control.pause(connection, queue)
        log.warning("api: queue %s paused", queue)
        return JSONResponse({"queue": queue, "paused": True, "changed": changed})

    @app.post("/api/queue/{queue}/resume", response_model=schemas.PauseDocument, responses=_ACTION_ERRORS)
    def resume(_role: Admin, queue: QueueName) -> JSONResponse:
        """Let workers take the queue's jobs again (admin; --allow-actions)."""
        changed = control.resume(connection, queue)
        log.warning("api: queue %s resumed", queue)
        return JSONResponse({"queue": queue, "paused": False, "changed": changed})

    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from lensops.serve.metrics import metrics_registry

    registry = metrics_registry(connection, settings)

    @app.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, 401: _ERROR},
        dependencies=[Depends(probe)],
    )
    def metrics() -> Response:
        """Prometheus exposition: job counts, workers, rate limits, spool, run and wait histograms."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _bearer_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    token = bearer(request.headers.get("authorization"))
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token) if token else None
