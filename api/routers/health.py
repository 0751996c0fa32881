"""Health check: the service answers and its database is reachable."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"description": "the database is unreachable (named)"}})
def health(session: SessionDep) -> dict:
    session.execute(text("SELECT 1"))  # unreachable → 503 naming the database (api.faults, api.main)
    return {"status": "ok"}
