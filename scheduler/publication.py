"""What a plan run may show the public (一公开): ``publication.csv`` and ``strata.csv``.

The public learns who is inspected, by which agency, for which items and when
(the Wulong notice on standardising enforcement, 2021, 三(四): publish the
agency, the object, the kind of inspection and the conclusion). It never
learns personal data: the Handan implementing opinion (001, 三(一)1) requires
removing natural persons' home addresses, contact details, id numbers and the
names of natural persons other than the party. So the publication carries no
legal representative's id, no inspector's id, name or certificate number, no
relative's id, no address (an individual business's address is its owner's
home) and no coordinates or phone numbers.

``strata.csv`` publishes each stratum's size, sample size and ticket
threshold, so any enterprise can check its own ticket against the draw.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from scheduler.registry import Registry
from scheduler.result import PlanResult

PUBLICATION_FILE = "publication.csv"
STRATA_FILE = "strata.csv"

PUBLICATION_COLUMNS = [
    "task_id",
    "agency",
    "joint_agencies",
    "credit_code",
    "enterprise",
    "region_code",
    "industry",
    "items",
    "date",
    "visit_id",
    "result",
    "drawn_as",
]
"""The publication's columns, in file order. ``drawn_as`` is 重点领域 (key area, covered in
full) or 随机抽取 (random draw): public facts that let anyone check each ticket."""
KEY_AREA_LABEL = "重点领域"
RANDOM_LABEL = "随机抽取"

STRATA_COLUMNS = [
    "task_id",
    "stratum",
    "population_size",
    "sample_size",
    "inclusion_probability",
    "threshold",
]

PENDING_RESULT = "待检查"
"""The ``result`` of a visit not yet carried out."""

PERSONAL_COLUMNS = frozenset(
    {
        "legal_rep_id",
        "address",
        "lat",
        "lon",
        "phone",
        "telephone",
        "mobile",
        "inspector_id",
        "inspector_ids",
        "inspector_name",
        "inspector_names",
        "certificate_no",
        "certificate_expiry",
        "relatives_ids",
        "former_employers",
        "法定代表人证件号",
        "住所",
        "联系电话",
        "电话",
        "人员编码",
        "姓名",
        "执法证号",
        "近亲属证件号",
        "曾任职单位",
    }
)
"""Columns that must never appear in anything published (Handan opinion 三(一)1)."""

_LONG_TOKEN = 8
"""Tokens at least this long are also looked for inside cells, not only as whole cells."""


class PersonalDataError(ValueError):
    """A frame meant for the public holds personal data."""


def _enterprise_rows(result: PlanResult) -> dict[str, dict]:
    """The registry rows of the visited enterprises, by credit code."""
    codes = {v.credit_code for v in result.visits}
    df = result.registry.enterprises
    if df.empty or not codes:
        return {}
    sub = df[df["credit_code"].isin(codes)]
    return {str(row["credit_code"]): row for row in sub.to_dict("records")}


def _text(value: object) -> str:
    """A cell as text; missing values (None, NaN) become empty."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _agency_name(registry: Registry, agency_id: str) -> str:
    agency = registry.agencies.get(agency_id)
    return agency.name if agency else agency_id


def _item_name(registry: Registry, item_id: str) -> str:
    item = registry.items.get(item_id)
    return item.name if item else item_id


def publication_frame(result: PlanResult) -> pd.DataFrame:
    """One row per (visit, task), sorted by task, date, credit code and visit.

    Only public facts: the task, its lead and joint agencies' names, the
    enterprise's credit code, name, region and industry, the items' names,
    the date and the (pending) result. See the module docstring for what is
    left out and why.
    """
    registry = result.registry
    enterprises = _enterprise_rows(result)
    key_area = {(s.task_id, s.credit_code) for s in result.selection if s.stratum == "key_area"}
    rows: list[dict[str, str]] = []
    for visit in result.visits:
        ent = enterprises.get(visit.credit_code, {})
        for task_id in visit.task_ids:
            try:
                task = result.plan.task(task_id)
                lead, joint, items = task.agency_id, task.joint_agencies, task.items
            except KeyError:
                lead, joint, items = visit.lead_agency_id, (), ()
            rows.append(
                {
                    "task_id": task_id,
                    "agency": _agency_name(registry, lead),
                    "joint_agencies": ";".join(_agency_name(registry, a) for a in joint),
                    "credit_code": visit.credit_code,
                    "enterprise": _text(ent.get("name")),
                    "region_code": _text(ent.get("region_code")),
                    "industry": _text(ent.get("industry")),
                    "items": ";".join(_item_name(registry, i) for i in items),
                    "date": visit.date.isoformat() if visit.date else "",
                    "visit_id": visit.visit_id,
                    "result": PENDING_RESULT,
                    "drawn_as": KEY_AREA_LABEL if (task_id, visit.credit_code) in key_area else RANDOM_LABEL,
                }
            )
    rows.sort(key=lambda r: (r["task_id"], r["date"], r["credit_code"], r["visit_id"]))
    return pd.DataFrame(rows, columns=PUBLICATION_COLUMNS, dtype=object)


