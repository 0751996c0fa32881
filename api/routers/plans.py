"""Quarterly plans: a draft the planner edits (optimistic concurrency on ``version``), frozen once
drawn or approved by a leader (``POST /plans/{id}/approve``: 实施检查前，要经本单位负责人同意).

A plan belongs to the agency that leads its tasks (their nearest common agency in the agency
tree); every task must be led by an agency of the planner's scope (else 422 naming the task).

``spec`` is the contract's plan file as JSON (``quarter``, ``policy``, ``tasks``); it is checked
like the command line checks a plan file, and against the plan's registry (unknown agencies or
items, a joint agency of the lead's own department, a region outside the jurisdiction).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api import audit_store
from api.agencies import common_agency
from api.deps import LeaderScope, PlannerScope, ReadScope, Scope, SessionDep, WriteSessionDep
from api.models import CommitmentRecord, DrawRecord, PlanRecord, utcnow
from api.routers.registries import (
    AUTH,
    BAD_INPUT,
    CONFLICT,
    MAX_ID,
    NOT_FOUND,
    Limit,
    Name,
    Offset,
    bad_input,
    json_problems,
    not_found,
    registry_lookup,
)
from scheduler.errors import InputError, Problem
from scheduler.plan import Plan, check_plan_against_registry, parse_plan

router = APIRouter(tags=["plans"])

PlanId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="the plan's id")]
PLAN_FILE = "plan.json"  # the name problems of the spec are reported under (and the job's file)

SPEC_EXAMPLE = {
    "quarter": "2026Q1",
    "policy": {"team_size": 2, "quarterly_cap": 30, "daily_cap": 2},
    "tasks": [
        {
            "task_id": "T130123-F",
            "name": "正定县食品生产企业双随机抽查",
            "agency_id": "SJ130123",
            "items": ["I-002"],
            "specialty": "food",
            "population": {"industries": ["C13", "C14"], "risk_classes": ["A", "B", "C", "D"]},
            "ratio": {"A": 0.03, "B": 0.05, "C": 0.1, "D": 0.2},
            "window": {"start": "2026-01-05", "end": "2026-03-31"},
        }
    ],
}

Spec = Annotated[
    dict[str, Any],
    Field(
        description="the contract's plan: quarter, policy, tasks", json_schema_extra={"example": SPEC_EXAMPLE}
    ),
]


class PlanBase(BaseModel):
    name: Name
    spec: Spec


class PlanCreate(PlanBase):
    registry_id: int = Field(ge=1, le=MAX_ID)


class PlanUpdate(BaseModel):
    """An edit of a draft: send the ``version`` you read; a stale version gets 409."""

    version: int = Field(ge=1, le=MAX_ID)
    name: Name | None = None
    spec: Spec | None = None


class PlanPublic(PlanBase):
    model_config = ConfigDict(from_attributes=True)

    id: int
    registry_id: int
    agency_id: str | None = Field(description="the agency leading the plan's tasks")
    status: str = Field(description="draft → drawing → drawn (a recorded re-draw: drawn → drawing → drawn)")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    current_draw_id: int | None = Field(None, description="the newest finished draw")
    approved_by: str = Field("", description="the leader who approved the plan for its official draw")
    approved_at: dt.datetime | None = None
    stage: str = Field(
        "draft",
        description="the official flow: draft (编制) → approved (负责人审批) → committed (承诺公示, awaiting the "
        "public numbers) → drawn (抽取) → published (审批公示)",
    )
    commitment_id: int | None = Field(None, description="the open commitment, awaiting its numbers")
    official_draw_id: int | None = Field(None, description="the plan's current official draw")
    published_draw_id: int | None = None


def check_spec(request: Request, session: Session, registry_id: int, spec: dict) -> Plan:
    """Raise InputError (422, every problem) unless ``spec`` is a good plan for the registry."""
    unstorable = json_problems(spec)
    if unstorable:
        raise InputError([Problem(PLAN_FILE, None, path, message) for path, message in unstorable])
    try:
        plan = parse_plan(spec, PLAN_FILE, Path(PLAN_FILE))
    except InputError:
        raise
    except Exception as exc:  # parse_plan reports problems; anything else is still bad input
        raise bad_input(PLAN_FILE, f"cannot read the plan: {exc}") from exc
    try:
        registry = registry_lookup(request, session, registry_id)
    except LookupError:
        raise not_found("registry", registry_id) from None
    check_plan_against_registry(plan, registry)
    return plan


def plan_agency(session: Session, scope: Scope, plan: Plan) -> str:
    """The agency the plan belongs to: the nearest common agency of its tasks' lead agencies.
    A task led outside ``scope`` is refused (422 naming the task)."""
    problems = [
        Problem(PLAN_FILE, None, f"tasks[{k}].agency_id", f"task {t.task_id}: {t.agency_id!r} is not an agency under yours")
        for k, t in enumerate(plan.tasks)
        if not scope.covers(t.agency_id)
    ]
    if problems:
        raise InputError(problems)
    agency = common_agency(session, {t.agency_id for t in plan.tasks})
    if agency is None or not scope.covers(agency):
        raise InputError(
            Problem(PLAN_FILE, None, "tasks", "the tasks' lead agencies have no common agency under yours; make one plan per agency")
        )
    return agency


def current_draws(session: Session, plan_ids: list[int]) -> dict[int, int]:
    """plan id → its newest finished draw."""
    if not plan_ids:
        return {}
    rows = session.execute(
        select(DrawRecord.plan_id, func.max(DrawRecord.id))
        .where(DrawRecord.plan_id.in_(plan_ids), DrawRecord.status == "done")
        .group_by(DrawRecord.plan_id)
    )
    return {p: d for p, d in rows}


def open_commitment(session: Session, plan_id: int) -> CommitmentRecord | None:
    """The plan's newest commitment when no official draw has finished with it yet."""
    c = session.scalar(
        select(CommitmentRecord).where(CommitmentRecord.plan_id == plan_id).order_by(CommitmentRecord.id.desc()).limit(1)
    )
    if c is None:
        return None
    done = session.scalar(
        select(DrawRecord.id).where(DrawRecord.commitment_id == c.id, DrawRecord.status == "done").limit(1)
    )
    return None if done is not None else c


