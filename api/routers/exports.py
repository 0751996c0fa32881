"""Excel export of a finished draw: what a team leader prints.

``GET /api/draws/{id}/export.xlsx`` (planner, auditor): sheet ``检查户次`` lists every visit
(visit, enterprise, credit code, tasks, date, the team's names and certificate numbers, the
enterprise's address from the registry: where the team goes); then one
sheet per inspector on a team (named by the inspector's name and id, at most 31 characters, the
characters Excel forbids in a sheet name removed) listing that inspector's visits by date.
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import defer

from api.deps import ReadScope, SessionDep
from api.models import PlanRecord, VisitRecord
from api.routers.draws import DrawId, kind_label
from api.routers.registries import AUTH, CONFLICT, NOT_FOUND
from api.routers.visits import _done_draw, _team
from api.store import materialise_registry
from scheduler.cells import xlsx_row
from scheduler.importer import load_registry

router = APIRouter(tags=["exports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALL_SHEET = "检查户次"
ALL_HEADER = (
    "检查户次编号", "企业名称", "统一社会信用代码", "抽查任务", "检查日期", "检查人员", "执法证号", "检查地址", "抽取性质"
)
PERSON_HEADER = (
    "检查日期",
    "检查户次编号",
    "企业名称",
    "统一社会信用代码",
    "行政区划",
    "抽查任务",
    "检查组成员",
    "执法证号",
    "检查地址",
    "抽取性质",
)
_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")
MAX_SHEET = 31


def sheet_name(name: str, inspector_id: str, taken: set[str]) -> str:
    """``name + id``, without the characters Excel forbids, at most 31 characters (the name is
    shortened first, so the id stays whole), unique within ``taken`` (which it joins)."""
    ident = _FORBIDDEN.sub("", inspector_id).strip("'")
    person = _FORBIDDEN.sub("", name).strip().strip("'")
    base = (person[: max(0, MAX_SHEET - len(ident))] + ident)[:MAX_SHEET].strip("'") or "inspector"
    candidate, n = base, 1
    while candidate.lower() in {t.lower() for t in taken} or candidate == ALL_SHEET:
        n += 1
        suffix = f"~{n}"
        candidate = base[: MAX_SHEET - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


def _widths(ws, widths: tuple[int, ...]) -> None:
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w


def build_workbook(visits: list[dict], kind: str = "正式抽取") -> bytes:
    """The workbook for ``visits`` (dicts of ``api.routers.visits._fields``), as bytes; every row
    says how the draw was made (``kind``: 正式抽取, or 测试抽取 for a test draw)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(ALL_SHEET)
    _widths(ws, (16, 36, 22, 28, 12, 24, 40, 40, 10))
    ws.append(xlsx_row(ws, ALL_HEADER))
    by_inspector: dict[str, list[dict]] = {}
    names: dict[str, str] = {}
    for v in visits:
        ws.append(
            xlsx_row(ws, (
                v["visit_id"],
                v["enterprise"],
                v["credit_code"],
                "、".join(v["task_ids"]),
                v["date"],
                "、".join(m.name or m.inspector_id for m in v["team"]),
                "、".join(m.certificate_no for m in v["team"]),
                v.get("address", ""),
                kind,
            ))
        )
        for m in v["team"]:
            by_inspector.setdefault(m.inspector_id, []).append(v)
            names[m.inspector_id] = m.name
    taken: set[str] = {ALL_SHEET}
    for inspector_id in sorted(by_inspector):
        sheet = wb.create_sheet(sheet_name(names[inspector_id], inspector_id, taken))
        _widths(sheet, (12, 16, 36, 22, 10, 28, 24, 40, 40, 10))
        sheet.append(xlsx_row(sheet, PERSON_HEADER))
        for v in sorted(by_inspector[inspector_id], key=lambda v: (v["date"], v["visit_id"])):
            sheet.append(
                xlsx_row(sheet, (
                    v["date"],
                    v["visit_id"],
                    v["enterprise"],
                    v["credit_code"],
                    v["region_code"],
                    "、".join(v["task_ids"]),
                    "、".join(m.name or m.inspector_id for m in v["team"]),
                    "、".join(m.certificate_no for m in v["team"]),
                    v.get("address", ""),
                    kind,
                ))
            )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _addresses(session, registry_id: int) -> dict[str, str]:
    """``credit code -> address`` from the draw's stored registry (empty without the column)."""
    with tempfile.TemporaryDirectory(prefix="randinspect-export-") as tmp:
        folder = materialise_registry(session, registry_id, Path(tmp) / "registry")
        enterprises = load_registry(folder).enterprises
    if "address" not in enterprises.columns:
        return {}
    values = enterprises["address"].astype("string").fillna("")
    return dict(zip(enterprises["credit_code"].tolist(), values.tolist(), strict=True))


@router.get(
    "/draws/{draw_id}/export.xlsx",
    response_class=Response,
    responses={
        200: {
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            "description": "the workbook",
        },
        **AUTH,
        **NOT_FOUND,
        **CONFLICT,
    },
    summary="The draw's visits as an Excel workbook (all visits, and one sheet per inspector)",
)
def export_xlsx(draw_id: DrawId, request: Request, scope: ReadScope, session: SessionDep) -> Response:
    draw, lookup = _done_draw(request, session, draw_id, scope)
    kind = kind_label(draw.seed_kind)
    addresses = _addresses(session, session.get(PlanRecord, draw.plan_id).registry_id)
    rows = session.scalars(
        select(VisitRecord)
        .options(defer(VisitRecord.notice_html), defer(VisitRecord.notice_code))
        .where(VisitRecord.draw_id == draw_id)
        .order_by(VisitRecord.visit_id)
    )
    visits = []
    for v in rows:
        ids = [i for i in v.inspector_ids.split(";") if i]
        visits.append(
            {
                "visit_id": v.visit_id,
                "enterprise": v.enterprise,
                "credit_code": v.credit_code,
                "region_code": v.region_code,
                "task_ids": [t for t in v.task_ids.split(";") if t],
                "date": v.date,
                "team": _team(lookup, ids),
                "address": addresses.get(v.credit_code, ""),
            }
        )
    session.rollback()
    filename = f"检查户次-{draw_id}.xlsx" if kind == "正式抽取" else f"{kind}-检查户次-{draw_id}.xlsx"
    ascii_name = f"draw-{draw_id}.xlsx" if kind == "正式抽取" else f"TEST-draw-{draw_id}.xlsx"
    return Response(
        content=build_workbook(visits, kind),
        media_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
        },
    )
