"""Quarterly plans: a draft the planner edits (optimistic concurrency on ``version``), frozen once
drawn.

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
from api.deps import Planner, PlannerOrAuditor, SessionDep, WriteSessionDep
from api.models import DrawRecord, PlanRecord, RegistryRecord, utcnow
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
from scheduler.plan import check_plan_against_registry, parse_plan

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
    status: str = Field(description="draft → drawing → drawn (a recorded re-draw: drawn → drawing → drawn)")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    current_draw_id: int | None = Field(None, description="the newest finished draw")


def check_spec(request: Request, session: Session, registry_id: int, spec: dict) -> None:
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


def plan_public(plan: PlanRecord, current: int | None) -> PlanPublic:
    return PlanPublic(
        id=plan.id,
        registry_id=plan.registry_id,
        name=plan.name,
        spec=plan.spec,
        status=plan.status,
        version=plan.version,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
        current_draw_id=current,
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
    body: PlanCreate, request: Request, user: Planner, read: SessionDep, session: WriteSessionDep
) -> PlanPublic:
    if read.get(RegistryRecord, body.registry_id) is None:
        raise not_found("registry", body.registry_id)
    check_spec(request, read, body.registry_id, body.spec)  # before the write transaction begins
    plan = PlanRecord(registry_id=body.registry_id, name=body.name, spec=body.spec, status="draft", version=1)
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
        },
        user.username,
    )
    session.commit()
    return plan_public(plan, None)


@router.get("/plans", response_model=list[PlanPublic], responses={**AUTH}, summary="List plans, newest first")
def list_plans(
    _user: PlannerOrAuditor, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> list[PlanPublic]:
    plans = list(
        session.scalars(select(PlanRecord).order_by(PlanRecord.id.desc()).limit(limit).offset(offset))
    )
    current = current_draws(session, [p.id for p in plans])
    return [plan_public(p, current.get(p.id)) for p in plans]


@router.get("/plans/{plan_id}", response_model=PlanPublic, responses={**AUTH, **NOT_FOUND})
def get_plan(plan_id: PlanId, _user: PlannerOrAuditor, session: SessionDep) -> PlanPublic:
    plan = session.get(PlanRecord, plan_id)
    if plan is None:
        raise not_found("plan", plan_id)
    return plan_public(plan, current_draws(session, [plan_id]).get(plan_id))


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
    user: Planner,
    read: SessionDep,
    session: WriteSessionDep,
) -> PlanPublic:
    plan = read.get(PlanRecord, plan_id)
    if plan is None:
        raise not_found("plan", plan_id)
    if body.spec is not None:
        check_spec(request, read, plan.registry_id, body.spec)  # before the write transaction begins
    values: dict[str, Any] = {"version": PlanRecord.version + 1, "updated_at": utcnow()}
    if body.name is not None:
        values["name"] = body.name
    if body.spec is not None:
        values["spec"] = body.spec
    # One conditional UPDATE: only a draft, only from the version the client read.
    changed = session.execute(
        update(PlanRecord)
        .where(PlanRecord.id == plan_id, PlanRecord.status == "draft", PlanRecord.version == body.version)
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
    )
    session.commit()
    return plan_public(plan, None)
