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
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scheduler.cells import neutral_frame
from scheduler.plan_run import PlanResult
from scheduler.registry import Registry
from scheduler.tables import isin_text

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
    "task_name",
    "inspection_type",
]
"""The publication's columns, in file order. ``drawn_as`` is 重点领域 (key area, covered in
full) or 随机抽取 (random draw): public facts that let anyone check each ticket.
``inspection_type`` (抽查类型) is 定向抽查 when the task's population is narrowed by entity type,
industry or region, else 不定向抽查 (:func:`inspection_type`)."""
DIRECTED = "定向抽查"
UNDIRECTED = "不定向抽查"
GSXT_FILE = "results_gsxt"
GSXT_COLUMNS = [
    "抽查计划编号",
    "抽查计划名称",
    "抽查任务编号",
    "抽查任务名称",
    "抽查类型",
    "抽查机关",
    "统一社会信用代码",
    "企业名称",
    "抽查完成日期",
    "检查事项",
    "检查结果",
]
"""The national enterprise credit publicity system's 双随机抽查结果信息, one row per (visit, task,
item); the enterprise's credit code and name say whose result it is."""
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


def visited_enterprises(result: PlanResult, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """The registry rows of the visited enterprises (``columns`` of them, and ``credit_code``): one
    scan of the enterprise table, however many visits. The output writers share it (a province
    registry holds millions of rows; looking them up once per file would cost seconds each)."""
    df = result.registry.enterprises
    keep = (
        None
        if columns is None
        else list(dict.fromkeys(c for c in ("credit_code", *columns) if c in df.columns))
    )
    if df.empty or not result.visits:
        return df.iloc[0:0] if keep is None else df.iloc[0:0][keep]
    sub = df[isin_text(df["credit_code"], {v.credit_code for v in result.visits})]
    return sub if keep is None else sub[keep]


def enterprise_texts(
    enterprises: pd.DataFrame, columns: Iterable[str], codes: list[str]
) -> dict[str, list[str]]:
    """Columns of :func:`visited_enterprises` as text for each of ``codes`` (in order): a
    missing enterprise, column or value (None, NaN) gives an empty string."""
    columns = list(columns)
    present = [c for c in columns if c in enterprises.columns]
    frame = (
        enterprises.drop_duplicates("credit_code", keep="last")
        .set_index("credit_code")[present]
        .reindex(codes)
    )
    out = {}
    for column in columns:
        if column not in present:
            out[column] = [""] * len(codes)
        elif isinstance(frame[column].dtype, pd.StringDtype):
            out[column] = frame[column].fillna("").tolist()
        else:
            out[column] = [_text(v) for v in frame[column].tolist()]
    return out


def enterprise_column(enterprises: pd.DataFrame, column: str) -> dict[str, object]:
    """``credit code -> value`` of one column of :func:`visited_enterprises` (an absent column:
    empty); the values as the registry holds them."""
    if column not in enterprises.columns:
        return {}
    return dict(zip(enterprises["credit_code"].tolist(), enterprises[column].tolist(), strict=True))


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


def inspection_type(task, registry: Registry) -> str:
    """抽查类型: 定向抽查 when the population is narrowed by entity type, industry or region (a region
    prefix inside the lead agency's jurisdiction), 不定向抽查 otherwise. (Risk classes are how
    every draw is stratified, not a narrowing; the contract has no size filter.)"""
    pop = task.population
    lead = registry.agencies.get(task.agency_id)
    narrower_region = bool(pop.region_prefix) and (lead is None or pop.region_prefix != lead.prefix)
    return DIRECTED if pop.entity_types or pop.industries or narrower_region else UNDIRECTED


def _agency_name(registry: Registry, agency_id: str) -> str:
    agency = registry.agencies.get(agency_id)
    return agency.name if agency else agency_id


def _item_name(registry: Registry, item_id: str) -> str:
    item = registry.items.get(item_id)
    return item.name if item else item_id


def publication_frame(result: PlanResult, enterprises: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (visit, task), sorted by task, date, credit code and visit.

    Only public facts: the task, its lead and joint agencies' names, the
    enterprise's credit code, name, region and industry, the items' names,
    the date and the (pending) result. See the module docstring for what is
    left out and why. ``enterprises`` is :func:`visited_enterprises` when the
    caller has it already.
    """
    registry = result.registry
    if enterprises is None:
        enterprises = visited_enterprises(result, ("name", "region_code", "industry"))
    codes = [v.credit_code for v in result.visits]
    texts = enterprise_texts(enterprises, ("name", "region_code", "industry"), codes)
    names, regions, industries = texts["name"], texts["region_code"], texts["industry"]
    key_area = {(s.task_id, s.credit_code) for s in result.selection if s.stratum == "key_area"}
    per_task: dict[tuple[str, str], tuple[str, ...]] = {}  # (task, visit's lead) -> agency, joint, items, ...

    def task_facts(task_id: str, lead_agency_id: str) -> tuple[str, ...]:
        try:
            task = result.plan.task(task_id)
            lead, joint, items = task.agency_id, task.joint_agencies, task.items
            name, kind = task.name, inspection_type(task, registry)
        except KeyError:
            lead, joint, items, name, kind = lead_agency_id, (), (), "", ""
        return (
            _agency_name(registry, lead),
            ";".join(_agency_name(registry, a) for a in joint),
            ";".join(_item_name(registry, i) for i in items),
            name,
            kind,
        )

    rows: list[tuple[str, ...]] = []
    for k, visit in enumerate(result.visits):
        code = visit.credit_code
        day = visit.date.isoformat() if visit.date else ""
        for task_id in visit.task_ids:
            key = (task_id, visit.lead_agency_id)
            agency, joint, items, task_name, kind = per_task.get(key) or per_task.setdefault(key, task_facts(*key))
            drawn_as = KEY_AREA_LABEL if (task_id, code) in key_area else RANDOM_LABEL
            rows.append(
                (
                    task_id,
                    agency,
                    joint,
                    code,
                    names[k],
                    regions[k],
                    industries[k],
                    items,
                    day,
                    visit.visit_id,
                )
                + (PENDING_RESULT, drawn_as, task_name, kind)
            )
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(PUBLICATION_COLUMNS)
    frame = pd.DataFrame(
        {c: list(values) for c, values in zip(PUBLICATION_COLUMNS, columns, strict=True)},
        columns=PUBLICATION_COLUMNS,
        dtype=object,
    )
    order = frame.sort_values(["task_id", "date", "credit_code", "visit_id"], kind="stable").index
    return frame.take(order).reset_index(drop=True)


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
    """Every legal representative's id, relative's id and inspector id, name and certificate (what
    :func:`assert_no_personal_data` looks for; it finds the few that matter with
    :func:`_present_tokens` instead of building this set of millions)."""
    tokens = _roster_tokens(registry)
    ent = registry.enterprises
    if "legal_rep_id" in ent.columns:
        tokens.update(_text(v).strip() for v in ent["legal_rep_id"])
    tokens.discard("")
    return tokens


def _roster_tokens(registry: Registry) -> set[str]:
    """The inspectors' ids, names and certificate numbers and their relatives' ids (a few
    thousand: the roster, not the enterprise table)."""
    tokens: set[str] = set()
    for insp in registry.inspectors.values():
        tokens.update({insp.inspector_id, insp.name, insp.certificate_no or ""})
        tokens.update(insp.relatives_ids)
    tokens.discard("")
    return tokens


def _arrow_strings(values: Iterable[str]) -> pa.Array:
    return pa.array(list(values), type=pa.large_string())


_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
"""Every character Python's ``str.strip()`` removes (none above U+3000)."""
_EDGE_SPACE = "^[{0}]|[{0}]$".format("".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE))
"""A text that starts or ends with one of them (RE2 syntax)."""


def _legal_rep_tokens(registry: Registry) -> pa.Array | pa.ChunkedArray:
    """Every legal representative's id as :func:`_personal_tokens` takes it (text, stripped,
    not empty), as Arrow strings: millions in a province, kept vectorised and uncopied where
    possible, never a Python set."""
    ent = registry.enterprises
    if "legal_rep_id" not in ent.columns or ent.empty:
        return _arrow_strings([])
    col = ent["legal_rep_id"]
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        reps = pa.array(col)  # the column's own buffers
        if reps.type != pa.large_string():
            reps = reps.cast(pa.large_string())
        if reps.null_count:
            reps = reps.drop_null()  # a missing id is no token
        # Python strips what it calls whitespace, Arrow has its own idea: strip in Python if any.
        if pc.any(pc.match_substring_regex(reps, _EDGE_SPACE)).as_py():
            reps = _arrow_strings(v.strip() for v in reps.to_pylist())
    else:
        reps = _arrow_strings(_text(v).strip() for v in col)
    empty = pc.equal(reps, "")
    return reps.filter(pc.invert(empty)) if pc.any(empty).as_py() else reps


def _present_tokens(frame: pd.DataFrame, registry: Registry) -> set[str]:
    """The personal tokens (see :func:`assert_no_personal_data`) that any of its checks could
    find in ``frame``: those equal to a candidate string of a cell (the cell, a ``;``-part, or a
    substring as long as some long token). Checking only these gives the same answer as checking
    every token, without building a set of a province's millions of legal representatives' ids."""
    roster_tokens = _roster_tokens(registry)
    roster = _arrow_strings(roster_tokens)
    reps = _legal_rep_tokens(registry)
    rep_lengths = {n for n in pc.unique(pc.utf8_length(reps)).to_pylist() if n >= _LONG_TOKEN}
    roster_lengths = {len(t) for t in roster_tokens if len(t) >= _LONG_TOKEN}
    cells: set[str] = set()
    for column in frame.columns:
        values = frame[column].tolist()
        try:
            distinct = set(values)
        except TypeError:  # unhashable cells: as text
            distinct = {_text(v) for v in values}
        cells.update(_text(v) for v in distinct)
    cells.discard("")
    exact = set(cells)
    for cell in cells:
        if ";" in cell or cell[0].isspace() or cell[-1].isspace():
            exact.update(_cell_tokens(cell))
    texts = _arrow_strings(cells)
    text_lengths = pc.utf8_length(texts).to_numpy()
    order = np.argsort(-text_lengths, kind="stable")  # longest first
    texts, text_lengths = texts.take(order), text_lengths[order]
    windows: dict[int, list[pa.Array]] = {}  # length -> every substring of that length
    for n in sorted(rep_lengths | roster_lengths):
        windows[n] = [
            pc.utf8_slice_codeunits(texts.slice(0, int((text_lengths >= i + n).sum())), i, i + n)
            for i in range(int(text_lengths[0]) - n + 1 if len(texts) else 0)
        ]
    exact_arr = _arrow_strings(exact)
    present: set[str] = set()
    for tokens, lengths in ((roster, roster_lengths), (reps, rep_lengths)):
        candidates = pa.chunked_array(
            [exact_arr, *(w for n in sorted(lengths) for w in windows[n])], type=pa.large_string()
        )
        if len(tokens) == 0 or len(candidates) == 0:
            continue
        if len(tokens) <= len(candidates):  # hash the smaller side, probe the larger
            found = candidates.filter(pc.is_in(candidates, value_set=tokens))
        else:
            found = tokens.filter(pc.is_in(tokens, value_set=candidates.combine_chunks()))
        present.update(found.to_pylist())
    return present


def _cell_tokens(cell: str) -> Iterable[str]:
    yield cell.strip()
    for part in cell.split(";"):
        yield part.strip()


OFFICIAL_COLUMNS = ("agency", "joint_agencies", "items")
"""Columns that hold only the registry's agency and item names (``;``-joined): official names,
public by law, checked for personal identifiers once, at upload
(:func:`scheduler.importer.load_registry`), and not searched again here: an inspector whose name
also occurs inside an agency's name must not stop a draw at 85 % (issue 12)."""


def official_names(registry: Registry) -> set[str]:
    """Every agency's and item's name."""
    return {a.name for a in registry.agencies.values()} | {i.name for i in registry.items.values()}


def assert_no_personal_data(
    frame: pd.DataFrame,
    registry: Registry,
    registered_names: Iterable[str] = (),
    official_columns: Iterable[str] = OFFICIAL_COLUMNS,
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
    system shows anyway) only the long tokens are looked for. In ``official_columns`` a cell made
    only of the registry's agency and item names is not searched (see :data:`OFFICIAL_COLUMNS`).
    """
    bad_columns = sorted(str(c) for c in frame.columns if str(c) in PERSONAL_COLUMNS)
    if bad_columns:
        raise PersonalDataError(f"personal columns in a public table: {', '.join(bad_columns)}")
    tokens = _present_tokens(frame, registry)
    if not tokens:
        return
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
    official = set(official_columns)
    official_texts = official_names(registry) if official else set()
    for column in frame.columns:
        exact = tokens if column not in names_ok else long_tokens
        checked: set[str] = set()
        for row, value in enumerate(frame[column].tolist()):
            cell = _text(value)
            if not cell or cell in checked:
                continue
            checked.add(cell)
            if column in official and all(p in official_texts for p in cell.split(";")):
                continue
            hit = next((t for t in _cell_tokens(cell) if t in exact), None) or inside(cell)
            if hit is not None:
                raise PersonalDataError(
                    f"personal data in a public table: row {row + 1}, column {column}: {hit!r}"
                )


def _write_csv(frame: pd.DataFrame, path: Path, bom: bool) -> Path:
    """Write ``frame`` deterministically: ``\\n`` line endings, UTF-8 (with BOM if asked)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        if bom:
            fh.write("\ufeff")
        neutral_frame(frame).to_csv(fh, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return path


def write_publication(
    result: PlanResult, out_dir: str | Path, enterprises: pd.DataFrame | None = None
) -> Path:
    """Write ``publication.csv`` (UTF-8 with BOM, so Excel shows the Chinese) into ``out_dir``.

    Checks the frame with :func:`assert_no_personal_data` before writing. ``enterprises`` is
    :func:`visited_enterprises` when the caller has it already.
    """
    frame = publication_frame(result, enterprises)
    assert_no_personal_data(frame, result.registry, registered_names=("enterprise",))
    return _write_csv(frame, Path(out_dir) / PUBLICATION_FILE, bom=True)


def write_strata(result: PlanResult, out_dir: str | Path) -> Path:
    """Write ``strata.csv`` (plain UTF-8) into ``out_dir``: per task and stratum, the
    population and sample sizes, the inclusion probability and the ticket threshold."""
    return _write_csv(strata_frame(result), Path(out_dir) / STRATA_FILE, bom=False)


def gsxt_frame(
    publication: pd.DataFrame, results: dict[str, str], plan_id: str, plan_name: str
) -> pd.DataFrame:
    """The published results in the layout of the national enterprise credit publicity system
    (:data:`GSXT_COLUMNS`): one row per (visit, task, item) of ``publication`` (rows of
    :func:`publication_frame`) whose visit has a published result in ``results`` (visit id ->
    category). Items are the ``;``-separated names of the row's ``items``; a task without items
    gives one row with 检查事项 empty. Public facts only, like the publication."""
    rows = []
    for r in publication.itertuples(index=False):
        category = results.get(r.visit_id)
        if category is None:
            continue
        agencies = "、".join(a for a in [r.agency, *str(r.joint_agencies or "").split(";")] if a)
        items = [i for i in str(r.items or "").split(";") if i] or [""]
        for item in items:
            rows.append(
                [
                    plan_id,
                    plan_name,
                    r.task_id,
                    getattr(r, "task_name", "") or r.task_id,
                    getattr(r, "inspection_type", ""),
                    agencies,
                    r.credit_code,
                    r.enterprise,
                    r.date,
                    item,
                    category,
                ]
            )
    return pd.DataFrame(rows, columns=GSXT_COLUMNS, dtype=object)


def gsxt_csv(frame: pd.DataFrame) -> bytes:
    """:func:`gsxt_frame` as CSV bytes: UTF-8 with BOM (Excel shows the Chinese), ``\\n`` line ends."""
    return ("\ufeff" + frame.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)).encode("utf-8")


def gsxt_xlsx(frame: pd.DataFrame) -> bytes:
    """:func:`gsxt_frame` as an XLSX workbook: every cell text (``@`` format, string type), never a
    number or a formula, so a credit code or a date stays as written."""
    import io

    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("双随机抽查结果信息")

    def text(value: object) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=_text(value))
        cell.data_type = "s"
        cell.number_format = "@"
        return cell

    sheet.append([text(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        sheet.append([text(v) for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def write_gsxt_files(frame: pd.DataFrame, out_dir: str | Path) -> tuple[Path, Path]:
    """``results_gsxt.csv`` (:func:`gsxt_csv`) and ``results_gsxt.xlsx`` (:func:`gsxt_xlsx`) into
    ``out_dir``."""
    out = Path(out_dir)
    csv_path, xlsx_path = out / f"{GSXT_FILE}.csv", out / f"{GSXT_FILE}.xlsx"
    csv_path.write_bytes(gsxt_csv(frame))
    xlsx_path.write_bytes(gsxt_xlsx(frame))
    return csv_path, xlsx_path
