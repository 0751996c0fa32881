"""Publication (一公开) and what the public sees, without an account.

``POST /draws/{id}/publish`` (planner) writes the draw's public rows once — exactly the fields of
``scheduler.publication.publication_frame`` for the draw as it stands, checked by
``assert_no_personal_data`` — marks the draw published and every entered, unpublished result
published today, and appends a ``publication`` audit record whose hash (the new audit head) is
returned, to be published with the results.

The public reads only published draws: task, agencies, enterprise, credit code, region,
industry, items, date, how it was drawn and the published result; never an inspector, a legal
representative's or relative's id, an address or a notice code. ``/public/draws`` gives each
published draw's seed and strata thresholds, so that anyone can check any ticket.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel
from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session

from api import audit_store
from api.deps import Planner, SessionDep, today
from api.models import (
    AuditHead,
    DrawRecord,
    PlanRecord,
    PublicRow,
    ResultRecord,
    StratumRecord,
    VisitRecord,
    utcnow,
)
from api.routers.auth import MAX_ID, NO_NUL, errors
from api.store import rebuild_result
from scheduler.publication import (
    PENDING_RESULT,
    PUBLICATION_COLUMNS,
    PersonalDataError,
    assert_no_personal_data,
    publication_frame,
)

router = APIRouter(tags=["public"])

Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]
CSV_COLUMNS = [*PUBLICATION_COLUMNS, "published_on"]


class PublicResult(BaseModel):
    """One (visit, task) of a published draw: public facts only."""

    draw_id: int
    task_id: str
    agency: str
    joint_agencies: str
    credit_code: str
    enterprise: str
    region_code: str
    industry: str
    items: str
    date: dt.date | None
    visit_id: str
    result: str
    drawn_as: str
    published_on: dt.date | None


class PublicResultsPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[PublicResult]


class PublicStratum(BaseModel):
    task_id: str
    stratum: str
    population_size: int
    sample_size: int
    inclusion_probability: float
    threshold: str


class PublicDraw(BaseModel):
    draw_id: int
    plan_id: int
    plan_name: str
    quarter: str
    number: int
    seed: str
    seed_kind: str
    commitment: dict[str, Any] | None
    beacon: str | None
    key_string: str | None
    finished_at: dt.datetime | None
    published_at: dt.datetime
    visits: int
    strata: list[PublicStratum]


class Publication(BaseModel):
    draw_id: int
    published_at: dt.datetime
    published_on: dt.date
    results_published: list[str]
    public_rows: int
    publication_sha256: str
    audit_head: str


# --------------------------------------------------------------------------- queries


def _rows_query():
    return (
        select(
            PublicRow.draw_id,
            PublicRow.task_id,
            PublicRow.agency,
            PublicRow.joint_agencies,
            PublicRow.credit_code,
            PublicRow.enterprise,
            PublicRow.region_code,
            PublicRow.industry,
            PublicRow.items,
            VisitRecord.date,
            VisitRecord.visit_id,
            PublicRow.drawn_as,
            ResultRecord.category,
            ResultRecord.published_on,
        )
        .join(VisitRecord, VisitRecord.id == PublicRow.visit_pk)
        .join(DrawRecord, DrawRecord.id == PublicRow.draw_id)
        .outerjoin(
            ResultRecord, and_(ResultRecord.visit_pk == PublicRow.visit_pk, ResultRecord.published_on.is_not(None))
        )
        .where(DrawRecord.published_at.is_not(None), DrawRecord.status == "done")
    )


def _filtered(q: str | None, credit_code: str | None, region: str | None, task_id: str | None, draw_id: int | None):
    query = _rows_query()
    if q:
        query = query.where(
            or_(
                PublicRow.enterprise.icontains(q, autoescape=True),
                PublicRow.credit_code.icontains(q, autoescape=True),
                PublicRow.agency.icontains(q, autoescape=True),
                PublicRow.items.icontains(q, autoescape=True),
                PublicRow.task_id.icontains(q, autoescape=True),
            )
        )
    if credit_code:
        query = query.where(PublicRow.credit_code == credit_code.upper())
    if region:
        query = query.where(PublicRow.region_code.startswith(region, autoescape=True))
    if task_id:
        query = query.where(PublicRow.task_id == task_id)
    if draw_id is not None:
        query = query.where(PublicRow.draw_id == draw_id)
    return query


def _ordered(query):
    return query.order_by(
        PublicRow.draw_id.desc(), PublicRow.task_id, VisitRecord.date, PublicRow.credit_code, VisitRecord.visit_id
    )


def _public(row, day: dt.date) -> PublicResult:
    """A row as the public sees it: a visit's date only once it has passed (before that the date
    would tell the enterprise when the unannounced inspection comes)."""
    return PublicResult(
        draw_id=row.draw_id,
        task_id=row.task_id,
        agency=row.agency,
        joint_agencies=row.joint_agencies,
        credit_code=row.credit_code,
        enterprise=row.enterprise,
        region_code=row.region_code,
        industry=row.industry,
        items=row.items,
        date=row.date if row.date is not None and row.date < day else None,
        visit_id=row.visit_id,
        result=row.category if row.published_on is not None else PENDING_RESULT,
        drawn_as=row.drawn_as,
        published_on=row.published_on,
    )


def _csv(rows: list[PublicResult]) -> bytes:
    """UTF-8 with a BOM (so Excel shows the Chinese), ``\\n`` line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        d = r.model_dump()
        d["date"] = r.date.isoformat() if r.date else ""
        d["published_on"] = r.published_on.isoformat() if r.published_on else ""
        writer.writerow([d[c] for c in CSV_COLUMNS])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


