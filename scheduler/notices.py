"""One printable inspection notice (检查通知书) per visit, for the enterprise.

What a notice carries follows the Chongqing Wulong district notice on
standardising enforcement (武隆府办发〔2021〕53号):

* 三(一): inspect by plan, with advance notice to the inspected party, by at
  least two certified officers who show their enforcement certificates
  (亮证执法, also 四(一)): so the notice names every team member with the
  number of their certificate (执法证号);
* 三(二): tell the party the reason and the legal basis of the action and the
  rights it has, among them to state its case and to defend itself
  (陈述权、申辩权): so the notice lists the items with their legal basis and
  the enterprise's rights, including the right to ask that a team member with
  an interest in it step aside (申请回避);
* 三(四): publish the agency, the object, the kind and the conclusion: so the
  notice says the result will be made public (双随机、一公开).

Every value taken from the inputs is HTML-escaped. The notice carries no issue
date or other timestamp: the same plan gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
from collections.abc import Mapping
from html import escape
from pathlib import Path

import pandas as pd

from scheduler import cells
from scheduler.plan_run import PlanResult, Visit
from scheduler.publication import enterprise_column, visited_enterprises
from scheduler.registry import Registry

NOTICES_DIR = "notices"
INDEX_FILE = "index.csv"
INDEX_COLUMNS = ["visit_id", "credit_code", "file"]

RIGHTS = (
    (
        "申请回避",
        "检查人员与你单位有直接利害关系（包括曾在你单位任职，或与你单位法定代表人系近亲属）"
        "或者有其他关系可能影响公正检查的，你单位有权在检查前或检查中申请其回避。",
    ),
    (
        "陈述、申辩",
        "你单位有权对检查中发现的问题和检查结果进行陈述和申辩，检查机关应当听取并记录在案；"
        "依法享有的听证、申请行政复议和提起行政诉讼等权利不受影响。",
    ),
    (
        "查验证件",
        "检查人员不少于两名，并应当主动出示行政执法证件；未出示证件的，你单位有权拒绝检查。",
    ),
)
"""The enterprise's rights, as printed on every notice (Wulong notice 三(一), 三(二))."""

_CSS = """\
@page { size: A4; margin: 20mm 18mm; }
* { box-sizing: border-box; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 12pt;
       line-height: 1.7; color: #000; margin: 0 auto; max-width: 174mm; padding: 10mm 0; }
h1 { text-align: center; font-size: 20pt; letter-spacing: 0.3em; margin: 0 0 2mm; }
.agency { text-align: center; font-size: 14pt; margin: 0; }
.ref { text-align: right; margin: 2mm 0 6mm; }
h2 { font-size: 13pt; margin: 5mm 0 2mm; }
table { width: 100%; border-collapse: collapse; margin: 2mm 0; }
th, td { border: 1px solid #000; padding: 1.5mm 2mm; text-align: left; vertical-align: top; }
th { background: #eee; }
.sign { margin-top: 12mm; text-align: right; }
.note { font-size: 10pt; margin-top: 8mm; border-top: 1px solid #000; padding-top: 2mm; }
@media print { body { padding: 0; max-width: none; } th { background: none; } }
"""