def official_draw(session: Session, plan_id: int) -> DrawRecord | None:
    """The plan's current official draw: finished, from a commitment, not superseded."""
    return session.scalar(
        select(DrawRecord)
        .where(
            DrawRecord.plan_id == plan_id,
            DrawRecord.seed_kind == "public",
            DrawRecord.status == "done",
            DrawRecord.superseded_by.is_(None),
        )
        .order_by(DrawRecord.id.desc())
        .limit(1)
    )


def plan_public(plan: PlanRecord, current: int | None, session: Session | None = None) -> PlanPublic:
    commitment = open_commitment(session, plan.id) if session is not None else None
    official = official_draw(session, plan.id) if session is not None else None
    if plan.published_draw_id is not None:
        stage = "published"
    elif commitment is not None:
        stage = "committed"
    elif official is not None:
        stage = "drawn"
    elif plan.approved_at is not None:
        stage = "approved"
    else:
        stage = "draft"
    return PlanPublic(
        id=plan.id,
        registry_id=plan.registry_id,
        agency_id=plan.agency_id,
        name=plan.name,
        spec=plan.spec,
        status=plan.status,
        version=plan.version,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
        current_draw_id=current,
        approved_by=plan.approved_by,
        approved_at=plan.approved_at,
        stage=stage,
        commitment_id=commitment.id if commitment is not None else None,
        official_draw_id=official.id if official is not None else None,
        published_draw_id=plan.published_draw_id,
    )