Q = Annotated[str | None, Query(max_length=100, pattern=NO_NUL, description="text in the enterprise, code, agency, items or task")]
CreditCode = Annotated[str | None, Query(pattern=r"^[0-9A-Za-z]{1,18}$")]
Region = Annotated[str | None, Query(pattern=r"^[0-9]{1,6}$", description="region code or its prefix (GB/T 2260)")]
TaskId = Annotated[str | None, Query(max_length=64, pattern=NO_NUL)]
DrawId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


# --------------------------------------------------------------------------- publication


def _public_rows(session: Session, draw: DrawRecord) -> list[dict]:
    """The draw's publication frame as ``public_rows`` rows (checked for personal data)."""
    with tempfile.TemporaryDirectory(prefix="publish-") as tmp:
        result = rebuild_result(session, draw, Path(tmp))
    frame = publication_frame(result)
    try:
        assert_no_personal_data(frame, result.registry, registered_names=("enterprise",))
    except PersonalDataError as exc:  # pragma: no cover - publication_frame never carries any
        raise HTTPException(status.HTTP_409_CONFLICT, f"not published: {exc}") from None
    pks = dict(session.execute(select(VisitRecord.visit_id, VisitRecord.id).where(VisitRecord.draw_id == draw.id)).all())
    return [
        {
            "draw_id": draw.id,
            "visit_pk": pks[r["visit_id"]],
            "task_id": r["task_id"],
            "agency": r["agency"],
            "joint_agencies": r["joint_agencies"],
            "credit_code": r["credit_code"],
            "enterprise": r["enterprise"],
            "region_code": r["region_code"][:6],
            "industry": r["industry"][:32],
            "items": r["items"],
            "drawn_as": r["drawn_as"],
        }
        for r in frame.to_dict("records")
        if r["visit_id"] in pks
    ]


@router.post("/draws/{draw_id}/publish", response_model=Publication, responses=errors(401, 403, 404, 409, 422))
def publish(
    draw_id: Id, request: Request, planner: Planner, session: SessionDep, day: Annotated[dt.date, Depends(today)]
) -> Publication:
    """Publish the draw (its public rows, once) and every entered, unpublished result of it
    (published today; final from now on). Audited; returns the new audit head to publish."""
    draw = session.get(DrawRecord, draw_id)
    if draw is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no draw {draw_id}")
    if draw.status != "done":
        raise HTTPException(status.HTTP_409_CONFLICT, f"draw {draw_id} is {draw.status}, not done")
    has_rows = session.scalar(select(func.count()).select_from(PublicRow).where(PublicRow.draw_id == draw_id))
    rows = [] if has_rows else _public_rows(session, draw)
    session.rollback()

    with request.app.state.write_sessions() as s:
        s.execute(select(DrawRecord.id).where(DrawRecord.id == draw_id).with_for_update())
        d = s.get(DrawRecord, draw_id, populate_existing=True)
        first = d.published_at is None
        if rows and not s.scalar(select(func.count()).select_from(PublicRow).where(PublicRow.draw_id == draw_id)):
            s.execute(insert(PublicRow), rows)
        if first:
            d.published_at = utcnow()
        todo = s.execute(
            select(ResultRecord, VisitRecord.visit_id)
            .join(VisitRecord, VisitRecord.id == ResultRecord.visit_pk)
            .where(VisitRecord.draw_id == draw_id, ResultRecord.published_on.is_(None))
            .order_by(VisitRecord.visit_id)
        ).all()
        for res, _ in todo:
            res.published_on = day
        s.flush()
        # the record commits to every row in full, dates included (the public sees each date once passed)
        rows = s.execute(_ordered(_filtered(None, None, None, None, draw_id)))
        published = [_public(r, dt.date.max) for r in rows]
        digest = hashlib.sha256(_csv(published)).hexdigest()
        head_before = s.get(AuditHead, 1).hash
        record = audit_store.append(
            s,
            "publication",
            {
                "draw_id": draw_id,
                "plan_id": d.plan_id,
                "seed": d.seed,
                "seed_kind": d.seed_kind,
                "published_on": day.isoformat(),
                "first_publication": first,
                "visits": [visit_id for _, visit_id in todo],
                "public_rows": len(published),
                "publication_sha256": digest,
                "audit_head_before": head_before,
            },
            actor=planner.username,
        )
        s.commit()
        return Publication(
            draw_id=draw_id,
            published_at=d.published_at,
            published_on=day,
            results_published=[visit_id for _, visit_id in todo],
            public_rows=len(published),
            publication_sha256=digest,
            audit_head=record["hash"],
        )


