"""The 全过程记录 in the database: the same hash chain as ``scheduler.audit``.

Every append first updates the single ``audit_head`` row, which takes its lock (a row lock on
PostgreSQL, the write lock on SQLite), so two requests can never chain from the same record.
"""

from __future__ import annotations

import json

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.models import AuditHead, AuditRecordRow
from scheduler.audit import AuditReport, canonical_json, make_record, verify_records


def append(session: Session, kind: str, data: dict, actor: str = "", agency_id: str | None = None) -> dict:
    """Chain a record in the caller's transaction (committed with the change it records).
    ``agency_id``: whose record it is (lists are scoped by it; it is not hashed)."""
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(count=AuditHead.count + 1))
    head = session.get(AuditHead, 1, populate_existing=True)
    record = make_record(head.count - 1, head.hash, kind, data, actor)
    session.add(
        AuditRecordRow(
            seq=record["seq"],
            time=record["time"],
            kind=kind,
            actor=actor,
            data=canonical_json(record["data"]),
            prev=record["prev"],
            hash=record["hash"],
            agency_id=agency_id,
        )
    )
    head.hash = record["hash"]
    session.flush()
    return record


def records(session: Session, start: int = 0, limit: int | None = None) -> list[dict]:
    q = select(AuditRecordRow).where(AuditRecordRow.seq >= start).order_by(AuditRecordRow.seq)
    if limit is not None:
        q = q.limit(limit)
    return [
        {"seq": r.seq, "time": r.time, "kind": r.kind, "actor": r.actor, "data": json.loads(r.data), "prev": r.prev, "hash": r.hash}
        for r in session.scalars(q)
    ]


def verify(session: Session, head: str | None = None) -> AuditReport:
    """Verify the whole chain; with ``head``, also that nothing was cut from or added to its end."""
    stored = session.get(AuditHead, 1)
    report = verify_records(records(session), head if head is not None else (stored.hash if stored else None))
    return report


def draw_agency(session: Session, draw_id: int) -> str | None:
    """The agency whose record a change of draw ``draw_id`` is (its plan's agency)."""
    from api.models import DrawRecord, PlanRecord

    return session.scalar(
        select(PlanRecord.agency_id).join(DrawRecord, DrawRecord.plan_id == PlanRecord.id).where(DrawRecord.id == draw_id)
    )
