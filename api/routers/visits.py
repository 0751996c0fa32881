"""The visits of a finished draw: the planner's and the auditor's list (no notice codes), and one
visit with its notice and code (planners only: the code is the enterprise's key, printed on the
notice it receives)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import defer

from api.deps import PlannerScope, ReadScope, Scope, SessionDep
from api.models import PlanRecord, VisitRecord
from api.routers.draws import DrawId, kind_label
from api.routers.registries import (
    AUTH,
    CONFLICT,
    NOT_FOUND,
    Limit,
    Offset,
    SafeText,
    not_found,
    registry_lookup,
)

router = APIRouter(tags=["visits"])

VisitId = Annotated[
    SafeText, PathParam(min_length=1, max_length=32, description="the visit's id, e.g. 2026Q1-00001")
]


class TeamMember(BaseModel):
    inspector_id: str
    name: str
    certificate_no: str


class VisitBase(BaseModel):
    visit_id: str
    credit_code: str
    enterprise: str
    region_code: str
    task_ids: list[str]
    date: dt.date
    window_start: dt.date
    window_end: dt.date
    lead_agency_id: str
    inspector_ids: list[str]
    team: list[TeamMember] = Field(description="the inspectors, lead department's first")


class VisitPublic(VisitBase):
    pass


class VisitDetail(VisitBase):
    notice_code: str = Field(description="the enterprise's code, printed on its notice")
    notice_html: str = Field(description="the printable 检查通知书")


class VisitsPage(BaseModel):
    kind_label: str = Field("正式抽取", description="正式抽取, or 测试抽取 for a test draw")
    total: int
    limit: int
    offset: int
    items: list[VisitPublic]


def _team(lookup, ids: list[str]) -> list[TeamMember]:
    out = []
    for i in ids:
        person = lookup.inspectors.get(i) if lookup is not None else None
        out.append(
            TeamMember(
                inspector_id=i,
                name=person.name if person else "",
                certificate_no=(person.certificate_no or "") if person else "",
            )
        )
    return out


def _fields(v: VisitRecord, lookup) -> dict:
    ids = [i for i in v.inspector_ids.split(";") if i]
    return {
        "visit_id": v.visit_id,
        "credit_code": v.credit_code,
        "enterprise": v.enterprise,
        "region_code": v.region_code,
        "task_ids": [t for t in v.task_ids.split(";") if t],
        "date": v.date,
        "window_start": v.window_start,
        "window_end": v.window_end,
        "lead_agency_id": v.lead_agency_id,
        "inspector_ids": ids,
        "team": _team(lookup, ids),
    }


def _done_draw(request: Request, session, draw_id: int, scope: Scope):
    """The draw (404 unknown or out of scope, 409 not done) and its registry's lookup."""
    draw = scope.draw(session, draw_id)
    if draw.status == "running":
        raise HTTPException(
            status.HTTP_409_CONFLICT, "the draw is still running; its visits exist when it is done"
        )
    if draw.status != "done":
        raise HTTPException(status.HTTP_409_CONFLICT, f"the draw {draw.status}; it has no visits")
    plan = session.get(PlanRecord, draw.plan_id)
    try:
        lookup = registry_lookup(request, session, plan.registry_id)
    except LookupError:  # pragma: no cover - registries are never deleted
        lookup = None
    return draw, lookup


def _member_of(column, value: str):
    """``value`` is one of the ';'-separated ids in ``column`` (LIKE wildcards escaped)."""
    return or_(
        column == value,
        column.startswith(value + ";", autoescape=True),
        column.endswith(";" + value, autoescape=True),
        column.contains(";" + value + ";", autoescape=True),
    )


@router.get(
    "/draws/{draw_id}/visits",
    response_model=VisitsPage,
    responses={**AUTH, **NOT_FOUND, **CONFLICT},
    summary="The draw's visits (paginated; filter by date, inspector or enterprise)",
)
def list_visits(
    draw_id: DrawId,
    request: Request,
    scope: ReadScope,
    session: SessionDep,
    limit: Limit = 100,
    offset: Offset = 0,
    date: Annotated[dt.date | None, Query(description="visits on this day")] = None,
    inspector_id: Annotated[
        SafeText | None, Query(max_length=64, description="visits this inspector is on")
    ] = None,
    credit_code: Annotated[
        SafeText | None, Query(max_length=18, description="visits of this enterprise")
    ] = None,
    q: Annotated[
        SafeText | None,
        Query(max_length=100, description="text in the enterprise's name or credit code (to enter its result)"),
    ] = None,
) -> VisitsPage:
    draw, lookup = _done_draw(request, session, draw_id, scope)
    where = [VisitRecord.draw_id == draw_id]
    if date is not None:
        where.append(VisitRecord.date == date)
    if inspector_id is not None:
        where.append(_member_of(VisitRecord.inspector_ids, inspector_id))
    if credit_code is not None:
        where.append(VisitRecord.credit_code == credit_code)
    if q is not None and q.strip():
        text = q.strip()
        where.append(
            or_(
                VisitRecord.enterprise.contains(text, autoescape=True),
                VisitRecord.credit_code.contains(text.upper(), autoescape=True),
                VisitRecord.visit_id.contains(text, autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(VisitRecord).where(*where))
    rows = session.scalars(
        select(VisitRecord)
        .options(defer(VisitRecord.notice_html), defer(VisitRecord.notice_code))
        .where(*where)
        .order_by(VisitRecord.visit_id)
        .limit(limit)
        .offset(offset)
    )
    return VisitsPage(
        total=total,
        limit=limit,
        offset=offset,
        kind_label=kind_label(draw.seed_kind),
        items=[VisitPublic(**_fields(v, lookup)) for v in rows],
    )


@router.get(
    "/draws/{draw_id}/visits/{visit_id}",
    response_model=VisitDetail,
    responses={**AUTH, **NOT_FOUND, **CONFLICT},
    summary="One visit with its notice and notice code (planners only)",
)
def get_visit(
    draw_id: DrawId, visit_id: VisitId, request: Request, scope: PlannerScope, session: SessionDep
) -> VisitDetail:
    _draw, lookup = _done_draw(request, session, draw_id, scope)
    v = session.scalar(
        select(VisitRecord).where(VisitRecord.draw_id == draw_id, VisitRecord.visit_id == visit_id)
    )
    if v is None:
        raise not_found("visit", visit_id)
    return VisitDetail(**_fields(v, lookup), notice_code=v.notice_code, notice_html=v.notice_html)
