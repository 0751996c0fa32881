"""Publication (一公开) and what the public sees, without an account.

``POST /draws/{id}/publish`` (a leader, with ``{"confirm": true}``) publishes an OFFICIAL draw —
never a test draw (409 saying why), never a replaced one, and only one draw per plan ever. It
writes the draw's public rows once — exactly the fields of
``scheduler.publication.publication_frame`` for the draw as it stands, checked by
``assert_no_personal_data`` — marks the draw published and every entered, unpublished result
published today, and appends a ``publication`` audit record whose hash (the new audit head) is
returned, to be published with the results.

The public reads only published draws: task, agencies, enterprise, credit code, region,
industry, items, date, how it was drawn and the published result; never an inspector, a legal
representative's or relative's id, an address or a notice code. ``/public/draws`` gives every
public commitment from the moment it is made (its source named before the numbers exist), and
every official draw made from one — replaced ones too, with the re-draw's reason and approver —
with its numbers, seed and strata thresholds (so anyone can check any ticket) and the audit head
hash at the commitment, the draw and the publication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from api import audit_store
from api.deps import LeaderScope, SessionDep, today
from api.models import (
    AgencyRecord,
    AuditHead,
    CommitmentRecord,
    DrawRecord,
    PlanRecord,
    PublicRow,
    RedrawRecord,
    ResultRecord,
    StratumRecord,
    VisitRecord,
    utcnow,
)
from api.routers.auth import MAX_ID, NO_NUL, errors
from api.store import rebuild_result
from api.uploads import temporary_directory
from scheduler import cells
from scheduler.plan import parse_plan
from scheduler.publication import (
    PENDING_RESULT,
    PUBLICATION_COLUMNS,
    PersonalDataError,
    assert_no_personal_data,
    gsxt_csv,
    gsxt_frame,
    gsxt_xlsx,
    inspection_type,
    publication_frame,
)

router = APIRouter(tags=["public"])

Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]


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


# The stored public rows' columns (task_name and inspection_type of the run folder's publication
# are not stored by the service yet), then the publication date.
CSV_COLUMNS = [c for c in PUBLICATION_COLUMNS if c in PublicResult.model_fields] + ["published_on"]


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
    """One public commitment and the official draw made from it (none yet: awaiting numbers)."""

    status: str = Field(
        description="awaiting_numbers (承诺已公示，待开奖号码), running, failed, drawn, published, superseded (已作废)"
    )
    commitment_id: int
    commitment_hash: str
    source: str
    committed_at: dt.datetime
    committed_by: str
    commitment_head: str = Field(description="the audit head hash right after the commitment")
    commitment: dict[str, Any] | None = Field(description="the committed document")
    plan_id: int
    plan_name: str
    agency: str
    quarter: str
    draw_id: int | None
    number: int | None
    seed: str | None
    seed_kind: str | None
    beacon: str | None
    key_string: str | None
    finished_at: dt.datetime | None
    draw_head: str | None = Field(description="the audit head hash right after the draw")
    published_at: dt.datetime | None
    published_by: str | None
    publication_head: str | None = Field(description="the audit head hash right after the publication")
    redraw_reason: str | None = Field(description="a re-draw: why the earlier official draw was replaced")
    redraw_requested_by: str | None
    redraw_approved_by: str | None
    replaces_draw_id: int | None
    superseded_by: int | None = Field(description="the official draw that replaced this one")
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
    writer = cells.writer(buf, lineterminator="\n")
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
    with temporary_directory("publish") as tmp:
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


class PublishRequest(BaseModel):
    """The confirmation step: the leader has seen what is published."""

    confirm: bool = Field(description="must be true: publication is final")


def publish_refusal(draw: DrawRecord, plan: PlanRecord) -> str | None:
    """Why ``draw`` cannot be published, or None."""
    if draw.seed_kind != "public":
        return (
            f"draw {draw.id} is a test draw (测试抽取: its seed was typed, not derived from a public commitment); "
            "a test draw is never published"
        )
    if draw.status != "done":
        return f"draw {draw.id} is {draw.status}, not done"
    if draw.superseded_by is not None:
        return f"draw {draw.id} was replaced by draw {draw.superseded_by} (已作废); it is never published"
    if plan.published_draw_id is not None and plan.published_draw_id != draw.id:
        return f"draw {plan.published_draw_id} is this plan's published draw; a plan has exactly one"
    return None


@router.post("/draws/{draw_id}/publish", response_model=Publication, responses=errors(401, 403, 404, 409, 422))
def publish(
    draw_id: Id,
    body: PublishRequest,
    request: Request,
    scope: LeaderScope,
    session: SessionDep,
    day: Annotated[dt.date, Depends(today)],
) -> Publication:
    """A leader publishes the plan's official draw (its public rows, once) and every entered,
    unpublished result of it (published today; final from now on); called again, it publishes
    the results entered since. Audited; returns the new audit head to publish."""
    leader = scope.user
    draw = scope.draw(session, draw_id)
    if not body.confirm:
        raise HTTPException(status.HTTP_409_CONFLICT, "publication is final: confirm it (send {\"confirm\": true})")
    refusal = publish_refusal(draw, session.get(PlanRecord, draw.plan_id))
    if refusal:
        raise HTTPException(status.HTTP_409_CONFLICT, refusal)
    has_rows = session.scalar(select(func.count()).select_from(PublicRow).where(PublicRow.draw_id == draw_id))
    rows = [] if has_rows else _public_rows(session, draw)
    session.rollback()

    with request.app.state.write_sessions() as s:
        s.execute(select(PlanRecord.id).where(PlanRecord.id == draw.plan_id).with_for_update())
        s.execute(select(DrawRecord.id).where(DrawRecord.id == draw_id).with_for_update())
        d = s.get(DrawRecord, draw_id, populate_existing=True)
        plan = s.get(PlanRecord, d.plan_id, populate_existing=True)
        refusal = publish_refusal(d, plan)
        if refusal:
            raise HTTPException(status.HTTP_409_CONFLICT, refusal)
        first = d.published_at is None
        if first:
            # Exactly one published draw per plan: one conditional UPDATE decides.
            taken = s.execute(
                update(PlanRecord)
                .where(PlanRecord.id == plan.id, PlanRecord.published_draw_id.is_(None))
                .values(published_draw_id=draw_id)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                s.rollback()
                raise HTTPException(status.HTTP_409_CONFLICT, "another draw of this plan was published meanwhile")
        if rows and not s.scalar(select(func.count()).select_from(PublicRow).where(PublicRow.draw_id == draw_id)):
            s.execute(insert(PublicRow), rows)
        if first:
            d.published_at = utcnow()
            d.published_by = leader.username
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
            actor=leader.username,
            agency_id=plan.agency_id,
        )
        if first:
            d.publication_head = record["hash"]
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


@router.get(
    "/public/draws/{draw_id}/results_gsxt.{fmt}",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string"}},
            },
            "description": "the published results in the national system's layout",
        },
        **errors(404, 422),
    },
)
def public_results_gsxt(
    draw_id: Id,
    fmt: Annotated[str, PathParam(pattern="^(csv|xlsx)$")],
    request: Request,
    session: SessionDep,
    day: Annotated[dt.date, Depends(today)] = None,  # type: ignore[assignment]
) -> Response:
    """A published draw's published results in the layout of the national enterprise credit
    publicity system's 双随机抽查结果信息 (``scheduler.publication.gsxt_frame``): one row per (visit,
    task, item), CSV (UTF-8 with BOM) or XLSX (every cell text). No account needed: public facts only."""
    from api.routers.registries import registry_lookup

    draw = session.get(DrawRecord, draw_id)
    if draw is None or draw.published_at is None or draw.status != "done":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no published draw {draw_id}")
    record = session.get(PlanRecord, draw.plan_id)
    plan = parse_plan(record.spec, "plan")
    registry = registry_lookup(request, session, record.registry_id)
    tasks = {t.task_id: t for t in reversed(plan.tasks)}
    rows = [_public(r, day) for r in session.execute(_ordered(_filtered(None, None, None, None, draw_id)))]
    frame = pd.DataFrame(
        [
            {
                **r.model_dump(),
                "date": r.date.isoformat() if r.date else "",
                "task_name": tasks[r.task_id].name if r.task_id in tasks else "",
                "inspection_type": inspection_type(tasks[r.task_id], registry) if r.task_id in tasks else "",
            }
            for r in rows
        ],
        columns=[*PublicResult.model_fields, "task_name", "inspection_type"],
    )
    published = {r.visit_id: r.result for r in rows if r.published_on is not None}
    gsxt = gsxt_frame(frame, published, plan.plan_id or plan.quarter, plan.name or record.name)
    if fmt == "csv":
        body, media = gsxt_csv(gsxt), "text/csv; charset=utf-8"
    else:
        body, media = gsxt_xlsx(gsxt), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        content=body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="results_gsxt-{draw_id}.{fmt}"'},
    )


@router.get("/public/draws", response_model=list[PublicDraw])
def public_draws(session: SessionDep) -> list[PublicDraw]:
    """Every public commitment, newest first, with the official draw made from it: the source
    named before the numbers existed, the numbers, the seed and strata thresholds (anyone checks
    a ticket: ``SHA-256(seed|task_id|credit_code) <= threshold``), replaced draws with the
    re-draw's reason and approver, and the audit head at the commitment, draw and publication.
    Test draws (测试抽取) are never here."""
    commitments = session.execute(
        select(CommitmentRecord, PlanRecord)
        .join(PlanRecord, PlanRecord.id == CommitmentRecord.plan_id)
        .order_by(CommitmentRecord.id.desc())
    ).all()
    ids = [c.id for c, _ in commitments]
    draws: dict[int, DrawRecord] = {}
    if ids:
        for d in session.scalars(
            select(DrawRecord).where(DrawRecord.commitment_id.in_(ids), DrawRecord.seed_kind == "public").order_by(DrawRecord.id)
        ):
            draws[d.commitment_id] = d  # the newest draw of each commitment (a retry after a failure)
    done = [d.id for d in draws.values() if d.status == "done"]
    strata: dict[int, list[PublicStratum]] = {i: [] for i in done}
    counts: dict[int, int] = {}
    if done:
        for st in session.scalars(
            select(StratumRecord).where(StratumRecord.draw_id.in_(done)).order_by(StratumRecord.task_id, StratumRecord.stratum)
        ):
            strata[st.draw_id].append(
                PublicStratum(
                    task_id=st.task_id,
                    stratum=st.stratum,
                    population_size=st.population_size,
                    sample_size=st.sample_size,
                    inclusion_probability=st.sample_size / st.population_size if st.population_size else 0.0,
                    threshold=st.threshold or "",
                )
            )
        counts = dict(
            session.execute(
                select(VisitRecord.draw_id, func.count()).where(VisitRecord.draw_id.in_(done)).group_by(VisitRecord.draw_id)
            ).all()
        )
    names = dict(session.execute(select(AgencyRecord.agency_id, AgencyRecord.name)).all())
    redraws = {r.id: r for r in session.scalars(select(RedrawRecord).where(RedrawRecord.status == "approved"))}
    out = []
    for c, plan in commitments:
        d = draws.get(c.id)
        redraw = redraws.get(c.redraw_id) if c.redraw_id is not None else None
        manifest = (d.manifest or {}) if d is not None else {}
        if d is None:
            state = "awaiting_numbers"
        elif d.superseded_by is not None:
            state = "superseded"
        elif d.published_at is not None:
            state = "published"
        else:
            state = {"done": "drawn"}.get(d.status, d.status)
        out.append(
            PublicDraw(
                status=state,
                commitment_id=c.id,
                commitment_hash=c.commitment,
                source=c.source,
                committed_at=c.created_at,
                committed_by=c.created_by,
                commitment_head=c.audit_head,
                commitment=c.document,
                plan_id=plan.id,
                plan_name=plan.name,
                agency=names.get(plan.agency_id or "", plan.agency_id or ""),
                quarter=str((plan.spec or {}).get("quarter", "")),
                draw_id=d.id if d is not None else None,
                number=d.number if d is not None else None,
                seed=d.seed if d is not None else None,
                seed_kind=d.seed_kind if d is not None else None,
                beacon=d.beacon if d is not None else None,
                key_string=manifest.get("key_string") if isinstance(manifest.get("key_string"), str) else None,
                finished_at=d.finished_at if d is not None else None,
                draw_head=(d.draw_head or None) if d is not None else None,
                published_at=d.published_at if d is not None else None,
                published_by=(d.published_by or None) if d is not None else None,
                publication_head=(d.publication_head or None) if d is not None else None,
                redraw_reason=redraw.reason if redraw is not None else None,
                redraw_requested_by=redraw.requested_by if redraw is not None else None,
                redraw_approved_by=redraw.decided_by if redraw is not None else None,
                replaces_draw_id=redraw.draw_id if redraw is not None else None,
                superseded_by=d.superseded_by if d is not None else None,
                visits=counts.get(d.id, 0) if d is not None else 0,
                strata=strata.get(d.id, []) if d is not None else [],
            )
        )
    return out