def strata_frame(result: PlanResult) -> pd.DataFrame:
    """One row per (task, stratum), sorted; the threshold is empty when nothing was drawn."""
    rows = [
        {
            "task_id": s.task_id,
            "stratum": s.stratum,
            "population_size": int(s.population_size),
            "sample_size": int(s.sample_size),
            "inclusion_probability": float(s.inclusion_probability),
            "threshold": s.threshold or "",
        }
        for s in result.strata
    ]
    rows.sort(key=lambda r: (r["task_id"], r["stratum"]))
    return pd.DataFrame(rows, columns=STRATA_COLUMNS)


def _personal_tokens(registry: Registry) -> set[str]:
    """Every legal representative's id, relative's id and inspector id, name and certificate."""
    tokens: set[str] = set()
    ent = registry.enterprises
    if "legal_rep_id" in ent.columns:
        tokens.update(_text(v).strip() for v in ent["legal_rep_id"])
    for insp in registry.inspectors.values():
        tokens.update({insp.inspector_id, insp.name, insp.certificate_no or ""})
        tokens.update(insp.relatives_ids)
    tokens.discard("")
    return tokens


def _cell_tokens(cell: str) -> Iterable[str]:
    yield cell.strip()
    for part in cell.split(";"):
        yield part.strip()


def assert_no_personal_data(
    frame: pd.DataFrame, registry: Registry, registered_names: Iterable[str] = ()
) -> None:
    """Raise :class:`PersonalDataError` if ``frame`` holds personal data.

    Personal data is a column named in :data:`PERSONAL_COLUMNS`, or a cell
    (or a ``;``-separated part of one) equal to any legal representative's
    id, relative's id, or inspector's id, name or certificate number in
    ``registry``. Tokens of 8 or more characters (personal ids, certificate
    numbers) are also caught inside longer text; short ones (a two-character
    name) only as a whole cell or part, so that an enterprise named after its
    owner is not mistaken for an inspector of the same name. In the columns
    named in ``registered_names`` (an enterprise's registered name, which an
    individual business may share with its owner and the credit publicity
    system shows anyway) only the long tokens are looked for.
    """
    bad_columns = sorted(str(c) for c in frame.columns if str(c) in PERSONAL_COLUMNS)
    if bad_columns:
        raise PersonalDataError(f"personal columns in a public table: {', '.join(bad_columns)}")
    tokens = _personal_tokens(registry)
    long_tokens = {t for t in tokens if len(t) >= _LONG_TOKEN}
    lengths = sorted({len(t) for t in long_tokens})

    def inside(cell: str) -> str | None:
        # substring lookups by token length: fast with millions of registry ids
        for n in lengths:
            if n > len(cell):
                break
            for i in range(len(cell) - n + 1):
                if cell[i : i + n] in long_tokens:
                    return cell[i : i + n]
        return None

    names_ok = set(registered_names)
    for column in frame.columns:
        exact = tokens if column not in names_ok else long_tokens
        checked: set[str] = set()
        for row, value in enumerate(frame[column].tolist()):
            cell = _text(value)
            if not cell or cell in checked:
                continue
            checked.add(cell)
            hit = next((t for t in _cell_tokens(cell) if t in exact), None) or inside(cell)
            if hit is not None:
                raise PersonalDataError(
                    f"personal data in a public table: row {row + 1}, column {column}: {hit!r}"
                )


def _write_csv(frame: pd.DataFrame, path: Path, bom: bool) -> Path:
    """Write ``frame`` deterministically: ``\\n`` line endings, UTF-8 (with BOM if asked)."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    data = buf.getvalue().encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_publication(result: PlanResult, out_dir: str | Path) -> Path:
    """Write ``publication.csv`` (UTF-8 with BOM, so Excel shows the Chinese) into ``out_dir``.

    Checks the frame with :func:`assert_no_personal_data` before writing.
    """
    frame = publication_frame(result)
    assert_no_personal_data(frame, result.registry, registered_names=("enterprise",))
    return _write_csv(frame, Path(out_dir) / PUBLICATION_FILE, bom=True)


def write_strata(result: PlanResult, out_dir: str | Path) -> Path:
    """Write ``strata.csv`` (plain UTF-8) into ``out_dir``: per task and stratum, the
    population and sample sizes, the inclusion probability and the ticket threshold."""
    return _write_csv(strata_frame(result), Path(out_dir) / STRATA_FILE, bom=False)