# --------------------------------------------------------------------------- the public


@router.get("/public/results", response_model=PublicResultsPage, responses=errors(422))
def public_results(
    session: SessionDep,
    q: Q = None,
    credit_code: CreditCode = None,
    region: Region = None,
    task_id: TaskId = None,
    draw_id: DrawId = None,
    day: Annotated[dt.date, Depends(today)] = None,  # type: ignore[assignment]
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> PublicResultsPage:
    """Search the published draws (no account needed)."""
    query = _filtered(q, credit_code, region, task_id, draw_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(_ordered(query).limit(limit).offset(offset))
    return PublicResultsPage(total=total or 0, limit=limit, offset=offset, items=[_public(r, day) for r in rows])


@router.get(
    "/public/results.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "UTF-8 CSV with BOM"}, **errors(422)},
)
def public_results_csv(
    session: SessionDep,
    q: Q = None,
    credit_code: CreditCode = None,
    region: Region = None,
    task_id: TaskId = None,
    draw_id: DrawId = None,
    day: Annotated[dt.date, Depends(today)] = None,  # type: ignore[assignment]
) -> Response:
    """The same rows as ``/public/results`` (all of them), as a CSV file (UTF-8 with BOM)."""
    rows = [_public(r, day) for r in session.execute(_ordered(_filtered(q, credit_code, region, task_id, draw_id)))]
    return Response(
        content=_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="results.csv"'},
    )


@router.get("/public/draws", response_model=list[PublicDraw])
def public_draws(session: SessionDep) -> list[PublicDraw]:
    """Published draws with their seeds and strata thresholds: with them anyone checks a ticket,
    ``SHA-256(seed|task_id|credit_code) <= threshold``."""
    draws = session.execute(
        select(DrawRecord, PlanRecord)
        .join(PlanRecord, PlanRecord.id == DrawRecord.plan_id)
        .where(DrawRecord.published_at.is_not(None), DrawRecord.status == "done")
        .order_by(DrawRecord.published_at.desc(), DrawRecord.id.desc())
    ).all()
    ids = [d.id for d, _ in draws]
    strata: dict[int, list[PublicStratum]] = {i: [] for i in ids}
    counts: dict[int, int] = {}
    if ids:
        for s in session.scalars(
            select(StratumRecord).where(StratumRecord.draw_id.in_(ids)).order_by(StratumRecord.task_id, StratumRecord.stratum)
        ):
            strata[s.draw_id].append(
                PublicStratum(
                    task_id=s.task_id,
                    stratum=s.stratum,
                    population_size=s.population_size,
                    sample_size=s.sample_size,
                    inclusion_probability=s.sample_size / s.population_size if s.population_size else 0.0,
                    threshold=s.threshold or "",
                )
            )
        counts = dict(
            session.execute(
                select(VisitRecord.draw_id, func.count()).where(VisitRecord.draw_id.in_(ids)).group_by(VisitRecord.draw_id)
            ).all()
        )
    out = []
    for d, plan in draws:
        manifest = d.manifest or {}
        commitment = manifest.get("commitment")
        out.append(
            PublicDraw(
                draw_id=d.id,
                plan_id=plan.id,
                plan_name=plan.name,
                quarter=str((plan.spec or {}).get("quarter", "")),
                number=d.number,
                seed=d.seed,
                seed_kind=d.seed_kind,
                commitment=commitment if isinstance(commitment, dict) else None,
                beacon=manifest.get("beacon") if isinstance(manifest.get("beacon"), str) else None,
                key_string=manifest.get("key_string") if isinstance(manifest.get("key_string"), str) else None,
                finished_at=d.finished_at,
                published_at=d.published_at,
                visits=counts.get(d.id, 0),
                strata=strata[d.id],
            )
        )
    return out
