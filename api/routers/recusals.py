"""Recusal (回避) after the draw: requests, and the planner's decision.

The enterprise asks with its credit code and notice code; a planner records a request on behalf of
an inspector, the bureau or the enterprise. Approving one draws the replacement exactly as
``randinspect recuse`` does (``scheduler.recusal.replace_inspector`` on the draw's current plan,
``seq`` = the number of the approval in this draw), and in one transaction updates the visit,
re-renders its notice, marks the request approved and appends a ``recusal`` audit record.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit_store
from api.deps import PlannerScope, ReadScope, SessionDep, not_found
from api.models import DrawRecord, RecusalRecord, VisitRecord, utcnow
from api.routers.auth import MAX_ID, NO_NUL, errors
from api.routers.notices import EnterpriseCodes, enterprise_visit
from api.store import rebuild_result
from api.throttle import Throttled
from api.uploads import temporary_directory
from scheduler.notices import render_notice
from scheduler.recusal import RecusalRequest, replace_inspector
from scheduler.staffing import build_roster

router = APIRouter(tags=["recusals"])

Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]
InspectorId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
Reason = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^[^\x00]*\S[^\x00]*$")]


class RecusalBase(BaseModel):
    inspector_id: InspectorId
    reason: Reason


class EnterpriseRecusalCreate(EnterpriseCodes, RecusalBase):
    """The enterprise asks: its codes, the inspector (``inspector_id`` as its notice look-up
    gives it) and the reason."""


class RecusalCreate(RecusalBase):
    """A planner records a request on someone's behalf."""

    visit_id: str = Field(min_length=1, max_length=32, pattern=r"^[^\x00]+$")
    requested_by: Literal["enterprise", "inspector", "bureau"] = "bureau"


class Decision(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=2000, pattern=NO_NUL)


class RecusalPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    draw_id: int
    visit_pk: int
    visit_id: str
    credit_code: str
    inspector_id: str
    requested_by: str
    reason: str
    status: str
    seq: int | None
    replacement: str
    decided_by: str
    decision_note: str
    created_at: dt.datetime
    decided_at: dt.datetime | None


def _public(rec: RecusalRecord, visit: VisitRecord) -> RecusalPublic:
    return RecusalPublic(
        id=rec.id,
        draw_id=visit.draw_id,
        visit_pk=visit.id,
        visit_id=visit.visit_id,
        credit_code=visit.credit_code,
        inspector_id=rec.inspector_id,
        requested_by=rec.requested_by,
        reason=rec.reason,
        status=rec.status,
        seq=rec.seq,
        replacement=rec.replacement,
        decided_by=rec.decided_by,
        decision_note=rec.decision_note,
        created_at=rec.created_at,
        decided_at=rec.decided_at,
    )


def _create(request: Request, visit_pk: int, inspector_id: str, requested_by: str, reason: str) -> RecusalPublic:
    """Record a pending request (one write transaction); the inspector must be on the team."""
    with request.app.state.write_sessions() as s:
        visit = s.get(VisitRecord, visit_pk)
        if inspector_id not in visit.inspector_ids.split(";"):
            raise HTTPException(
                422, f"{inspector_id!r} is not on visit {visit.visit_id}'s team"
            )
        pending = s.scalar(
            select(RecusalRecord.id).where(
                RecusalRecord.visit_pk == visit_pk,
                RecusalRecord.inspector_id == inspector_id,
                RecusalRecord.status == "pending",
            )
        )
        if pending is not None:
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"request {pending} to remove {inspector_id} from this visit is pending"
            )
        rec = RecusalRecord(
            visit_pk=visit_pk, inspector_id=inspector_id, requested_by=requested_by, reason=reason.strip(), status="pending"
        )
        s.add(rec)
        s.commit()
        return _public(rec, visit)


