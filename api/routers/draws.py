"""Draws: start the draw of a plan (a background job), follow its progress, list a plan's draws;
and the official flow around them: commitments, re-draw requests and their decisions.

An OFFICIAL draw exists only through a public commitment, exactly as on the command line
(``randinspect commit``, then ``plan --commitment … --beacon …``): a leader approves the plan
(plans router), a planner records the commitment over the plan, the registry and the software
naming the public source (``POST /plans/{id}/commitment``, public at once on
``/api/public/draws``), then draws with the source's numbers (``{"beacon": …}``): seed =
SHA-256(commitment|RFC 3797 key string). A draw with a typed ``{"seed": …}`` is a TEST draw
(测试抽取): never publishable, its notices invisible to the enterprise look-up.

No draw shopping: replacing an official draw needs a planner's reason, a leader's approval by
another account (``POST /redraws/{id}/decision``), and a new commitment with new numbers; every
official draw stays public, the replaced one marked superseded.

Exactly one draw of a plan runs at a time, whatever the number of server processes and on both
SQLite and PostgreSQL: starting a draw is one conditional UPDATE of the plan's status checked by
its row count, in one short write transaction (SQLite: ``BEGIN IMMEDIATE`` serialises writers;
PostgreSQL: the UPDATE takes the row's lock and re-checks its WHERE after the other transaction
commits). A drawn plan is drawn again only with a reason, which the record keeps.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api import audit_store
from api.deps import LeaderScope, PlannerScope, ReadScope, SessionDep, WriteSessionDep
from api.jobs import recover_interrupted_draws, submit_draw
from api.models import CommitmentRecord, DrawRecord, PlanRecord, RedrawRecord, utcnow
from api.routers.plans import PlanId, official_draw, open_commitment
from api.routers.registries import AUTH, BAD_INPUT, CONFLICT, MAX_ID, NOT_FOUND, Message, SafeText
from api.store import materialise_registry, write_plan
from scheduler.importer import registry_files
from scheduler.seed import commitment_document, commitment_hash, derive_seed, key_string

router = APIRouter(tags=["draws"])

DrawId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="the draw's id")]
RedrawId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="the re-draw request's id")]
TEST_MARK = "测试抽取"


class DrawBase(BaseModel):
    seed: SafeText | None = Field(
        None, min_length=1, max_length=128, description="a typed seed: a TEST draw (测试抽取), never publishable"
    )
    beacon: SafeText | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="the public numbers of the committed source, e.g. '3 11 17 22 28 31; 9': the OFFICIAL draw",
    )
    reason: SafeText | None = Field(
        None, max_length=2000, description="why a test-drawn plan is test-drawn again (recorded)"
    )

    @model_validator(mode="after")
    def _one_of(self):
        if (self.seed is None) == (self.beacon is None):
            raise ValueError("give either beacon (the official draw, after a commitment) or seed (a test draw)")
        return self


class DrawCreate(DrawBase):
    pass


class DrawPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plan_id: int
    number: int = Field(description="1 for the plan's first draw, 2 for the next, …")
    status: str = Field(description="running, done or failed")
    stage: str = Field(
        description="queued, materialise, import, draw, staffing, dates, outputs, storing, done, failed"
    )
    progress: float = Field(ge=0, le=1)
    seed: str
    seed_kind: str = Field(description="public (official, from a commitment) or test (测试抽取)")
    kind_label: str = Field(description="正式抽取 or 测试抽取")
    reason: str
    error: str = Field(description="why the draw failed (infeasible: the task, the rule and the numbers)")
    requested_by: str
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    finished_at: dt.datetime | None
    visits: int | None = Field(None, description="visits drawn (when done)")
    commitment_id: int | None = None
    beacon: str = ""
    draw_head: str = Field("", description="the audit head hash right after the draw was recorded")
    published_at: dt.datetime | None = None
    published_by: str = ""
    publication_head: str = ""
    superseded_by: int | None = Field(None, description="the official draw that replaced this one (已作废)")
    exclusions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="per task (when done): enterprises in the jurisdiction, excluded as not active, by industry, "
        "by risk class, by entity type, the population, excluded by dedup (history, plan) and the frequency cap, "
        "and the frame drawn from (the manifest's facts.exclusions; the draw's report shows them too)",
    )


def kind_label(seed_kind: str) -> str:
    return "正式抽取" if seed_kind == "public" else TEST_MARK


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
        kind_label=kind_label(d.seed_kind),
        reason=d.reason,
        error=d.error,
        requested_by=d.requested_by,
        started_at=d.started_at,
        heartbeat_at=d.heartbeat_at,
        finished_at=d.finished_at,
        visits=facts.get("visits"),
        commitment_id=d.commitment_id,
        beacon=d.beacon or "",
        draw_head=d.draw_head or "",
        published_at=d.published_at,
        published_by=d.published_by or "",
        publication_head=d.publication_head or "",
        superseded_by=d.superseded_by,
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


def _conflict(message: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, message)


def _official_seed(session: Session, plan: PlanRecord, beacon: str) -> tuple[str, CommitmentRecord, str]:
    """(seed, commitment, reason) of an official draw of ``plan`` with the public ``beacon``."""
    if plan.approved_at is None:
        raise _conflict("an official draw needs the plan approved by a leader first (POST /api/plans/{id}/approve)")
    c = open_commitment(session, plan.id)
    if c is None:
        raise _conflict(
            "the plan has no open commitment: record one (POST /api/plans/{id}/commitment) before the numbers exist; "
            "replacing an official draw needs an approved re-draw request and a new commitment"
        )
    try:
        key = key_string(beacon)
    except ValueError as exc:
        raise HTTPException(422, f"beacon: {exc}") from None
    if c.beacon and key_string(c.beacon) != key:
        raise _conflict(
            f"commitment {c.id} was drawn with the numbers {c.beacon!r}; it is drawn again only with the same numbers"
        )
    earlier = session.scalars(
        select(CommitmentRecord.beacon).where(
            CommitmentRecord.plan_id == plan.id, CommitmentRecord.id != c.id, CommitmentRecord.beacon != ""
        )
    ).all()
    if any(key_string(b) == key for b in earlier):
        raise _conflict("these numbers were drawn with an earlier commitment of this plan; a re-draw needs new public numbers")
    seed, _ = derive_seed(c.commitment, beacon)
    reason = ""
    if c.redraw_id is not None:
        reason = session.get(RedrawRecord, c.redraw_id).reason
    return seed, c, reason


@router.post(
    "/plans/{plan_id}/draws",
    response_model=DrawPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **AUTH,
        **NOT_FOUND,
        **CONFLICT,
        **BAD_INPUT,
        503: {"model": Message, "description": "the server is stopping"},
    },
    summary="Draw the plan: {beacon} after a commitment (official) or {seed} (test); poll GET /api/draws/{id}",
)
def start_draw(
    plan_id: PlanId,
    body: DrawCreate,
    request: Request,
    response: Response,
    scope: PlannerScope,
    session: WriteSessionDep,
) -> DrawPublic:
    app = request.app
    user = scope.user
    recover_interrupted_draws(app, plan_id)  # a draw of a dead server must not block this plan forever
    plan = scope.plan(session, plan_id)
    commitment: CommitmentRecord | None = None
    if body.beacon is not None:
        seed, commitment, reason = _official_seed(session, plan, body.beacon)
        seed_kind, candidates = "public", ("draft", "drawn")
    else:
        seed, seed_kind, reason = body.seed or "", "test", (body.reason or "").strip()
        candidates = ("draft", "drawn") if reason else ("draft",)
    previous = None
    # One short write transaction; the first UPDATE takes the lock (SQLite) or the row (PostgreSQL).
    for candidate in candidates:
        if _flip(session, plan_id, candidate):
            previous = candidate
            break
    if previous is None:
        now_status = session.scalar(select(PlanRecord.status).where(PlanRecord.id == plan_id))
        session.rollback()
        if now_status == "drawing":
            raise _conflict("a draw of this plan is already running")
        if now_status == "drawn":
            raise _conflict("the plan is already drawn; drawing it again needs a reason (it is recorded in the audit)")
        raise _conflict(f"a plan in status {now_status!r} cannot be drawn")
    number = (
        session.scalar(select(func.max(DrawRecord.number)).where(DrawRecord.plan_id == plan_id)) or 0
    ) + 1
    draw = DrawRecord(
        plan_id=plan_id,
        number=number,
        status="running",
        stage="queued",
        progress=0.0,
        seed=seed,
        seed_kind=seed_kind,
        reason=reason,
        requested_by=user.username,
        previous_plan_status=previous,
        commitment_id=commitment.id if commitment is not None else None,
        beacon=body.beacon or "",
    )
    session.add(draw)
    if commitment is not None and not commitment.beacon:
        commitment.beacon = body.beacon or ""
    session.flush()
    audit_store.append(
        session,
        "note",
        {
            "event": "draw requested",
            "plan_id": plan_id,
            "draw_id": draw.id,
            "number": number,
            "seed": seed,
            "seed_kind": seed_kind,
            "commitment": commitment.commitment if commitment is not None else None,
            "beacon": body.beacon,
            "reason": reason,
            "redraw": previous == "drawn",
        },
        user.username,
        plan.agency_id,
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


# ---------------------------------------------------------------- commitments


class CommitmentCreate(BaseModel):
    source: SafeText = Field(
        min_length=1,
        max_length=500,
        description="the public randomness named in advance, e.g. 福彩双色球 2026012期",
        examples=["福彩双色球 2026012期"],
    )


class CommitmentPublic(BaseModel):
    id: int
    plan_id: int
    commitment: str = Field(description="SHA-256 of the canonical commitment document (as `randinspect commit`)")
    source: str
    document: dict[str, Any]
    created_by: str
    created_at: dt.datetime
    audit_head: str = Field(description="the audit head hash right after the commitment was recorded")
    redraw_id: int | None
    beacon: str


def commitment_public(c: CommitmentRecord) -> CommitmentPublic:
    return CommitmentPublic(
        id=c.id,
        plan_id=c.plan_id,
        commitment=c.commitment,
        source=c.source,
        document=c.document,
        created_by=c.created_by,
        created_at=c.created_at,
        audit_head=c.audit_head,
        redraw_id=c.redraw_id,
        beacon=c.beacon,
    )


def make_commitment_document(session: Session, plan: PlanRecord, source: str) -> dict:
    """The commitment document of ``randinspect commit`` over the stored registry's files (as
    materialised for a draw) and the plan file the draw job writes (``plan.json``)."""
    with tempfile.TemporaryDirectory(prefix="randinspect-commit-") as tmp:
        folder = materialise_registry(session, plan.registry_id, Path(tmp) / "registry")
        plan_file = write_plan(plan.spec, Path(tmp) / "plan.json")
        files = registry_files(folder)
        if (folder / "calendar.csv").exists():
            files["calendar"] = folder / "calendar.csv"
        doc = commitment_document(files, plan_file, str(plan.spec.get("quarter", "")), source, metadata.version("randinspect"))
    doc["commitment"] = commitment_hash(doc)
    return doc


def _usable_redraw(session: Session, plan_id: int) -> RedrawRecord | None:
    """An approved re-draw request of the plan that no commitment serves yet."""
    used = select(CommitmentRecord.redraw_id).where(CommitmentRecord.redraw_id.is_not(None))
    return session.scalar(
        select(RedrawRecord)
        .where(RedrawRecord.plan_id == plan_id, RedrawRecord.status == "approved", RedrawRecord.id.not_in(used))
        .order_by(RedrawRecord.id)
        .limit(1)
    )


@router.post(
    "/plans/{plan_id}/commitment",
    response_model=CommitmentPublic,
    status_code=status.HTTP_201_CREATED,
    responses={**AUTH, **NOT_FOUND, **CONFLICT, **BAD_INPUT},
    summary="Commit to the approved plan, its registry and the software before the public numbers exist",
)
def create_commitment(
    plan_id: PlanId, body: CommitmentCreate, scope: PlannerScope, read: SessionDep, session: WriteSessionDep
) -> CommitmentPublic:
    plan = scope.plan(read, plan_id)
    if plan.approved_at is None:
        raise _conflict("the plan needs a leader's approval before its commitment (POST /api/plans/{id}/approve)")
    doc = make_commitment_document(read, plan, body.source.strip())  # before the write transaction begins
    read.rollback()
    plan = session.get(PlanRecord, plan_id, populate_existing=True)
    session.execute(select(PlanRecord.id).where(PlanRecord.id == plan_id).with_for_update())
    if plan.published_draw_id is not None:
        raise _conflict(f"draw {plan.published_draw_id} of this plan is published; a published draw is final")
    if plan.status == "drawing":
        raise _conflict("a draw of this plan is running")
    pending = open_commitment(session, plan_id)
    if pending is not None:
        raise _conflict(f"commitment {pending.id} of this plan awaits its numbers ({pending.source})")
    used = session.scalar(
        select(CommitmentRecord.id).where(CommitmentRecord.plan_id == plan_id, CommitmentRecord.source == body.source.strip())
    )
    if used is not None:
        # Its numbers may be known already: a re-draw names a source whose numbers do not exist yet.
        raise _conflict(f"commitment {used} of this plan already named the source {body.source.strip()!r}; name a new one")
    redraw = None
    current = official_draw(session, plan_id)
    if current is not None:
        redraw = _usable_redraw(session, plan_id)
        if redraw is None:
            raise _conflict(
                f"draw {current.id} is the plan's official draw; a new commitment needs a re-draw request "
                "approved by a leader (POST /api/plans/{id}/redraws)"
            )
    c = CommitmentRecord(
        plan_id=plan_id,
        source=body.source.strip(),
        commitment=doc["commitment"],
        document=doc,
        created_by=scope.username,
        redraw_id=redraw.id if redraw is not None else None,
        beacon="",
    )
    session.add(c)
    session.flush()
    record = audit_store.append(
        session,
        "commit",
        {
            "plan_id": plan_id,
            "commitment_id": c.id,
            "commitment": c.commitment,
            "source": c.source,
            "quarter": doc["quarter"],
            "redraw_id": c.redraw_id,
        },
        scope.username,
        plan.agency_id,
    )
    c.audit_head = record["hash"]
    session.commit()
    return commitment_public(c)


@router.get(
    "/plans/{plan_id}/commitments", response_model=list[CommitmentPublic], responses={**AUTH, **NOT_FOUND}
)
def list_commitments(plan_id: PlanId, scope: ReadScope, session: SessionDep) -> list[CommitmentPublic]:
    scope.plan(session, plan_id)
    rows = session.scalars(select(CommitmentRecord).where(CommitmentRecord.plan_id == plan_id).order_by(CommitmentRecord.id))
    return [commitment_public(c) for c in rows]


# ---------------------------------------------------------------- re-draw requests


class RedrawCreate(BaseModel):
    reason: SafeText = Field(min_length=1, max_length=2000, pattern=r"\S", description="why the official draw must be replaced")


class RedrawDecision(BaseModel):
    approve: bool
    note: SafeText = Field("", max_length=2000)


class RedrawPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    plan_id: int
    draw_id: int
    reason: str
    requested_by: str
    requested_at: dt.datetime
    status: str
    decided_by: str
    decision_note: str
    decided_at: dt.datetime | None


@router.post(
    "/plans/{plan_id}/redraws",
    response_model=RedrawPublic,
    status_code=status.HTTP_201_CREATED,
    responses={**AUTH, **NOT_FOUND, **CONFLICT},
    summary="Ask to replace the plan's official draw (a reason; a leader decides)",
)
def request_redraw(plan_id: PlanId, body: RedrawCreate, scope: PlannerScope, session: WriteSessionDep) -> RedrawRecord:
    plan = scope.plan(session, plan_id)
    session.execute(select(PlanRecord.id).where(PlanRecord.id == plan_id).with_for_update())
    if plan.published_draw_id is not None:
        raise _conflict(f"draw {plan.published_draw_id} of this plan is published; a published draw is final")
    current = official_draw(session, plan_id)
    if current is None:
        raise _conflict("the plan has no official draw to replace")
    open_request = session.scalar(
        select(RedrawRecord.id).where(RedrawRecord.plan_id == plan_id, RedrawRecord.status == "pending")
    )
    if open_request is not None or _usable_redraw(session, plan_id) is not None or open_commitment(session, plan_id):
        raise _conflict("a re-draw of this plan is already requested or approved")
    req = RedrawRecord(
        plan_id=plan_id, draw_id=current.id, reason=body.reason.strip(), requested_by=scope.username, status="pending"
    )
    session.add(req)
    session.flush()
    audit_store.append(
        session,
        "note",
        {"event": "re-draw requested", "plan_id": plan_id, "draw_id": current.id, "redraw_id": req.id, "reason": req.reason},
        scope.username,
        plan.agency_id,
    )
    session.commit()
    return req


@router.get("/plans/{plan_id}/redraws", response_model=list[RedrawPublic], responses={**AUTH, **NOT_FOUND})
def list_redraws(plan_id: PlanId, scope: ReadScope, session: SessionDep) -> list[RedrawRecord]:
    scope.plan(session, plan_id)
    return list(session.scalars(select(RedrawRecord).where(RedrawRecord.plan_id == plan_id).order_by(RedrawRecord.id)))


@router.post(
    "/redraws/{redraw_id}/decision",
    response_model=RedrawPublic,
    responses={**AUTH, **NOT_FOUND, **CONFLICT},
    summary="A leader (not the requester) approves or rejects a re-draw request",
)
def decide_redraw(redraw_id: RedrawId, body: RedrawDecision, scope: LeaderScope, session: WriteSessionDep) -> RedrawRecord:
    req = scope.redraw(session, redraw_id)
    if req.status != "pending":
        raise _conflict(f"re-draw request {redraw_id} was already {req.status}")
    if req.requested_by == scope.username:
        raise _conflict("a re-draw needs the approval of another account than the one that asked for it")
    changed = session.execute(
        update(RedrawRecord)
        .where(RedrawRecord.id == redraw_id, RedrawRecord.status == "pending")
        .values(
            status="approved" if body.approve else "rejected",
            decided_by=scope.username,
            decision_note=body.note.strip(),
            decided_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        raise _conflict(f"re-draw request {redraw_id} was decided meanwhile")
    req = session.get(RedrawRecord, redraw_id, populate_existing=True)
    plan = session.get(PlanRecord, req.plan_id)
    audit_store.append(
        session,
        "note",
        {
            "event": "re-draw decided",
            "plan_id": req.plan_id,
            "draw_id": req.draw_id,
            "redraw_id": req.id,
            "decision": req.status,
            "requested_by": req.requested_by,
            "note": req.decision_note,
        },
        scope.username,
        plan.agency_id,
    )
    session.commit()
    return req


class Approvals(BaseModel):
    """What waits for a leader in the caller's scope."""

    plans: list[dict[str, Any]] = Field(description="draft plans: id, name, agency_id, created_by (approve them)")
    redraws: list[RedrawPublic] = Field(description="pending re-draw requests")
    draws: list[DrawPublic] = Field(description="official draws not yet published (publish one per plan)")


