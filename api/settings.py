"""One Settings object for the service, from the environment (RANDINSPECT_*)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """``RANDINSPECT_DATABASE_URL``: SQLite file by default, PostgreSQL in production
    (``postgresql+psycopg://user@host/db``)."""

    model_config = SettingsConfigDict(env_prefix="RANDINSPECT_", env_file=None)

    database_url: str = "sqlite:///./randinspect.db"
    token_hours: int = 12
    draw_workers: int = 1
    # Where a draw's independent parts run: local, processes[:N] or dask://HOST:PORT
    # (RANDINSPECT_EXECUTOR; see scheduler/executor.py). The results do not depend on it.
    executor: str = "local"

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, value: str) -> str:
        from scheduler.executor import check_spec

        check_spec(value)
        return value

    # A draw whose worker has not reported for this long is considered dead (server killed).
    draw_heartbeat_seconds: int = 30

    # ---- security limits (README "Security"): each refuses before the work is done
    # The service's own data folder: its temporary files live in DATA_DIR/tmp (mode 0700), and
    # leftovers of dead processes are removed at start-up. Default: next to a SQLite database
    # file (``<stem>-data``), else ``~/.local/share/randinspect``.
    data_dir: str | None = None
    # A request body larger than this is refused with 413 before it is read.
    max_request_bytes: int = 200 * 1024 * 1024
    # An uploaded .xlsx whose parts unpack to more than this, or more than ``max_xlsx_ratio``
    # times its compressed size, is refused (422 naming the file) before it is opened.
    max_xlsx_uncompressed_bytes: int = 256 * 1024 * 1024
    max_xlsx_ratio: int = 100
    # Rows per uploaded table (any format); .xlsx, parsed cell by cell, has its own lower limit.
    max_table_rows: int = 2_000_000
    max_xlsx_rows: int = 200_000
    # Parquet: the columns' uncompressed size, from the file's footer, before reading.
    max_parquet_uncompressed_bytes: int = 1024 * 1024 * 1024
    # Throttling (api.throttle): per fixed window, failures (or uploads) per client address and per
    # account / credit code; past a limit, 429 with Retry-After until the window ends.
    throttle: bool = True
    throttle_window_seconds: int = 900
    login_failures_per_client: int = 30
    login_failures_per_account: int = 10
    enterprise_failures_per_client: int = 30
    enterprise_failures_per_code: int = 10
    uploads_per_client: int = 60
    uploads_per_account: int = 30
    # Interactive API documentation at /docs and /redoc (served from the bundled swagger-ui
    # assets, never a CDN); off: the documentation pages answer 404, /openapi.json stays.
    docs: bool = True


def data_folder(settings: Settings) -> Path:
    """The service's own data folder (see ``Settings.data_dir``)."""
    if settings.data_dir:
        return Path(settings.data_dir)
    url = settings.database_url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        db = Path(url.removeprefix("sqlite:///"))
        return db.with_name(db.stem + "-data")
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "randinspect"


@lru_cache
def get_settings() -> Settings:
    return Settings()