def chinese_date(day: dt.date) -> str:
    """``2026-01-05`` -> ``2026年1月5日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _agency_name(registry: Registry, agency_id: str) -> str:
    agency = registry.agencies.get(agency_id)
    return agency.name if agency else agency_id


def _enterprises(result: PlanResult, codes: set[str]) -> dict[str, dict]:
    """Registry rows of the enterprises ``codes``, by credit code (one pass over the table)."""
    df = result.registry.enterprises
    if df.empty or not codes:
        return {}
    sub = df[df["credit_code"].isin(codes)]
    return {str(row["credit_code"]): row for row in sub.to_dict("records")}


_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def chinese_quarter(quarter: str) -> str:
    """``2026Q1`` -> ``2026年第一季度`` (anything else is returned unchanged)."""
    m = _QUARTER.match(quarter)
    if not m:
        return quarter
    return f"{m.group(1)}年第{'一二三四'[int(m.group(2)) - 1]}季度"


def _item_rows(result: PlanResult, visit: Visit) -> list[tuple[str, str, str]]:
    """(task, item name, legal basis) for every item of every task of the visit.

    A task without items, or an item missing from the registry's items table,
    falls back to the task id (or item id) with an empty legal basis.
    """
    rows: list[tuple[str, str, str]] = []
    for task_id in visit.task_ids:
        try:
            items = result.plan.task(task_id).items
        except KeyError:
            items = ()
        if not items:
            rows.append((task_id, task_id, ""))
        for item_id in items:
            item = result.registry.items.get(item_id)
            if item is None:
                rows.append((task_id, item_id, ""))
            else:
                rows.append((task_id, item.name, item.legal_basis))
    return rows


def _member(registry: Registry, inspector_id: str) -> tuple[str, str, str]:
    """(name, certificate number, agency name) of one team member (the id alone if unknown)."""
    insp = registry.inspectors.get(inspector_id)
    if insp is None:
        return (inspector_id, "", "")
    return (insp.name, insp.certificate_no or "", _agency_name(registry, insp.agency_id))


def _team_rows(result: PlanResult, visit: Visit) -> list[tuple[str, str, str]]:
    """(name, certificate number, agency name) per team member, in slot order."""
    return [_member(result.registry, i) for i in visit.inspector_ids]


class _Notices:
    """Renders the notices of one plan: what many visits share (agency names, a task's items,
    a team member's row, the rights) is escaped and joined once, not once per visit."""

    def __init__(self, result: PlanResult):
        self.result = result
        self.quarter = _e(chinese_quarter(result.plan.quarter))
        self.rights_html = "\n".join(
            f"<li><strong>{_e(title)}</strong>：{_e(text)}</li>" for title, text in RIGHTS
        )
        self._agencies: dict[tuple[str, tuple[str, ...]], tuple[str, str, str]] = {}
        self._items: dict[tuple[str, ...], str] = {}
        self._members: dict[str, str] = {}

    def agencies(self, visit: Visit) -> tuple[str, str, str]:
        """(lead agency, "lead 会同 joint", every agency for the signature), escaped."""
        key = (visit.lead_agency_id, visit.agency_ids)
        if key not in self._agencies:
            registry = self.result.registry
            lead = _agency_name(registry, visit.lead_agency_id)
            joint = [_agency_name(registry, a) for a in visit.agency_ids if a != visit.lead_agency_id]
            by = _e(lead) + (f"会同{_e('、'.join(joint))}" if joint else "")
            self._agencies[key] = (_e(lead), by, "<br>\n".join(_e(a) for a in [lead, *joint]))
        return self._agencies[key]

    def items(self, visit: Visit) -> str:
        if visit.task_ids not in self._items:
            self._items[visit.task_ids] = "\n".join(
                f"<tr><td>{_e(t)}</td><td>{_e(name)}</td><td>{_e(basis) if basis else '—'}</td></tr>"
                for t, name, basis in _item_rows(self.result, visit)
            )
        return self._items[visit.task_ids]

    def team(self, visit: Visit) -> str:
        rows = []
        for inspector_id in visit.inspector_ids:
            row = self._members.get(inspector_id)
            if row is None:
                name, cert, agency = _member(self.result.registry, inspector_id)
                row = f"<tr><td>{_e(name)}</td><td>{_e(cert)}</td><td>{_e(agency)}</td></tr>"
                self._members[inspector_id] = row
            rows.append(row)
        return "\n".join(rows)

    def render(self, visit: Visit, enterprise_name: str) -> str:
        lead, by, agencies_html = self.agencies(visit)
        if visit.date is not None:
            when = chinese_date(visit.date)
        else:
            when = f"{chinese_date(visit.window_start)}至{chinese_date(visit.window_end)}期间（具体日期另行通知）"
        visit_id = _e(visit.visit_id)
        return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>检查通知书 {visit_id}</title>
<style>
{_CSS}</style>
</head>
<body>
<p class="agency">{lead}</p>
<h1>检查通知书</h1>
<p class="ref">编号：{visit_id}</p>
<p><strong>{_e(enterprise_name)}</strong>（统一社会信用代码：{_e(visit.credit_code)}）：</p>
<p>根据“双随机、一公开”监管工作要求，你单位经随机抽取被确定为{self.quarter}抽查对象，\
检查人员经随机选派产生。{by}定于<strong>{_e(when)}</strong>对你单位开展现场检查（进一次门、查多项事）。\
请你单位安排熟悉情况的负责人员在场配合，并备齐与下列检查事项有关的证照、台账和资料。</p>
<h2>一、检查任务与事项</h2>
<table>
<thead><tr><th>任务</th><th>检查事项</th><th>检查依据</th></tr></thead>
<tbody>
{self.items(visit)}
</tbody>
</table>
<h2>二、检查人员</h2>
<table>
<thead><tr><th>姓名</th><th>执法证号</th><th>所属机构</th></tr></thead>
<tbody>
{self.team(visit)}
</tbody>
</table>
<h2>三、你单位的权利</h2>
<ol>
{self.rights_html}
</ol>
<h2>四、结果公开</h2>
<p>本次检查属“双随机、一公开”抽查，检查结果将自检查完成之日起20个工作日内\
通过国家企业信用信息公示系统依法向社会公示。公示内容不包含个人身份信息。</p>
<div class="sign">
<p>{agencies_html}</p>
<p>（印章）&emsp;&emsp;年&emsp;&emsp;月&emsp;&emsp;日</p>
</div>
<p class="note">本通知书一式两份，一份送达被检查单位，一份存档。</p>
</body>
</html>
"""


def render_notice(result: PlanResult, visit: Visit, enterprise: Mapping | None = None) -> str:
    """The notice for ``visit`` as a self-contained, printable (A4) HTML page.

    ``enterprise`` is the visited enterprise's registry row; looked up when
    not given (pass it when rendering many notices: the lookup scans the table).
    """
    if enterprise is None:
        enterprise = _enterprises(result, {visit.credit_code}).get(visit.credit_code, {})
    return _Notices(result).render(visit, enterprise.get("name") or visit.credit_code)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def notice_filename(visit_id: str) -> str:
    """``<visit_id>.html``, with characters unsafe in a file name replaced by ``_``."""
    name = _UNSAFE.sub("_", visit_id).lstrip(".") or "_"
    return f"{name}.html"


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _write_file(path: str, data: bytes) -> None:
    """``open(path, "wb").write(data)`` in three system calls instead of five (300,000 files)."""
    fd = os.open(path, _CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def write_notices(
    result: PlanResult,
    out_dir: str | Path,
    enterprises: pd.DataFrame | None = None,
    digests: dict[str, str] | None = None,
) -> list[Path]:
    """Write ``notices/<visit_id>.html`` per visit and ``notices/index.csv``
    (visit_id, credit_code, file; sorted by visit_id) into ``out_dir``.

    Returns the notices' paths in visit_id order. ``enterprises`` is
    :func:`scheduler.publication.visited_enterprises` when the caller has it already; when
    ``digests`` is given, the SHA-256 of every file written goes into it, by its path relative
    to ``out_dir`` (``notices/…``), so that nobody has to read 300,000 files back to hash them.
    """
    folder = Path(out_dir) / NOTICES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    visits = sorted(result.visits, key=lambda v: v.visit_id)
    if enterprises is None:
        enterprises = visited_enterprises(result, ("name",))
    names = enterprise_column(enterprises, "name")
    notices = _Notices(result)
    seen: dict[str, str] = {}
    paths: list[Path] = []
    buf = io.StringIO()
    writer = cells.writer(buf, lineterminator="\n")
    writer.writerow(INDEX_COLUMNS)
    base = str(folder)
    for visit in visits:
        name = notice_filename(visit.visit_id)
        if name in seen:
            raise ValueError(
                f"visits {seen[name]!r} and {visit.visit_id!r} would share the notice file {name}"
            )
        seen[name] = visit.visit_id
        data = notices.render(visit, str(names.get(visit.credit_code) or visit.credit_code)).encode("utf-8")
        path = os.path.join(base, name)
        _write_file(path, data)
        if digests is not None:
            digests[f"{NOTICES_DIR}/{name}"] = hashlib.sha256(data).hexdigest()
        paths.append(Path(path))
        writer.writerow([visit.visit_id, visit.credit_code, name])
    data = buf.getvalue().encode("utf-8")
    (folder / INDEX_FILE).write_bytes(data)
    if digests is not None:
        digests[f"{NOTICES_DIR}/{INDEX_FILE}"] = hashlib.sha256(data).hexdigest()
    return paths
