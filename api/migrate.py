"""Bring a database to the current schema with Alembic (run by ``randinspect serve`` at start).

Several server workers may start at once on an empty database: the upgrade runs under a lock
(a PostgreSQL advisory lock; for SQLite a file lock beside the database), so exactly one
applies the migrations and the others find them done.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, make_url, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 7_272_717  # any fixed number: the advisory lock's name


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@contextlib.contextmanager
def _sqlite_lock(url: str) -> Iterator[None]:
    database = make_url(url).database
    if not database or database == ":memory:":
        yield
        return
    lock = Path(database).with_name(Path(database).name + ".migrate-lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def upgrade(url: str) -> None:
    """Apply every migration not yet applied (idempotent, safe to run concurrently)."""
    cfg = alembic_config(url)
    if url.startswith("sqlite"):
        with _sqlite_lock(url):
            command.upgrade(cfg, "head")
        return
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
