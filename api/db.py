"""Engine and sessions (SQLAlchemy 2). SQLite gets WAL and a busy timeout so that the
background draw and the request handlers can write without 'database is locked'."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # FastAPI runs sync endpoints on up to 40 threads, and a session's connection goes back to
        # the pool only after the response: the pool must hold more than that, or requests wait
        # on each other's clean-up.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=48, max_overflow=32
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None  # let SQLAlchemy issue BEGIN itself
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            # Writers take the write lock up front (no failed lock upgrade halfway); readers do not.
            immediate = conn.get_execution_options().get("immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=30)  # > 40 threads, < 100 server connections per 2 workers


def session_factory(engine: Engine, write: bool = False) -> sessionmaker[Session]:
    """Sessions for reading, or (``write``) for transactions that change data: on SQLite those
    take the write lock when they begin; PostgreSQL needs nothing special."""
    bind = engine.execution_options(immediate=True) if write else engine
    return sessionmaker(bind, expire_on_commit=False)


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session
