"""Registries as real platforms export them: every value understood or refused (issue 11).

One test per rule: status forms and the policy key, risk-class forms, date forms, Excel damage to
ids, header aliases, the mapping file, entity types.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from scheduler.draw import draw
from scheduler.errors import InputError
from scheduler.forms import (
    ACTIVE,
    STATUS_FORMS,
    excel_damaged,
    normal_text,
    parse_date,
    personal_id_valid,
)
from scheduler.importer import load_registry, registry_files
from scheduler.mapping import load_mapping
from scheduler.messages import t
from scheduler.plan import parse_plan
from scheduler.tables import HEADER_ALIASES
from tests.scheduler.test_importer import CODES, problems_of, valid_tables, with_value, write_registry

NATIONAL_ACTIVE = ["存续（在营、开业、在册）", "存续(在营、开业、在册)", "在营（开业）", "开业", "在业", "存续", "在册", "正常"]
NATIONAL_NOT_ACTIVE = {
    "吊销，未注销": "吊销，未注销",
    "吊销,未注销": "吊销，未注销",
    "吊销": "吊销，未注销",
    "已吊销": "吊销，未注销",
    "吊销，已注销": "吊销，已注销",
    "注销": "注销",
    "已注销": "注销",
    "撤销": "撤销",
    "迁出": "迁出",
    "其他": "其他",
    "停业": "歇业",
    "歇业": "歇业",
    "清算": "清算",
    "清算中": "清算",
    "责令关闭": "责令关闭",
}


@pytest.fixture(autouse=True)
def _english_messages(monkeypatch):
    """These tests pin the English rendering (file, row, column); the Chinese rendering of a
    Problem is tested in tests/test_messages.py."""
    monkeypatch.setenv("RANDINSPECT_LANG", "en")


def load(tables, tmp_path: Path, name: str = "reg", **kwargs):
    return load_registry(write_registry(tmp_path / name, tables), **kwargs)


# ---- 1. registration status -------------------------------------------------------------------


@pytest.mark.parametrize("form", NATIONAL_ACTIVE + ["active", "ACTIVE"])
def test_the_active_family_is_active(tmp_path: Path, form: str) -> None:
    reg = load(with_value("enterprises", 0, "status", form), tmp_path)
    assert reg.enterprises["status"].iloc[0] == ACTIVE


@pytest.mark.parametrize(("form", "kept"), sorted(NATIONAL_NOT_ACTIVE.items()))
def test_other_national_statuses_are_kept_as_their_code(tmp_path: Path, form: str, kept: str) -> None:
    reg = load(with_value("enterprises", 0, "status", form), tmp_path)
    assert reg.enterprises["status"].iloc[0] == kept


def test_an_unknown_status_names_value_count_first_rows_and_the_mapping(tmp_path: Path) -> None:
    tables = valid_tables()
    for k in (1, 3, 4):
        tables["enterprises"][k]["status"] = "K"
    problems = problems_of(tables, tmp_path)
    assert problems == [
        "enterprises.csv, row 3, column status: "
        + t("unknown_status", value="K", count=3, rows="3, 5, 6", column="status")
    ]
    assert "'K'" in problems[0] and "mapping.yaml" in problems[0] and "[K]" in problems[0]


def test_policy_decides_whether_suspended_and_revoked_are_drawn(tmp_path: Path) -> None:
    tables = valid_tables()
    for e in tables["enterprises"]:
        e["key_area"] = "true"  # drawn in full: the frame is the population
    statuses = ["歇业", "吊销，未注销", "注销", "开业", "停业"]
    for e, s in zip(tables["enterprises"], statuses, strict=True):
        e["status"] = s
    reg = load(tables, tmp_path)
    task = {"task_id": "T", "agency_id": "SJ130102", "count": 1, "window": {"start": "2026-01-05", "end": "2026-03-31"}}

    def drawn(**policy) -> set[str]:
        _, selection, _ = draw(parse_plan({"quarter": "2026Q1", "policy": policy, "tasks": [task]}), reg, "s")
        return {s.credit_code for s in selection}

    assert drawn() == {CODES[3]}
    assert drawn(draw_statuses=["歇业"]) == {CODES[0], CODES[3], CODES[4]}
    assert drawn(draw_statuses=["吊销,未注销", "歇业"]) == {CODES[0], CODES[1], CODES[3], CODES[4]}
    with pytest.raises(InputError, match="注销"):
        parse_plan({"quarter": "2026Q1", "policy": {"draw_statuses": ["注销"]}, "tasks": [task]})


# ---- 2. risk class ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "kept"),
    [("A类", "A"), ("D类", "D"), ("信用风险低", "A"), ("信用风险一般", "B"), ("信用风险较高", "C"), ("信用风险高", "D"), ("C", "C")],
)
def test_risk_class_forms(tmp_path: Path, form: str, kept: str) -> None:
    reg = load(with_value("enterprises", 0, "risk_class", form), tmp_path)
    assert reg.enterprises["risk_class"].iloc[0] == kept


# ---- 3. dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["2026-01-05", "2026/1/5", "2026.1.5", "2026年1月5日", "2026年01月05日", "20260105", "2026-01-05 00:00:00", "46027"]
)
def test_date_forms(text: str) -> None:
    assert parse_date(text) == dt.date(2026, 1, 5)


@pytest.mark.parametrize("text", ["2026-13-01", "2026/2/30", "next monday", "2026-01-05 08:30:00", "1234"])
def test_not_dates(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize("text", ["长期", "长期有效", "9999-09-09", "9999-12-31", "9999年12月31日"])
def test_a_certificate_that_does_not_expire(tmp_path: Path, text: str) -> None:
    reg = load(with_value("inspectors", 0, "certificate_expiry", text), tmp_path)
    assert reg.inspectors["P1"].certificate_expiry is None
    assert reg.inspectors["P1"].certified_on(dt.date(2030, 1, 1))


def test_long_term_is_no_date_elsewhere(tmp_path: Path) -> None:
    assert problems_of(with_value("leave", 0, "end", "长期"), tmp_path) == [
        "leave.csv, row 2, column end: " + t("date_bad", column="end", value="长期")
    ]


def test_chinese_dates_and_excel_date_cells_in_the_tables(tmp_path: Path) -> None:
    tables = valid_tables()
    tables["history"][0]["date"] = "2025年6月3日"
    tables["leave"][0]["start"] = "2026/2/2"
    tables["leave"][0]["end"] = "46059"  # an Excel date cell read as its serial number
    folder = write_registry(tmp_path / "reg", tables)
    (folder / "inspectors.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    columns = list(tables["inspectors"][0])
    sheet.append(columns)
    for row in tables["inspectors"]:
        values = [row[c] or None for c in columns]
        if row["certificate_expiry"]:
            values[columns.index("certificate_expiry")] = dt.datetime(2026, 12, 31)
        sheet.append(values)
    book.save(folder / "inspectors.xlsx")
    reg = load_registry(folder)
    assert reg.history["date"].iloc[0] == pd.Timestamp("2025-06-03")
    assert (reg.leave[0].start, reg.leave[0].end) == (dt.date(2026, 2, 2), dt.date(2026, 2, 6))
    assert reg.inspectors["P1"].certificate_expiry == dt.date(2026, 12, 31)


# ---- 4. Excel damage --------------------------------------------------------------------------


def test_scientific_notation_in_an_id_column_is_refused(tmp_path: Path) -> None:
    assert problems_of(with_value("enterprises", 2, "legal_rep_id", "6.79894E+17"), tmp_path) == [
        "enterprises.csv, row 4, column legal_rep_id: "
        + t("excel_scientific", value="6.79894E+17", column="legal_rep_id")
    ]


def test_ids_zeroed_past_the_15th_digit_are_refused(tmp_path: Path) -> None:
    tables = valid_tables()
    for k, e in enumerate(tables["enterprises"]):
        e["legal_rep_id"] = f"{130102198001010 + k}000"
    problems = problems_of(tables, tmp_path)
    assert len(problems) == 5
    assert problems[0] == "enterprises.csv, row 2, column legal_rep_id: " + t(
        "excel_zeroed", value="130102198001010000", column="legal_rep_id"
    )


def test_relatives_ids_in_a_list_are_checked_too(tmp_path: Path) -> None:
    problems = problems_of(with_value("inspectors", 0, "relatives_ids", "h1;1.30102E+17"), tmp_path)
    assert problems == [
        "inspectors.csv, row 2, column relatives_ids: "
        + t("excel_scientific", value="1.30102E+17", column="relatives_ids")
    ]


def test_a_damaged_credit_code_is_named_once_as_excel_damage(tmp_path: Path) -> None:
    problems = problems_of(with_value("enterprises", 0, "credit_code", "9.11301E+17"), tmp_path)
    assert problems == [
        "enterprises.csv, row 2, column credit_code: " + t("excel_scientific", value="9.11301E+17", column="credit_code")
    ]


def test_an_id_stored_as_a_number_in_an_xlsx_is_refused(tmp_path: Path) -> None:
    """Excel keeps 15 digits of a long id typed into a General cell and stores a float: read back it
    is 6.79894316841885e+17, never digits the file does not hold."""
    tables = valid_tables()
    folder = write_registry(tmp_path / "reg", tables)
    (folder / "enterprises.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    columns = list(tables["enterprises"][0])
    sheet.append(columns)
    for k, row in enumerate(tables["enterprises"]):
        values = [row[c] for c in columns]
        values[columns.index("legal_rep_id")] = 679894316841885000.0 + k * 1000
        sheet.append(values)
    book.save(folder / "enterprises.xlsx")
    with pytest.raises(InputError) as info:
        load_registry(folder)
    problems = info.value.problems
    assert [(p.file, p.row, p.column) for p in problems] == [("enterprises.xlsx", r, "legal_rep_id") for r in range(2, 7)]
    assert problems[0].message == t("excel_scientific", value="6.79894316841885e+17", column="legal_rep_id")


def test_genuine_ids_ending_in_zeros_are_not_flagged() -> None:
    """Only certain damage is refused: a real id may end in 000 (sequence x00, check digit 0)."""
    lone = next(f"1301021980010{k:02d}000" for k in range(100) if personal_id_valid(f"1301021980010{k:02d}000"))
    # one id ending in zeros among long ids that do not: not Excel's doing
    assert not excel_damaged(pd.Series(["110105194912310021", lone, "130102198001010013"]), personal_id_valid).any()
    # a lone id ending in zeros (here twice: one person, two enterprises) whose check digit is right
    assert not excel_damaged(pd.Series([lone, lone]), personal_id_valid).any()
    # ids that merely contain an E are not scientific notation
    assert not excel_damaged(pd.Series(["1E5", "6.79894E17", "SJ130100"])).any()


# ---- 5. header aliases ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "alias", "column"), [(t_, a, c) for t_, aliases in HEADER_ALIASES.items() for a, c in aliases.items()]
)
def test_header_aliases(tmp_path: Path, table: str, alias: str, column: str) -> None:
    tables = valid_tables()
    for row in tables[table]:
        row[alias] = row.pop(column)
    got, want = load(tables, tmp_path), load(valid_tables(), tmp_path, "plain")
    if table == "enterprises":
        assert got.enterprises[column].tolist() == want.enterprises[column].tolist()
    else:
        assert got.inspectors == want.inspectors


# ---- 6. mapping file --------------------------------------------------------------------------

MAPPING = """\
columns:            # per table: contract column -> the export's header
  enterprises: {credit_code: 主体身份代码, status: RegState}
