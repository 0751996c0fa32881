"""The enterprise's own notice (检查通知书), by its credit code and the code printed on the notice.

No account: the notice code is the enterprise's key. The code identifies ONE visit of ONE draw:
later draws never hide or change what an issued notice shows; a notice of a draw replaced by an
approved re-draw is shown marked 已作废 (void). Only official draws (from a public commitment)
are found: a test draw's notices (测试抽取) are not. One indexed query, no pipeline work: the
structured fields are read back from the stored notice, which ``render_notice`` wrote.
"""

from __future__ import annotations

import datetime as dt
import hmac
from functools import lru_cache
from html.parser import HTMLParser

from fastapi import APIRouter, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from api.deps import refuse
from api.models import DrawRecord, VisitRecord
from api.routers.auth import errors
from api.throttle import Throttled
from scheduler.notices import RIGHTS

router = APIRouter(tags=["notices"])

MISMATCH = "credit code and notice code do not match"


class EnterpriseCodes(BaseModel):
    """What the enterprise holds: its credit code and the code printed on its notice."""

    credit_code: str = Field(pattern=r"^[0-9A-Za-z]{18}$", examples=["91130102MA0CXXXX1X"])
    notice_code: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", examples=["7KQ2M9XZ4P"])

    @field_validator("credit_code", "notice_code")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()


class NoticeItem(BaseModel):
    task_id: str
    item: str
    legal_basis: str


class TeamMember(BaseModel):
    inspector_id: str
    name: str
    certificate_no: str
    agency: str


class Right(BaseModel):
    title: str
    text: str


class NoticePublic(BaseModel):
    visit_id: str
    draw_id: int
    void: bool = Field(False, description="the draw was replaced by an approved re-draw: this notice is void (已作废)")
    status: str = Field("有效", description="有效, or 已作废")
    credit_code: str
    enterprise: str
    date: dt.date
    window_start: dt.date
    window_end: dt.date
    agencies: list[str]
    tasks: list[str]
    items: list[NoticeItem]
    team: list[TeamMember]
    rights: list[Right]
    html: str


_COLUMNS = (
    VisitRecord.id,
    VisitRecord.draw_id,
    VisitRecord.visit_id,
    VisitRecord.credit_code,
    VisitRecord.enterprise,
    VisitRecord.task_ids,
    VisitRecord.date,
    VisitRecord.inspector_ids,
    VisitRecord.window_start,
    VisitRecord.window_end,
    VisitRecord.notice_code,
    VisitRecord.notice_html,
    DrawRecord.superseded_by,
)
VOID = "已作废"
VOID_BANNER = (
    '<p class="void" style="border:2px solid #b00;color:#b00;padding:4px 8px;font-weight:bold">'
    "已作废：本通知书所属的抽取已经负责人批准重新抽取，本通知书作废。</p>\n"
)


def find_visit(conn: Session | Connection, codes: EnterpriseCodes) -> Row | None:
    """The enterprise's visit whose code is ``notice_code`` (compared in constant time), in any
    finished OFFICIAL draw; else None. One indexed query over the enterprise's visits."""
    rows = conn.execute(
        select(*_COLUMNS)
        .join(DrawRecord, DrawRecord.id == VisitRecord.draw_id)
        .where(
            VisitRecord.credit_code == codes.credit_code,
            DrawRecord.status == "done",
            DrawRecord.seed_kind == "public",
        )
        .order_by(VisitRecord.draw_id.desc())
    ).all()
    found = None
    given = codes.notice_code.encode()
    for row in rows or ():
        if hmac.compare_digest(row.notice_code.upper().encode(), given):
            found = row
    if not rows:
        hmac.compare_digest(b"\x00", given)  # the same work when the enterprise has no visit
    return found


def enterprise_visit(request: Request, session: Session | Connection, codes: EnterpriseCodes) -> Row:
    """:func:`find_visit`, or a recorded 403 (the same answer for an unknown enterprise, a wrong
    code, or another enterprise's code)."""
    row = find_visit(session, codes)
    if row is None:
        raise refuse(request, status.HTTP_403_FORBIDDEN, MISMATCH, f"enterprise {codes.credit_code}")
    return row


class _NoticeParser(HTMLParser):
    """The tables' body rows and the signing agencies of a rendered notice."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.sign: list[str] = [""]
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_body = False
        self._sign_depth = 0
        self._sign_p = 0

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
            self.tables.append([])
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "div" and ("class", "sign") in attrs:
            self._sign_depth = 1
        elif tag == "p" and self._sign_depth:
            self._sign_p += 1
        elif tag == "br" and self._sign_depth and self._sign_p == 1:
            self.sign.append("")

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag == "td" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "div" and self._sign_depth:
            self._sign_depth = 0

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._sign_depth and self._sign_p == 1:
            self.sign[-1] += data


@lru_cache(maxsize=8192)
def notice_fields(html: str) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """(item rows, team rows, agencies) of a notice rendered by ``render_notice``."""
    parser = _NoticeParser()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # a notice from elsewhere: no structured fields, the html is still given
        return (), (), ()
    tables = parser.tables + [[], []]
    items = tuple(tuple(r) for r in tables[0] if len(r) == 3)
    team = tuple(tuple(r) for r in tables[1] if len(r) == 3)
    agencies = tuple(a.strip() for a in parser.sign if a.strip())
    return items, team, agencies


def notice_of(row: Row) -> NoticePublic:
    items, team, agencies = notice_fields(row.notice_html)
    ids = [i for i in row.inspector_ids.split(";") if i]
    void = row.superseded_by is not None
    html = row.notice_html
    if void:
        html = html.replace("<body>\n", "<body>\n" + VOID_BANNER, 1) if "<body>\n" in html else VOID_BANNER + html
    return NoticePublic(
        visit_id=row.visit_id,
        draw_id=row.draw_id,
        void=void,
        status=VOID if void else "有效",
        credit_code=row.credit_code,
        enterprise=row.enterprise,
        date=row.date,
        window_start=row.window_start,
        window_end=row.window_end,
        agencies=list(agencies),
        tasks=[t for t in row.task_ids.split(";") if t],
        items=[NoticeItem(task_id=t, item=i, legal_basis="" if b == "—" else b) for t, i, b in items],
        team=[
            TeamMember(inspector_id=ids[k] if k < len(ids) else "", name=n, certificate_no=c, agency=a)
            for k, (n, c, a) in enumerate(team)
        ],
        rights=[Right(title=t, text=x) for t, x in RIGHTS],
        html=html,
    )


@router.post("/notices/lookup", response_model=NoticePublic, responses=errors(403, 422, 429), dependencies=[Throttled("notice")])
async def lookup(body: EnterpriseCodes, request: Request) -> Response:
    """An enterprise reads its own notice: its visit's date, agencies, tasks and items with their
    legal basis, the team's names and certificate numbers, its rights, and the printable page.
    A code that is not this enterprise's gives 403 (recorded)."""
    # Built for hundreds of concurrent look-ups: one indexed read of well under a millisecond,
    # run on the event loop (no worker-thread hop, no pool contention: a reader never waits
    # for a lock in SQLite's WAL mode); only the refusal, a write, goes to a worker thread.
    with request.app.state.engine.connect() as conn:
        row = find_visit(conn, body)
    if row is None:
        raise await run_in_threadpool(
            refuse, request, status.HTTP_403_FORBIDDEN, MISMATCH, f"enterprise {body.credit_code}"
        )
    return Response(notice_of(row).model_dump_json(), media_type="application/json")
