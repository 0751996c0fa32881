"""The randinspect service: ``create_app()``; ``randinspect serve`` runs it with uvicorn."""

from __future__ import annotations

import logging
import math
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.background import BackgroundTask

from api.db import make_engine, session_factory
from api.faults import database_unavailable, is_database_down
from api.headers import SecurityHeaders, docs_routes, install_log_filter
from api.migrate import upgrade
from api.routers import (
    audit,
    auth,
    draws,
    exports,
    health,
    notices,
    plans,
    public,
    recusals,
    registries,
    results,
    visits,
)
from api.settings import Settings, get_settings
from api.throttle import prune_counts
from api.uploads import BodyLimit, release_memory, use_work_dir
from scheduler.errors import InfeasibleError, InputError

log = logging.getLogger("randinspect")

MAX_PROBLEMS_SHOWN = 1000
"""A 422 lists at most this many problems, then counts the rest (``more_problems``)."""


def _safe(value):
    """JSON-safe copy: non-finite floats and unencodable strings become text."""
    if isinstance(value, dict):
        return {str(_safe(k)): _safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        upgrade(settings.database_url)
        from api.jobs import recover_interrupted_draws

        with use_work_dir(settings):  # temporary files in DATA_DIR/tmp; dead processes' removed
            prune_counts(app)
            recover_interrupted_draws(app)
            yield
            app.state.jobs.shutdown(wait=True)
            app.state.engine.dispose()

    app = FastAPI(
        title="randinspect",
        version="0.1.0",
        description="双随机、一公开: provably random market-supervision inspection plans",
        lifespan=lifespan,
        docs_url=None,  # /docs is served from bundled assets (api.headers.docs_routes), never a CDN
        redoc_url=None,  # ReDoc would need a CDN: off
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.read_sessions = session_factory(engine)
    app.state.write_sessions = session_factory(engine, write=True)
    from concurrent.futures import ThreadPoolExecutor

    app.state.jobs = ThreadPoolExecutor(max_workers=settings.draw_workers, thread_name_prefix="draw")

    @app.exception_handler(InputError)
    async def input_error(_request: Request, exc: InputError) -> JSONResponse:
        problems = [
            {"file": p.file, "row": p.row, "column": p.column, "message": p.message, "text": str(p)}
            for p in exc.problems[:MAX_PROBLEMS_SHOWN]
        ]
        content = {"detail": "bad input", "problems": problems}
        if len(exc.problems) > MAX_PROBLEMS_SHOWN:  # a file bad on every row must not make a huge answer
            content["more_problems"] = len(exc.problems) - MAX_PROBLEMS_SHOWN
        # after the answer, the memory the refused input's parsing used goes back to the system
        return JSONResponse(status_code=422, content=content, background=BackgroundTask(release_memory))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's 422, made safe to serialise: the echoed input may hold NaN or a lone
        surrogate, which would otherwise turn the 422 into a 500."""
        return JSONResponse(status_code=422, content={"detail": _safe(exc.errors())})

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        """The database unreachable: 503 naming it, with Retry-After (never a 500)."""
        if not is_database_down(exc):
            raise exc
        log.error("database unreachable on %s %s: %s", request.method, request.url.path, str(exc).splitlines()[0])
        return database_unavailable(request, exc)

    @app.exception_handler(InfeasibleError)
    async def infeasible(_request: Request, exc: InfeasibleError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": "infeasible", "reasons": exc.reasons})

    for module in (health, auth, registries, plans, draws, exports, visits, recusals, results, public, notices, audit):
        app.include_router(module.router, prefix="/api")

    from fastapi.staticfiles import StaticFiles

    from api.web import HERE as WEB
    from api.web import router as pages

    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    build = app.build_middleware_stack  # the headers outside everything, Starlette's 500 included
    app.build_middleware_stack = lambda: SecurityHeaders(build())
    install_log_filter()
    if settings.docs:
        docs_routes(app)
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    app.include_router(pages())
    return app