@router.get("/approvals", response_model=Approvals, responses={**AUTH})
def approvals(scope: ReadScope, session: SessionDep) -> Approvals:
    agencies = sorted(scope.agency_ids)
    plans = session.scalars(
        select(PlanRecord)
        .where(PlanRecord.agency_id.in_(agencies), PlanRecord.approved_at.is_(None), PlanRecord.status != "drawing")
        .order_by(PlanRecord.id)
    )
    redraws = session.scalars(
        select(RedrawRecord)
        .join(PlanRecord, PlanRecord.id == RedrawRecord.plan_id)
        .where(PlanRecord.agency_id.in_(agencies), RedrawRecord.status == "pending")
        .order_by(RedrawRecord.id)
    )
    draws = session.scalars(
        select(DrawRecord)
        .join(PlanRecord, PlanRecord.id == DrawRecord.plan_id)
        .where(
            PlanRecord.agency_id.in_(agencies),
            PlanRecord.published_draw_id.is_(None),
            DrawRecord.seed_kind == "public",
            DrawRecord.status == "done",
            DrawRecord.superseded_by.is_(None),
        )
        .order_by(DrawRecord.id)
    )
    return Approvals(
        plans=[
            {"id": p.id, "name": p.name, "agency_id": p.agency_id, "created_by": p.created_by, "status": p.status}
            for p in plans
        ],
        redraws=[RedrawPublic.model_validate(r) for r in redraws],
        draws=[draw_public(d) for d in draws],
    )


@router.get("/plans/{plan_id}/draws", response_model=list[DrawPublic], responses={**AUTH, **NOT_FOUND})
def list_draws(
    plan_id: PlanId, request: Request, scope: ReadScope, session: SessionDep
) -> list[DrawPublic]:
    scope.plan(session, plan_id)
    if recover_interrupted_draws(request.app, plan_id):
        session.rollback()  # SQLite: read again after the recovery, not from the earlier snapshot
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
def get_draw(draw_id: DrawId, request: Request, scope: ReadScope, session: SessionDep) -> DrawPublic:
    draw = scope.draw(session, draw_id)
    if draw.status == "running" and recover_interrupted_draws(request.app, draw.plan_id):
        session.rollback()  # SQLite: read again after the recovery, not from the earlier snapshot
        draw = session.get(DrawRecord, draw_id)
    return draw_public(draw)