values:             # per column: contract value -> the export's values
  status: {active: [K, B, A, Q, X], inactive: [XX, DX, C, D, DA, QX]}
  risk_class: {A: [低风险], D: [高风险]}
"""


def mapped_tables():
    tables = valid_tables()
    for k, e in enumerate(tables["enterprises"]):
        e["主体身份代码"] = e.pop("credit_code")
        e["RegState"] = ["K", "B", "DX", "X", "K"][k]
        del e["status"]
        e["risk_class"] = {"A": "低风险", "D": "高风险"}.get(e["risk_class"], e["risk_class"])
    return tables


def test_a_mapping_file_in_the_folder_maps_headers_and_values(tmp_path: Path) -> None:
    folder = write_registry(tmp_path / "reg", mapped_tables())
    (folder / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    reg = load_registry(folder)
    assert reg.enterprises["credit_code"].tolist() == CODES
    assert reg.enterprises["status"].tolist() == ["active", "active", "inactive", "active", "active"]
    assert reg.enterprises["risk_class"].tolist() == list("ABCDA")
    assert reg.files["mapping"] == folder / "mapping.yaml"
    assert registry_files(folder)["mapping"] == folder / "mapping.yaml"


def test_a_mapping_file_given_elsewhere_and_not_two(tmp_path: Path) -> None:
    folder = write_registry(tmp_path / "reg", mapped_tables())
    with pytest.raises(InputError, match="credit_code"):
        load_registry(folder)  # without the mapping the export is not understood
    elsewhere = tmp_path / "platform.yaml"
    elsewhere.write_text(MAPPING, encoding="utf-8")
    assert load_registry(folder, mapping=elsewhere).files["mapping"] == elsewhere
    (folder / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    with pytest.raises(InputError, match="mapping"):
        load_registry(folder, mapping=elsewhere)


@pytest.mark.parametrize(
    ("text", "key", "named"),
    [
        ("columns: {firms: {credit_code: X}}", "columns.firms", "firms"),
        ("columns: {enterprises: {code: X}}", "columns.enterprises.code", "code"),
        ("values: {status: {open: [K]}}", "values.status.open", "open"),
        ("values: {colour: {A: [x]}}", "values.colour", "colour"),
        ("values: {status: {active: [K], inactive: [K]}}", "values.status.inactive", "K"),
        ("columns: {enterprises: {name: N, address: N}}", "columns.enterprises.address", "N"),
        ("colums: {}", "colums", "colums"),
    ],
)
def test_a_bad_mapping_names_the_key_and_value(tmp_path: Path, text: str, key: str, named: str) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_mapping(path)
    (problem,) = info.value.problems
    assert problem.file == "mapping.yaml" and problem.column == key and named in problem.message


def test_a_mapped_header_the_file_lacks_is_named(tmp_path: Path) -> None:
    folder = write_registry(tmp_path / "reg", valid_tables())
    (folder / "mapping.yaml").write_text("columns: {enterprises: {status: RegState}}", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_registry(folder)
    assert [p.message for p in info.value.problems] == [
        t("mapping_header_absent", header="RegState", column="status", file="enterprises.csv")
    ]


# ---- 7. entity types --------------------------------------------------------------------------


def test_entity_types_are_understood_and_filter_a_task(tmp_path: Path) -> None:
    tables = valid_tables()
    kinds = ["企业", "个体工商户", "个体工商户", "农民专业合作社", "个体户"]
    for e, kind in zip(tables["enterprises"], kinds, strict=True):
        e["entity_type"] = kind
        e["key_area"] = "true"
    reg = load(tables, tmp_path)
    assert reg.enterprises["entity_type"].tolist() == ["企业", "个体工商户", "个体工商户", "农民专业合作社", "个体工商户"]
    task = {
        "task_id": "T",
        "agency_id": "SJ130102",
        "count": 1,
        "population": {"entity_types": ["个体工商户"]},
        "window": {"start": "2026-01-05", "end": "2026-03-31"},
    }
    plan = parse_plan({"quarter": "2026Q1", "tasks": [task]})
    _, selection, frames = draw(plan, reg, "s")
    assert {s.credit_code for s in selection} == {CODES[1], CODES[4]}
    assert frames[0].entity_type == 2 and frames[0].not_active == 1  # CODES[2] is 注销 in valid_tables
    assert problems_of(with_value("enterprises", 0, "entity_type", "公司制"), tmp_path)[0].endswith(
        t("unknown_entity_type", value="公司制", count=1, rows="2", column="entity_type")
    )
    with pytest.raises(InputError, match="个体"):
        parse_plan({"quarter": "2026Q1", "tasks": [dict(task, population={"entity_types": ["个体"]})]})


def test_status_forms_cover_the_national_code_set() -> None:
    for code in ("存续（在营、开业、在册）", "吊销，未注销", "吊销，已注销", "注销", "撤销", "迁出", "其他"):
        assert normal_text(code) in STATUS_FORMS


def test_directed_or_undirected_draw() -> None:
    """定向抽查: the population is narrowed by entity type, industry or a region inside the lead's
    jurisdiction; otherwise 不定向抽查 (risk classes do not count)."""
    from scheduler.publication import DIRECTED, UNDIRECTED, inspection_type
    from tests import factories as f

    reg = f.registry(10)
    base = {"task_id": "T", "agency_id": "SJ130100", "count": 1, "window": {"start": "2026-01-05", "end": "2026-03-31"}}

    def kind(population: dict) -> str:
        plan = parse_plan({"quarter": "2026Q1", "tasks": [dict(base, population=population)]})
        return inspection_type(plan.tasks[0], reg)

    assert kind({}) == UNDIRECTED
    assert kind({"risk_classes": ["C", "D"]}) == UNDIRECTED
    assert kind({"region_prefix": "1301"}) == UNDIRECTED  # the lead's own jurisdiction
    assert kind({"region_prefix": "130123"}) == DIRECTED
    assert kind({"industries": ["F52"]}) == DIRECTED
    assert kind({"entity_types": ["个体工商户"]}) == DIRECTED


def test_a_mapping_may_name_the_levels(tmp_path: Path) -> None:
    tables = valid_tables()
    tables["agencies"][2]["level"] = "区县级"
    with pytest.raises(InputError, match="区县级"):
        load(tables, tmp_path)
    folder = write_registry(tmp_path / "mapped", tables)
    (folder / "mapping.yaml").write_text("values: {level: {county: [区县级]}}", encoding="utf-8")
    assert load_registry(folder).agencies["SJ130102"].level.name == "COUNTY"
