"""Draws: start the draw of a plan (a background job), follow its progress, list a plan's draws.

Exactly one draw of a plan runs at a time, whatever the number of server processes and on both
SQLite and PostgreSQL: starting a draw is one conditional UPDATE of the plan's status checked by
its row count, in one short write transaction (SQLite: ``BEGIN IMMEDIATE`` serialises writers;
PostgreSQL: the UPDATE takes the row's lock and re-checks its WHERE after the other transaction
commits). A drawn plan is drawn again only with a reason, which the record keeps.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update

from api import audit_store
from api.deps import Planner, PlannerOrAuditor, SessionDep, WriteSessionDep
from api.jobs import recover_interrupted_draws, submit_draw
from api.models import DrawRecord, PlanRecord, utcnow
from api.routers.plans import PlanId
from api.routers.registries import AUTH, CONFLICT, MAX_ID, NOT_FOUND, Message, SafeText, not_found

router = APIRouter(tags=["draws"])

DrawId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="the draw's id")]


class DrawBase(BaseModel):
    seed: SafeText = Field(
        min_length=1, max_length=128, description="the seed (a test draw: typed by the planner)"
    )
    reason: SafeText | None = Field(
        None, max_length=2000, description="why the plan is drawn again (required for a re-draw; recorded)"
    )


class DrawCreate(DrawBase):
    pass


class DrawPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plan_id: int
    number: int = Field(description="1 for the plan's first draw, 2 for its first re-draw, …")
    status: str = Field(description="running, done or failed")
    stage: str = Field(
        description="queued, materialise, import, draw, staffing, dates, outputs, storing, done, failed"
    )
    progress: float = Field(ge=0, le=1)
    seed: str
    seed_kind: str
    reason: str
    error: str = Field(description="why the draw failed (infeasible: the task, the rule and the numbers)")
    requested_by: str
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    finished_at: dt.datetime | None
    visits: int | None = Field(None, description="visits drawn (when done)")
    exclusions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="per task (when done): enterprises in the jurisdiction, excluded as not active, by industry, "
        "by risk class, by entity type, the population, excluded by dedup (history, plan) and the frequency cap, "
        "and the frame drawn from (the manifest's facts.exclusions; the draw's report shows them too)",
    )


def draw_public(d: DrawRecord) -> DrawPublic:
    facts = (d.manifest or {}).get("facts", {}) if d.status == "done" else {}
    return DrawPublic(
        id=d.id,
        plan_id=d.plan_id,
        number=d.number,
        status=d.status,
        stage=d.stage,
        progress=d.progress,
        seed=d.seed,
        seed_kind=d.seed_kind,
        reason=d.reason,
        error=d.error,
        requested_by=d.requested_by,
        started_at=d.started_at,
        heartbeat_at=d.heartbeat_at,
        finished_at=d.finished_at,
        visits=facts.get("visits"),
        exclusions=facts.get("exclusions") or [],
    )


def _flip(session, plan_id: int, from_status: str) -> bool:
    """The one conditional UPDATE that decides who draws: True for exactly one caller."""
    return (
        session.execute(
            update(PlanRecord)
            .where(PlanRecord.id == plan_id, PlanRecord.status == from_status)
            .values(status="drawing", version=PlanRecord.version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


@router.post(
    "/plans/{plan_id}/draws",
    response_model=DrawPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **AUTH,
        **NOT_FOUND,
        **CONFLICT,
        503: {"model": Message, "description": "the server is stopping"},
    },
    summary="Draw the plan (starts a background job; poll GET /api/draws/{id})",
)
def start_draw(
    plan_id: PlanId,
    body: DrawCreate,
    request: Request,
    response: Response,
    user: Planner,
    session: WriteSessionDep,
) -> DrawPublic:
    app = request.app
    recover_interrupted_draws(app, plan_id)  # a draw of a dead server must not block this plan forever
    reason = (body.reason or "").strip()
    previous = None
    # One short write transaction; the first statement takes the lock (SQLite) or the row (PostgreSQL).
    for candidate in ("draft", "drawn") if reason else ("draft",):
        if _flip(session, plan_id, candidate):
            previous = candidate
            break
    if previous is None:
        now_status = session.scalar(select(PlanRecord.status).where(PlanRecord.id == plan_id))
        session.rollback()
        if now_status is None:
            raise not_found("plan", plan_id)
        if now_status == "drawing":
            raise HTTPException(status.HTTP_409_CONFLICT, "a draw of this plan is already running")
        if now_status == "drawn":
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                "the plan is already drawn; drawing it again needs a reason (it is recorded in the audit)",
            )
        raise HTTPException(status.HTTP_409_CONFLICT, f"a plan in status {now_status!r} cannot be drawn")
    number = (
        session.scalar(select(func.max(DrawRecord.number)).where(DrawRecord.plan_id == plan_id)) or 0
    ) + 1
    draw = DrawRecord(
        plan_id=plan_id,
        number=number,
        status="running",
        stage="queued",
        progress=0.0,
        seed=body.seed,
        seed_kind="test",
        reason=reason,
        requested_by=user.username,
        previous_plan_status=previous,
    )
    session.add(draw)
    session.flush()
    audit_store.append(
        session,
        "note",
        {
            "event": "draw requested",
            "plan_id": plan_id,
            "draw_id": draw.id,
            "number": number,
            "seed": body.seed,
            "reason": reason,
            "redraw": previous == "drawn",
        },
        user.username,
    )
    session.commit()
    try:
        submit_draw(app, draw.id)
    except RuntimeError:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the server is stopping; try again"
        ) from None
    response.headers["Location"] = f"/api/draws/{draw.id}"
    return draw_public(draw)


@router.get("/plans/{plan_id}/draws", response_model=list[DrawPublic], responses={**AUTH, **NOT_FOUND})
def list_draws(
    plan_id: PlanId, request: Request, _user: PlannerOrAuditor, session: SessionDep
) -> list[DrawPublic]:
    if recover_interrupted_draws(request.app, plan_id):
        session.rollback()  # SQLite: read again after the recovery, not from the earlier snapshot
    if session.get(PlanRecord, plan_id) is None:
        raise not_found("plan", plan_id)
    draws = session.scalars(
        select(DrawRecord).where(DrawRecord.plan_id == plan_id).order_by(DrawRecord.number)
    )
    return [draw_public(d) for d in draws]


@router.get(
    "/draws/{draw_id}",
    response_model=DrawPublic,
    responses={**AUTH, **NOT_FOUND},
    summary="A draw and its progress",
)
def get_draw(draw_id: DrawId, request: Request, _user: PlannerOrAuditor, session: SessionDep) -> DrawPublic:
    draw = session.get(DrawRecord, draw_id)
    if draw is None:
        raise not_found("draw", draw_id)
    if draw.status == "running" and recover_interrupted_draws(request.app, draw.plan_id):
        session.rollback()  # SQLite: read again after the recovery, not from the earlier snapshot
        draw = session.get(DrawRecord, draw_id)
    return draw_public(draw)
