"""The 全过程记录: read the hash chain and verify it (planners, leaders and auditors).

Records are listed within the reader's scope (records of its agencies, and the service-wide ones:
agency tree loads); verification always covers the whole chain (a hash chain cannot be checked
in parts) and answers only whether it is intact, its length and head, and the first bad seq.
With ``head`` — the one published at a commitment, draw or publication — records cut from the
end of the chain (and a rewound stored head) are detected: the head must be one of the chain's
hashes, and the newest records after it are reported."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit_store
from api.deps import ReadScope, SessionDep
from api.models import AuditHead, AuditRecordRow
from api.routers.auth import MAX_ID, errors
from scheduler.audit import AuditReport, verify_records

router = APIRouter(tags=["audit"])


class AuditRecordPublic(BaseModel):
    seq: int
    time: str
    kind: str
    actor: str
    data: Any
    prev: str
    hash: str


class AuditVerification(BaseModel):
    ok: bool
    count: int
    head: str
    first_bad: int | None
    message: str


def _data(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # a tampered row: shown as stored (verify names it)


@router.get("/audit", response_model=list[AuditRecordPublic], responses=errors(401, 403, 422))
def audit_records(
    scope: ReadScope,
    session: SessionDep,
    start: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditRecordPublic]:
    """Records from ``start`` (their seq), oldest first."""
    rows = session.scalars(
        select(AuditRecordRow)
        .where(
            AuditRecordRow.seq >= start,
            AuditRecordRow.agency_id.in_(sorted(scope.agency_ids)) | AuditRecordRow.agency_id.is_(None),
        )
        .order_by(AuditRecordRow.seq)
        .limit(limit)
    )
    return [
        AuditRecordPublic(seq=r.seq, time=r.time, kind=r.kind, actor=r.actor, data=_data(r.data), prev=r.prev, hash=r.hash)
        for r in rows
    ]


def _verify(session: Session, head: str | None) -> AuditReport:
    try:
        return audit_store.verify(session, head)
    except ValueError:
        # A row whose data is no longer JSON: the chain verifies up to it at best.
        rows = list(session.scalars(select(AuditRecordRow).order_by(AuditRecordRow.seq)))
        bad = next((k for k, r in enumerate(rows) if not isinstance(_data(r.data), dict | list) or r.seq != k), len(rows))
        before = audit_store.records(session, 0, bad) if bad else []
        report = verify_records(before, None)
        if not report.ok:
            return report
        return AuditReport(False, bad, report.head, bad, f"record {bad}: its data is not JSON (edited)")


@router.get("/audit/verify", response_model=AuditVerification, responses=errors(401, 403, 422))
def audit_verify(
    scope: ReadScope,
    session: SessionDep,
    head: Annotated[
        str | None, Query(pattern=r"^[0-9a-f]{64}$", description="the published head: also catches records cut from the end")
    ] = None,
) -> AuditVerification:
    """Check the whole chain; the first edited, dropped or reordered record is named. With
    ``head`` (a head published at a commitment, draw or publication): the chain must contain it,
    else records were cut from its end (detected even when the stored head was rewound too);
    records appended after it are normal and said so."""
    report = _verify(session, None)
    stored = session.get(AuditHead, 1)
    if report.ok and head is not None:
        hashes = {r.hash: r.seq for r in session.scalars(select(AuditRecordRow))}
        if head == "0" * 64 or head in hashes:
            at = hashes.get(head, -1)
            later = report.count - 1 - at
            message = (
                f"audit record intact: {report.count} records, head {report.head}; the published head {head} is "
                f"record {at}'s" + (f", {later} records were added after it" if later else ", the newest")
            )
            return AuditVerification(ok=True, count=report.count, head=report.head, first_bad=None, message=message)
        message = (
            f"AUDIT RECORD BROKEN: the published head {head} is no record's hash: records were removed from the "
            f"end of the chain (it now ends at record {report.count - 1}, hash {report.head}), or the head is not this service's"
        )
        return AuditVerification(ok=False, count=report.count, head=report.head, first_bad=report.count, message=message)
    message = report.message or (
        f"audit record intact: {report.count} records, head {report.head}"
        + ("" if stored is None or stored.hash == report.head else " (the stored head differs)")
    )
    return AuditVerification(
        ok=report.ok, count=report.count, head=report.head, first_bad=report.first_bad, message=message
    )
