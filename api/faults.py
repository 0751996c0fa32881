"""The database being away is a 503, never a 500: :func:`is_database_down` tells such an error
from others, :func:`database_unavailable` is the answer (with ``Retry-After``), and
:func:`database_name` names the database in it without its password."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

RETRY_AFTER_SECONDS = 30


def is_database_down(exc: BaseException) -> bool:
    """A connection-level failure of the database (refused, dropped, locked, timed out)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def database_name(url: str) -> str:
    """``postgresql+psycopg://host:port/db`` without user and password."""
    try:
        u = make_url(url)
    except Exception:  # noqa: BLE001 - a name only
        return "the database"
    if u.drivername.startswith("sqlite"):
        return f"sqlite {u.database or ':memory:'}"
    return f"{u.get_backend_name()} {u.host or ''}{f':{u.port}' if u.port else ''}/{u.database or ''}"


def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 naming the database (the cause's first line goes to the log, not to the client)."""
    name = database_name(request.app.state.settings.database_url)
    return JSONResponse(
        status_code=503,
        content={"detail": f"the database is unreachable ({name}); try again later", "database": name},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