@router.post(
    "/recusals", response_model=RecusalPublic, status_code=status.HTTP_201_CREATED, responses=errors(403, 409, 422, 429),
    dependencies=[Throttled("recusal")],
)
def enterprise_request(body: EnterpriseRecusalCreate, request: Request, session: SessionDep) -> RecusalPublic:
    """The enterprise asks that an inspector of its visit step aside (no account: its codes).
    The request is pending until a planner decides."""
    row = enterprise_visit(request, session, body)
    if row.superseded_by is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "this notice is void (已作废): its draw was replaced by a re-draw")
    session.rollback()
    return _create(request, row.id, body.inspector_id, "enterprise", body.reason)


@router.post(
    "/draws/{draw_id}/recusals",
    response_model=RecusalPublic,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 404, 409, 422),
)
def planner_request(
    draw_id: Id, body: RecusalCreate, request: Request, scope: PlannerScope, session: SessionDep
) -> RecusalPublic:
    """A planner records a request on behalf of an inspector, the bureau or the enterprise."""
    draw = scope.draw(session, draw_id)
    if draw.status != "done":
        raise HTTPException(status.HTTP_409_CONFLICT, f"draw {draw_id} is {draw.status}, not done")
    pk = session.scalar(
        select(VisitRecord.id).where(VisitRecord.draw_id == draw_id, VisitRecord.visit_id == body.visit_id)
    )
    if pk is None:
        raise not_found("visit", body.visit_id)
    session.rollback()
    return _create(request, pk, body.inspector_id, body.requested_by, body.reason)


@router.get("/draws/{draw_id}/recusals", response_model=list[RecusalPublic], responses=errors(401, 403, 404, 422))
def list_recusals(
    draw_id: Id,
    scope: ReadScope,
    session: SessionDep,
    status_: Annotated[Literal["pending", "approved", "rejected"] | None, Query(alias="status")] = None,
) -> list[RecusalPublic]:
    """The draw's recusal requests, oldest first."""
    scope.draw(session, draw_id)
    q = (
        select(RecusalRecord, VisitRecord)
        .join(VisitRecord, VisitRecord.id == RecusalRecord.visit_pk)
        .where(VisitRecord.draw_id == draw_id)
        .order_by(RecusalRecord.id)
    )
    if status_ is not None:
        q = q.where(RecusalRecord.status == status_)
    return [_public(rec, visit) for rec, visit in session.execute(q)]


def _approved(session: Session, draw_id: int) -> list[tuple[str, str]]:
    """(inspector, credit code) of the draw's approved recusals, in the order of their seq."""
    rows = session.execute(
        select(RecusalRecord.inspector_id, VisitRecord.credit_code)
        .join(VisitRecord, VisitRecord.id == RecusalRecord.visit_pk)
        .where(VisitRecord.draw_id == draw_id, RecusalRecord.status == "approved")
        .order_by(RecusalRecord.seq, RecusalRecord.id)
    )
    return [(r.inspector_id, r.credit_code) for r in rows]