def _spec_sha256(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


@router.post(
    "/plans",
    response_model=PlanPublic,
    status_code=status.HTTP_201_CREATED,
    responses={**AUTH, **NOT_FOUND, **BAD_INPUT},
    summary="Create a draft plan for a registry",
)
def create_plan(
    body: PlanCreate, request: Request, scope: PlannerScope, read: SessionDep, session: WriteSessionDep
) -> PlanPublic:
    user = scope.user
    scope.registry(read, body.registry_id)
    parsed = check_spec(request, read, body.registry_id, body.spec)  # before the write transaction begins
    agency = plan_agency(read, scope, parsed)
    plan = PlanRecord(
        registry_id=body.registry_id,
        name=body.name,
        spec=body.spec,
        status="draft",
        version=1,
        agency_id=agency,
        created_by=user.username,
    )
    session.add(plan)
    session.flush()
    audit_store.append(
        session,
        "note",
        {
            "event": "plan saved",
            "plan_id": plan.id,
            "registry_id": plan.registry_id,
            "name": plan.name,
            "version": 1,
            "spec_sha256": _spec_sha256(plan.spec),
            "agency_id": agency,
        },
        user.username,
        agency,
    )
    session.commit()
    return plan_public(plan, None, session)


@router.get("/plans", response_model=list[PlanPublic], responses={**AUTH}, summary="List plans, newest first")
def list_plans(
    scope: ReadScope, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> list[PlanPublic]:
    plans = list(
        session.scalars(
            select(PlanRecord)
            .where(PlanRecord.agency_id.in_(sorted(scope.agency_ids)))
            .order_by(PlanRecord.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    current = current_draws(session, [p.id for p in plans])
    return [plan_public(p, current.get(p.id), session) for p in plans]


@router.get("/plans/{plan_id}", response_model=PlanPublic, responses={**AUTH, **NOT_FOUND})
def get_plan(plan_id: PlanId, scope: ReadScope, session: SessionDep) -> PlanPublic:
    plan = scope.plan(session, plan_id)
    return plan_public(plan, current_draws(session, [plan_id]).get(plan_id), session)


@router.put(
    "/plans/{plan_id}",
    response_model=PlanPublic,
    responses={**AUTH, **NOT_FOUND, **CONFLICT, **BAD_INPUT},
    summary="Edit a draft plan (send the version you read)",
)
def update_plan(
    plan_id: PlanId,
    body: PlanUpdate,
    request: Request,
    scope: PlannerScope,
    read: SessionDep,
    session: WriteSessionDep,
) -> PlanPublic:
    user = scope.user
    plan = scope.plan(read, plan_id)
    values: dict[str, Any] = {"version": PlanRecord.version + 1, "updated_at": utcnow()}
    if body.spec is not None:
        parsed = check_spec(request, read, plan.registry_id, body.spec)  # before the write transaction begins
        values["agency_id"] = plan_agency(read, scope, parsed)
    if body.name is not None:
        values["name"] = body.name
    if body.spec is not None:
        values["spec"] = body.spec
    # One conditional UPDATE: only a draft, only from the version the client read.
    changed = session.execute(
        update(PlanRecord)
        .where(
            PlanRecord.id == plan_id,
            PlanRecord.status == "draft",
            PlanRecord.approved_at.is_(None),
            PlanRecord.version == body.version,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        plan = session.get(PlanRecord, plan_id, populate_existing=True)
        if plan is None:
            raise not_found("plan", plan_id)
        if plan.status == "drawing":
            raise HTTPException(
                status.HTTP_409_CONFLICT, "a draw of this plan is running; the plan cannot change"
            )
        if plan.status != "draft":
            raise HTTPException(status.HTTP_409_CONFLICT, "the plan is frozen after its draw")
        if plan.approved_at is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, f"the plan was approved by {plan.approved_by}; it is frozen")
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"the plan was changed meanwhile (it is at version {plan.version}, you sent {body.version}); "
            "read it again and repeat your edit",
        )
    plan = session.get(PlanRecord, plan_id, populate_existing=True)
    audit_store.append(
        session,
        "note",
        {
            "event": "plan saved",
            "plan_id": plan.id,
            "registry_id": plan.registry_id,
            "name": plan.name,
            "version": plan.version,
            "spec_sha256": _spec_sha256(plan.spec),
        },
        user.username,
        plan.agency_id,
    )
    session.commit()
    return plan_public(plan, None, session)


@router.post(
    "/plans/{plan_id}/approve",
    response_model=PlanPublic,
    responses={**AUTH, **NOT_FOUND, **CONFLICT},
    summary="A leader approves the plan for its official draw (负责人同意); the plan is frozen",
)
def approve_plan(plan_id: PlanId, scope: LeaderScope, session: WriteSessionDep) -> PlanPublic:
    plan = scope.plan(session, plan_id)
    changed = session.execute(
        update(PlanRecord)
        .where(PlanRecord.id == plan_id, PlanRecord.approved_at.is_(None), PlanRecord.status != "drawing")
        .values(approved_at=utcnow(), approved_by=scope.username, version=PlanRecord.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        plan = session.get(PlanRecord, plan_id, populate_existing=True)
        if plan.approved_at is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, f"the plan was already approved by {plan.approved_by}")
        raise HTTPException(status.HTTP_409_CONFLICT, "a draw of this plan is running; approve it when it ends")
    plan = session.get(PlanRecord, plan_id, populate_existing=True)
    audit_store.append(
        session,
        "note",
        {
            "event": "plan approved",
            "plan_id": plan.id,
            "registry_id": plan.registry_id,
            "version": plan.version,
            "spec_sha256": _spec_sha256(plan.spec),
        },
        scope.username,
        plan.agency_id,
    )
    session.commit()
    return plan_public(plan, current_draws(session, [plan_id]).get(plan_id), session)
