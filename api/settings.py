"""One Settings object for the service, from the environment (RANDINSPECT_*)."""

from __future__ import annotations

from functools import lru_cache

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