@router.post(
    "/recusals/{recusal_id}/decision", response_model=RecusalPublic, responses=errors(401, 403, 404, 409, 422)
)
def decide(recusal_id: Id, body: Decision, request: Request, scope: PlannerScope, session: SessionDep) -> RecusalPublic:
    """Approve (the replacement is drawn, the visit and its notice updated, all audited) or
    reject a pending request. A decided request gives 409; an infeasible replacement gives 409
    with the reasons and leaves the request pending."""
    planner = scope.user
    rec = scope.recusal(session, recusal_id)
    if rec.status != "pending":
        raise HTTPException(status.HTTP_409_CONFLICT, f"request {recusal_id} was already {rec.status}")
    visit = session.get(VisitRecord, rec.visit_pk)
    draw = session.get(DrawRecord, visit.draw_id)
    note = body.note.strip()
    if not body.approve:
        return _commit_rejection(request, recusal_id, planner.username, note)
    if draw.status != "done":
        raise HTTPException(status.HTTP_409_CONFLICT, f"draw {draw.id} is {draw.status}, not done")
    team_before = visit.inspector_ids
    if rec.inspector_id not in team_before.split(";"):
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"{rec.inspector_id} is no longer on visit {visit.visit_id}'s team"
        )
    approved = _approved(session, draw.id)
    seq = len(approved) + 1
    recused = set(approved)
    req = RecusalRequest(visit.visit_id, rec.inspector_id, rec.requested_by, rec.reason)
    with temporary_directory("recusal") as tmp:
        result = rebuild_result(session, draw, Path(tmp))
    session.rollback()  # nothing is held while the replacement is drawn
    roster = build_roster(result.plan, result.registry, result.workdays)
    new_result, outcome = replace_inspector(result, roster, req, seq, recused)  # InfeasibleError -> 409
    new_visit = next(v for v in new_result.visits if v.visit_id == visit.visit_id)
    html = render_notice(new_result, new_visit)

    with request.app.state.write_sessions() as s:
        # Lock the draw so that two approvals in one draw never share a seq.
        s.execute(select(DrawRecord.id).where(DrawRecord.id == draw.id).with_for_update())
        rec_w = s.get(RecusalRecord, recusal_id, populate_existing=True)
        visit_w = s.get(VisitRecord, visit.id, populate_existing=True)
        if rec_w.status != "pending":
            raise HTTPException(status.HTTP_409_CONFLICT, f"request {recusal_id} was already {rec_w.status}")
        if visit_w.inspector_ids != team_before or len(_approved(s, draw.id)) != seq - 1:
            raise HTTPException(
                status.HTTP_409_CONFLICT, "another recusal of this draw was decided meanwhile; decide again"
            )
        visit_w.inspector_ids = ";".join(new_visit.inspector_ids)
        visit_w.date = new_visit.date
        visit_w.notice_html = html
        rec_w.status = "approved"
        rec_w.seq = seq
        rec_w.replacement = outcome.replacement
        rec_w.decided_by = planner.username
        rec_w.decision_note = note
        rec_w.decided_at = utcnow()
        audit_store.append(
            s,
            "recusal",
            {
                "draw_id": draw.id,
                "request_id": recusal_id,
                "visit_id": visit.visit_id,
                "credit_code": visit.credit_code,
                "inspector_id": rec.inspector_id,
                "requested_by": rec.requested_by,
                "reason": rec.reason,
                "decision": "approved",
                "note": note,
                "seq": seq,
                "replacement": outcome.replacement,
                "candidates": outcome.candidates,
                "date_before": outcome.date_before.isoformat(),
                "date_after": outcome.date_after.isoformat(),
                "team_before": team_before.split(";"),
                "team_after": list(new_visit.inspector_ids),
            },
            actor=planner.username,
            agency_id=audit_store.draw_agency(s, draw.id),
        )
        s.commit()
        return _public(rec_w, visit_w)


def _commit_rejection(request: Request, recusal_id: int, actor: str, note: str) -> RecusalPublic:
    with request.app.state.write_sessions() as s:
        rec = s.get(RecusalRecord, recusal_id, with_for_update=True, populate_existing=True)
        if rec.status != "pending":
            raise HTTPException(status.HTTP_409_CONFLICT, f"request {recusal_id} was already {rec.status}")
        visit = s.get(VisitRecord, rec.visit_pk)
        rec.status = "rejected"
        rec.decided_by = actor
        rec.decision_note = note
        rec.decided_at = utcnow()
        audit_store.append(
            s,
            "recusal",
            {
                "draw_id": visit.draw_id,
                "request_id": recusal_id,
                "visit_id": visit.visit_id,
                "credit_code": visit.credit_code,
                "inspector_id": rec.inspector_id,
                "requested_by": rec.requested_by,
                "reason": rec.reason,
                "decision": "rejected",
                "note": note,
            },
            actor=actor,
            agency_id=audit_store.draw_agency(s, visit.draw_id),
        )
        s.commit()
        return _public(rec, visit)

