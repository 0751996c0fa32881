"""Inspection results (一公开): entered by a planner in the standard categories, final once
published, and the list of results not published within 20 working days of the visit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit_store
from api.deps import PlannerScope, ReadScope, SessionDep, WriteSessionDep, not_found, today
from api.models import DrawRecord, PlanRecord, RegistryFile, ResultRecord, VisitRecord, utcnow
from api.routers.auth import MAX_ID, NO_NUL, errors
from api.uploads import temporary_directory
from scheduler.inspection_results import CATEGORIES, ResultEntry, check_category, overdue
from scheduler.workdays import WorkCalendar, load_calendar

router = APIRouter(tags=["results"])

Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]


class ResultBase(BaseModel):
    category: str = Field(
        max_length=64,
        description="one of: " + ", ".join(CATEGORIES),
        examples=[CATEGORIES[0]],
    )
    note: str = Field(default="", max_length=4000, pattern=NO_NUL)

    @field_validator("category")
    @classmethod
    def _standard(cls, v: str) -> str:
        return check_category(v)  # ValueError (-> 422) names the allowed categories


class ResultCreate(ResultBase):
    pass


class ResultPublic(ResultBase):
    model_config = ConfigDict(from_attributes=True)
    visit_pk: int
    visit_id: str
    draw_id: int
    entered_by: str
    entered_at: dt.datetime
    published_on: dt.date | None


class OverdueVisit(BaseModel):
    visit_pk: int
    visit_id: str
    credit_code: str
    enterprise: str
    date: dt.date
    due: dt.date
    state: str


def _public(res: ResultRecord, visit: VisitRecord) -> ResultPublic:
    return ResultPublic(
        category=res.category,
        note=res.note,
        visit_pk=visit.id,
        visit_id=visit.visit_id,
        draw_id=visit.draw_id,
        entered_by=res.entered_by,
        entered_at=res.entered_at,
        published_on=res.published_on,
    )


@router.put("/visits/{visit_pk}/result", response_model=ResultPublic, responses=errors(401, 403, 404, 409, 422))
def enter_result(visit_pk: Id, body: ResultCreate, scope: PlannerScope, session: WriteSessionDep) -> ResultPublic:
    """Enter or correct a visit's result (audited). A published result is final (409)."""
    planner = scope.user
    visit = scope.visit(session, visit_pk)
    res = session.scalar(select(ResultRecord).where(ResultRecord.visit_pk == visit_pk))
    if res is not None and res.published_on is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"the result of {visit.visit_id} was published on {res.published_on}; it cannot be changed",
        )
    if res is None:
        res = ResultRecord(visit_pk=visit_pk)
        session.add(res)
    res.category = body.category
    res.note = body.note
    res.entered_by = planner.username
    res.entered_at = utcnow()
    audit_store.append(
        session,
        "result",
        {"draw_id": visit.draw_id, "visit_id": visit.visit_id, "category": body.category, "note": body.note},
        actor=planner.username,
        agency_id=audit_store.draw_agency(session, visit.draw_id),
    )
    session.commit()
    return _public(res, visit)


@router.get("/visits/{visit_pk}/result", response_model=ResultPublic, responses=errors(401, 403, 404, 422))
def read_result(visit_pk: Id, scope: ReadScope, session: SessionDep) -> ResultPublic:
    """A visit's result (404 while none is entered)."""
    visit = scope.visit(session, visit_pk)
    res = session.scalar(select(ResultRecord).where(ResultRecord.visit_pk == visit_pk))
    if res is None:
        raise not_found("result of visit", visit_pk)
    return _public(res, visit)


def draw_calendar(session: Session, draw: DrawRecord) -> WorkCalendar:
    """The working days the draw was planned with: the registry's ``calendar.csv`` when it has
    one, the chinese-calendar package (holidays and 调休) otherwise."""
    plan = session.get(PlanRecord, draw.plan_id)
    content = session.scalar(
        select(RegistryFile.content).where(
            RegistryFile.registry_id == plan.registry_id, RegistryFile.filename == "calendar.csv"
        )
    )
    if content is None:
        return WorkCalendar()
    with temporary_directory("calendar") as tmp:
        path = Path(tmp) / "calendar.csv"
        path.write_bytes(content)
        return load_calendar(path)


@router.get("/draws/{draw_id}/overdue", response_model=list[OverdueVisit], responses=errors(401, 403, 404, 422))
def overdue_results(
    draw_id: Id,
    scope: ReadScope,
    session: SessionDep,
    day: Annotated[dt.date, Depends(today)],
    today_: Annotated[dt.date | None, Query(alias="today", description="default: today")] = None,
) -> list[OverdueVisit]:
    """Visits whose result was not published within 20 working days of the visit (Chinese
    working days, 调休 included), by due date."""
    draw = scope.draw(session, draw_id)
    on = today_ or day
    calendar = draw_calendar(session, draw)
    visits = {v.visit_id: v for v in session.scalars(select(VisitRecord).where(VisitRecord.draw_id == draw_id))}
    results = {
        visit_id: ResultEntry(visit_id, category, "", published_on)
        for visit_id, category, published_on in session.execute(
            select(VisitRecord.visit_id, ResultRecord.category, ResultRecord.published_on)
            .join(ResultRecord, ResultRecord.visit_pk == VisitRecord.id)
            .where(VisitRecord.draw_id == draw_id)
        )
    }
    rows = overdue(sorted((k, v.date) for k, v in visits.items()), results, on, calendar)
    return [
        OverdueVisit(
            visit_pk=visits[visit_id].id,
            visit_id=visit_id,
            credit_code=visits[visit_id].credit_code,
            enterprise=visits[visit_id].enterprise,
            date=date,
            due=due,
            state=state,
        )
        for visit_id, date, due, state in rows
    ]

