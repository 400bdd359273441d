"""The ASGI application: routers, error handlers, middleware, OpenAPI."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from sqlalchemy import text

import quorum
from quorum.accounts.router import router as keys_router
from quorum.accounts.router import staff_router as accounts_staff_router
from quorum.api.blobfiles import InertBlobFiles
from quorum.api.errors import install_error_handlers
from quorum.api.middleware import ConcurrencyLimit, RawPathSegments, ReadBodyFirst
from quorum.api.ratelimit import login_limiters, request_limiter
from quorum.assist.jobs import ActiveLearningTrainer
from quorum.assist.router import learning_router as assist_learning_router
from quorum.assist.router import router as assist_router
from quorum.assist.router import worker_router as assist_worker_router
from quorum.audit.router import router as audit_router
from quorum.audit.router import staff_router as audit_staff_router
from quorum.blobs import BLOB_ROUTE
from quorum.callbacks.jobs import CallbackSender
from quorum.callbacks.router import router as callbacks_router
from quorum.db import create_db_engine, session_factory
from quorum.db.migrate import is_current
from quorum.dispatch import policy as dispatch_policy
from quorum.dispatch.hotpath import DispatchHotPath
from quorum.dispatch.jobs import LeaseSweeper
from quorum.dispatch.rounds import DispatchRounds
from quorum.dispatch.router import operator_router as dispatch_operator_router
from quorum.dispatch.router import staff_router as dispatch_staff_router
from quorum.dispatch.router import worker_router as dispatch_worker_router
from quorum.evaluation.router import owner_router as evaluation_owner_router
from quorum.evaluation.router import router as evaluation_router
from quorum.exports.jobs import ExportRunner
from quorum.exports.router import router as exports_router
from quorum.ops.metrics import DatabaseGauges
from quorum.ops.requests import RequestContext
from quorum.ops.router import router as ops_router
from quorum.outside import outside_client
from quorum.ownership.router import router as ownership_router
from quorum.payouts.router import operator_router as payouts_operator_router
from quorum.payouts.router import staff_router as payouts_staff_router
from quorum.payouts.router import worker_router as payouts_worker_router
from quorum.quality.jobs import QualityRefitter
from quorum.quality.router import router as quality_router
from quorum.quality.router import staff_router as quality_staff_router
from quorum.review.router import operator_router as review_operator_router
from quorum.review.router import reviewer_router
from quorum.settings import Settings, get_settings
from quorum.tasks.ingest_router import router as ingest_router
from quorum.tasks.router import DOCUMENTED_SCHEMAS
from quorum.tasks.router import router as tasks_router
from quorum.web.router import router as web_router
from quorum.web.worker import router as worker_pages_router
from quorum.workforce.router import operator_router as workforce_operator_router
from quorum.workforce.router import staff_router as workforce_staff_router
from quorum.workforce.router import worker_router as workforce_worker_router

STATIC = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for these settings (the database is expected to be migrated); refuses the
    public default secret key outside the demo and tests."""
    settings = settings or get_settings()
    settings.refuse_default_secret()
    engine = create_db_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    sessions = session_factory(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        """Background loops live as long as the server: the callback sender and periodic jobs."""
        # Sync endpoints run in these threads; beyond a few per core they only contend for the GIL.
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        sender = CallbackSender(settings, sessions) if settings.callback_sender else None
        if sender is not None:
            sender.start()
        jobs = [
            job_class(sessions, interval)
            for job_class, interval in (
                (LeaseSweeper, settings.lease_sweep_seconds),
                (ActiveLearningTrainer, settings.active_learning_seconds),
                (QualityRefitter, settings.quality_refit_seconds),
            )
            if interval > 0
        ]
        if settings.export_poll_seconds > 0:
            jobs.append(ExportRunner(settings, sessions))
            app.state.export_runner = jobs[-1]
        for job in jobs:
            job.start()
        try:
            yield
        finally:
            for job in jobs:
                job.stop()
            if sender is not None:
                sender.stop()
            app.state.model_client.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Quorum",
        version=quorum.__version__,
        description="Data labeling with a Scale-compatible API. Authenticate with HTTP Basic "
        "(API key as user name, empty password) or `Authorization: Bearer <key>`.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = sessions
    app.state.export_runner = None
    # Model endpoints are tenants' URLs: one guarded client for all, reusing its connections.
    app.state.model_client = outside_client(settings, purpose="Models")
    app.state.rate_limiter = request_limiter(settings, engine)
    app.state.login_limiters = login_limiters(settings, engine)
    app.state.dispatch_rounds = DispatchRounds(
        sessions, admit=lambda worker_id: dispatch_policy.admit(app.state.rate_limiter, worker_id)
    )
    app.state.work_metrics = CollectorRegistry()
    app.state.work_metrics.register(DatabaseGauges(engine))
    install_error_handlers(app)
    # Routes are tried in order, and each route tried costs about 5 us of CPU (FastAPI keeps
    # included routers apart and matches each route with its own context). So the routes of
    # most requests come first: the workers' next and submit, through the API and through the
    # worker pages.
    app.include_router(dispatch_worker_router)
    app.include_router(worker_pages_router)
    app.include_router(tasks_router)
    app.include_router(keys_router)
    app.include_router(callbacks_router)
    app.include_router(ingest_router)
    app.include_router(exports_router)
    app.include_router(audit_router)
    app.include_router(ownership_router)
    app.include_router(ops_router)
    app.include_router(quality_router)
    app.include_router(review_operator_router)
    app.include_router(reviewer_router)
    for router in (
        workforce_operator_router,
        workforce_worker_router,
        dispatch_operator_router,
        payouts_operator_router,
        payouts_worker_router,
        evaluation_router,
        evaluation_owner_router,
        assist_router,
        assist_learning_router,
        assist_worker_router,
        # Platform staff (operators): the public pool, shared projects' gold, platform pay.
        accounts_staff_router,
        audit_staff_router,
        workforce_staff_router,
        dispatch_staff_router,
        quality_staff_router,
        payouts_staff_router,
    ):
        app.include_router(router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    blobs = InertBlobFiles(directory=settings.home / "blobs", check_dir=False)
    app.mount(BLOB_ROUTE, blobs, name="blobs")

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        """The database answers and its schema is at the newest migration."""
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            current = is_current(engine)
        except Exception as exc:  # a readiness probe reports, it does not raise
            return JSONResponse(
                {"status_code": 503, "error": f"database unreachable: {exc.__class__.__name__}"},
                status_code=503,
            )
        if not current:
            return JSONResponse(
                {"status_code": 503, "error": "database schema is not at the newest migration"},
                status_code=503,
            )
        return JSONResponse({"status": "ready"})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(DOCUMENTED_SCHEMAS)
            schema["components"]["securitySchemes"] = {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            }
            schema["security"] = [{"basic": []}, {"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(DispatchHotPath, router=dispatch_worker_router)  # type: ignore[arg-type]
    app.add_middleware(ConcurrencyLimit, limit=settings.requests_in_flight)
    # Outside the request slots: a request takes one only once its body has arrived.
    app.add_middleware(
        ReadBodyFirst,  # type: ignore[arg-type]
        max_bytes=settings.max_body_bytes,
        timeout_s=settings.body_timeout_seconds,
        grace_s=settings.body_grace_seconds,
        min_bytes_per_s=settings.body_min_bytes_per_second,
        buffer_bytes=settings.body_buffer_bytes,
    )
    app.add_middleware(RequestContext)
    app.add_middleware(RawPathSegments)
    return app


# A server allocates and frees many short-lived objects a request (ORM rows, pydantic models,
# SQL parameters); at the default threshold of 700, a collection of the youngest objects ran
# every few requests and, every hundred of those, one of everything loaded. Measured on the
# dispatch bench: p99 latency 230 -> 90 ms, API CPU per cycle 1.6 -> 1.1 ms.
YOUNG_COLLECTION_THRESHOLD = 50_000


def create_app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` (each worker process builds its own app).

    The objects built so far (modules, the app, its routes) live as long as the process: frozen,
    the garbage collector no longer walks them in every full collection."""
    app = create_app(get_settings())
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, 20, 20)
    return app
