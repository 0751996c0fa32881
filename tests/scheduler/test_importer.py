"""Loading a registry folder: types returned and every validation, with exact messages."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.errors import InputError
from scheduler.importer import MAX_PER_CHECK, load_registry, uscc_valid
from scheduler.messages import t
from scheduler.registry import ENTERPRISE_COLUMNS, Agency, Conflict, Inspector, Item, Leave, Level
from scheduler.uscc import ALPHABET, make_code, uscc_problem


@pytest.fixture(autouse=True)
def _english_messages(monkeypatch):
    """These tests pin the importer's English texts (its messages move to the catalogue with
    issue 11's rewrite); the Chinese rendering of a Problem is tested in tests/test_messages.py."""
    monkeypatch.setenv("RANDINSPECT_LANG", "en")

CODES = [make_code(f"91130100MA0{k:06d}") for k in range(5)]
BAD_CHECK = "91350100M000100Y44"  # GB 32100-2015 gives '3'

Table = list[dict[str, str]]


def valid_tables() -> dict[str, Table]:
    """A minimal valid registry: market province -> city -> county, one ecology bureau."""
    agencies = [
        {
            "agency_id": "SJ130000",
            "name": "河北省市场监督管理局",
            "department": "market",
            "level": "province",
            "parent_id": "",
            "region_code": "130000",
        },
        {
            "agency_id": "SJ130100",
            "name": "石家庄市市场监督管理局",
            "department": "market",
            "level": "市",
            "parent_id": "SJ130000",
            "region_code": "130100",
        },
        {
            "agency_id": "SJ130102",
            "name": "长安区市场监督管理局",
            "department": "market",
            "level": "county",
            "parent_id": "SJ130100",
            "region_code": "130102",
        },
        {
            "agency_id": "ST130100",
            "name": "石家庄市生态环境局",
            "department": "ecology",
            "level": "city",
            "parent_id": "",
            "region_code": "130100",
        },
    ]
    enterprises = [
        {
            "credit_code": code,
            "name": f"企业{k}",
            "region_code": "130102",
            "industry": ["C13", "F5211", "H"][k % 3],
            "risk_class": "ABCDA"[k],
            "key_area": ["", "是", "TRUE", "0", "n"][k],
            "abnormal": "",
            "complaints": ["", "3", "0", "12", ""][k],
            "status": ["", "active", "注销", "", ""][k],
            "legal_rep_id": f"13010219800101{k + 1:04d}",  # not ...0000: that is what Excel leaves of an id
            "address": "",
            "lat": ["", "38.04", "", "", ""][k],
            "lon": ["", "114.51", "", "", ""][k],
            "备注": f"note {k}",
        }
        for k, code in enumerate(CODES)
    ]
    inspectors = [
        {
            "inspector_id": "P1",
            "name": "张三",
            "agency_id": "SJ130102",
            "certificate_no": "冀A001",
            "certificate_expiry": "2026-12-31",
            "auxiliary": "",
            "specialties": "food; special_equipment",
            "quarterly_cap": "20",
            "daily_cap": "",
            "former_employers": CODES[0],
            "relatives_ids": "h1;h2",
        },
        {
            "inspector_id": "P2",
            "name": "李四",
            "agency_id": "SJ130102",
            "certificate_no": "冀A002",
            "certificate_expiry": "",
            "auxiliary": "",
            "specialties": "",
            "quarterly_cap": "",
            "daily_cap": "1",
            "former_employers": "",
            "relatives_ids": "",
        },
        {
            "inspector_id": "P3",
            "name": "王五",
            "agency_id": "SJ130100",
            "certificate_no": "",
            "certificate_expiry": "",
            "auxiliary": "yes",
            "specialties": "",
            "quarterly_cap": "",
            "daily_cap": "",
            "former_employers": "",
            "relatives_ids": "",
        },
        {
            "inspector_id": "E1",
            "name": "赵六",
            "agency_id": "ST130100",
            "certificate_no": "冀E001",
            "certificate_expiry": "",
            "auxiliary": "否",
            "specialties": "environment",
            "quarterly_cap": "",
            "daily_cap": "",
            "former_employers": "",
            "relatives_ids": "",
        },
    ]
    return {
        "agencies": agencies,
        "enterprises": enterprises,
        "inspectors": inspectors,
        "conflicts": [{"inspector_id": "P2", "credit_code": CODES[1], "reason": "亲属持股"}],
        "history": [
            {
                "credit_code": CODES[2],
                "agency_id": "SJ130102",
                "date": "2025-06-03",
                "inspector_ids": "P2;P1",
            },
            {"credit_code": CODES[3], "agency_id": "ST130100", "date": "2025-09-30", "inspector_ids": ""},
        ],
        "leave": [{"inspector_id": "P1", "start": "2026-02-02", "end": "2026-02-06"}],
        "items": [
            {
                "item_id": "I-001",
                "department": "market",
                "name": "食品生产",
                "legal_basis": "食品安全法",
                "specialty": "food",
            }
        ],
    }


def write_registry(folder: Path, tables: dict[str, Table], encoding: str = "utf-8") -> Path:
    """Write each table as ``<name>.csv``; the columns are the union of the rows' keys."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        columns = list(dict.fromkeys(k for row in rows for k in row))
        with open(folder / f"{name}.csv", "w", encoding=encoding, newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows(rows)
    return folder


def problems_of(tables: dict[str, Table], tmp_path: Path) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_registry(write_registry(tmp_path / "reg", tables))
    return [str(p) for p in exc.value.problems]


def with_value(table: str, index: int, column: str, value: str) -> dict[str, Table]:
    tables = valid_tables()
    tables[table][index][column] = value
    return tables


def test_valid_registry_types(tmp_path: Path) -> None:
    folder = write_registry(tmp_path / "reg", valid_tables())
    reg = load_registry(folder)

    assert reg.agencies["SJ130100"] == Agency(
        "SJ130100", "石家庄市市场监督管理局", "market", Level.CITY, "SJ130000", "130100"
    )
    assert reg.agencies["SJ130000"].parent_id is None and reg.agencies["SJ130000"].level is Level.PROVINCE
    assert reg.ancestors("SJ130102") == ["SJ130100", "SJ130000"]

    e = reg.enterprises
    assert list(e.columns) == ENTERPRISE_COLUMNS + ["备注"]
    assert e["credit_code"].tolist() == CODES
    assert e["key_area"].dtype == bool and e["key_area"].tolist() == [False, True, True, False, False]
    assert e["abnormal"].dtype == bool and not e["abnormal"].any()
    assert e["complaints"].dtype == np.int64 and e["complaints"].tolist() == [0, 3, 0, 12, 0]
    assert e["status"].tolist() == ["active", "active", "注销", "active", "active"]
    assert e["lat"].dtype == np.float64 and e["lat"].iloc[1] == 38.04 and np.isnan(e["lat"].iloc[0])
    assert e["lon"].dtype == np.float64 and e["lon"].iloc[1] == 114.51
    assert pd.api.types.is_string_dtype(e["备注"]) and e["备注"].iloc[4] == "note 4"
    assert e.index.tolist() == [0, 1, 2, 3, 4]

    assert reg.inspectors["P1"] == Inspector(
        "P1",
        "张三",
        "SJ130102",
        "冀A001",
        dt.date(2026, 12, 31),
        False,
        frozenset({"food", "special_equipment"}),
        20,
        None,
        frozenset({CODES[0]}),
        frozenset({"h1", "h2"}),
    )
    assert reg.inspectors["P2"].certificate_no == "冀A002" and reg.inspectors["P2"].daily_cap == 1
    assert reg.inspectors["P3"].auxiliary and reg.inspectors["P3"].certificate_no is None
    assert not reg.inspectors["E1"].auxiliary

    assert reg.conflicts == [Conflict("P2", CODES[1], "亲属持股")]
    assert reg.leave == [Leave("P1", dt.date(2026, 2, 2), dt.date(2026, 2, 6))]
    assert reg.items == {"I-001": Item("I-001", "market", "食品生产", "食品安全法", "food")}

    h = reg.history
    assert list(h.columns) == ["credit_code", "agency_id", "date", "inspector_ids"]
    assert h["date"].dtype == "datetime64[ns]"
    assert h["date"].tolist() == [pd.Timestamp("2025-06-03"), pd.Timestamp("2025-09-30")]
    assert h["inspector_ids"].tolist() == [("P1", "P2"), ()]
    assert reg.files == {name: folder / f"{name}.csv" for name in valid_tables()}


def test_optional_tables_absent(tmp_path: Path) -> None:
    tables = valid_tables()
    for name in ("conflicts", "history", "leave", "items"):
        del tables[name]
    reg = load_registry(write_registry(tmp_path / "reg", tables))
    assert reg.conflicts == [] and reg.leave == [] and reg.items == {}
    assert list(reg.history.columns) == ["credit_code", "agency_id", "date", "inspector_ids"]
    assert reg.history.empty and reg.history["date"].dtype == "datetime64[ns]"
    assert set(reg.files) == {"agencies", "enterprises", "inspectors"}


def test_gb18030_chinese_headers_and_xlsx_and_parquet(tmp_path: Path) -> None:
    tables = valid_tables()
    folder = write_registry(
        tmp_path / "reg", {"agencies": tables["agencies"], "inspectors": tables["inspectors"]}
    )
    labels = {
        "credit_code": "统一社会信用代码",
        "name": "名称",
        "region_code": "行政区划代码",
        "industry": "行业代码",
        "risk_class": "信用风险分类",
        "complaints": "投诉举报数",
    }
    rows = [{labels.get(k, k): v for k, v in row.items()} for row in tables["enterprises"]]
    write_registry(tmp_path / "gb", {"enterprises": rows}, encoding="gb18030")
    (tmp_path / "gb" / "enterprises.csv").rename(folder / "检查对象名录库.csv")

    book = openpyxl.Workbook()
    book.active.append(["人员编码", "开始日期", "结束日期"])
    book.active.append(["P1", dt.datetime(2026, 2, 2), dt.date(2026, 2, 6)])
    book.save(folder / "请假.xlsx")
    pd.DataFrame({"item_id": ["I-001"], "department": ["market"], "name": ["食品生产"]}).to_parquet(
        folder / "items.parquet"
    )
    reg = load_registry(folder)
    assert reg.enterprises["credit_code"].tolist() == CODES
    assert reg.enterprises["complaints"].tolist() == [0, 3, 0, 12, 0]
    assert reg.leave == [Leave("P1", dt.date(2026, 2, 2), dt.date(2026, 2, 6))]
    assert reg.items == {"I-001": Item("I-001", "market", "食品生产")}
    assert reg.files["enterprises"].name == "检查对象名录库.csv"


def test_missing_required_files(tmp_path: Path) -> None:
    tables = valid_tables()
    del tables["agencies"], tables["inspectors"]
    folder = tmp_path / "reg"
    assert problems_of(tables, tmp_path) == [
        f"agencies.csv: required table agencies (执法机构) is missing: no agencies.csv, .xlsx or .parquet "
        f"(or 执法机构.*) in {folder}",
        f"inspectors.csv: required table inspectors (执法检查人员名录库) is missing: no inspectors.csv, .xlsx or "
        f".parquet (or 执法检查人员名录库.*) in {folder}",
    ]


def test_missing_required_column(tmp_path: Path) -> None:
    tables = valid_tables()
    for row in tables["enterprises"]:
        del row["risk_class"]
    assert problems_of(tables, tmp_path) == [
        "enterprises.csv, column risk_class: required column risk_class (信用风险分类) is missing"
    ]


@pytest.mark.parametrize(
    ("table", "index", "column", "value", "expected"),
    [
        ("agencies", 1, "name", "", "agencies.csv, row 3, column name: required name is empty"),
        (
            "enterprises",
            2,
            "industry",
            " ",
            "enterprises.csv, row 4, column industry: required industry is empty",
        ),
        (
            "inspectors",
            0,
            "agency_id",
            "",
            "inspectors.csv, row 2, column agency_id: required agency_id is empty",
        ),
        ("leave", 0, "end", "", "leave.csv, row 2, column end: required end is empty"),
        (
            "enterprises",
            3,
            "credit_code",
            BAD_CHECK,
            "enterprises.csv, row 5, column credit_code: check character of 91350100M000100Y44 is '4', "
            "GB 32100-2015 gives '3'",
        ),
        (
            "enterprises",
            0,
            "credit_code",
            "91130100MA000000",
            "enterprises.csv, row 2, column credit_code: a credit code has 18 characters, '91130100MA000000' has 16",
        ),
        (
            "enterprises",
            0,
            "credit_code",
            "91130100MI0000000Y",
            "enterprises.csv, row 2, column credit_code: '91130100MI0000000Y': character 10 'I' is not allowed "
            "in a credit code",
        ),
        (
            "conflicts",
            0,
            "credit_code",
            BAD_CHECK,
            "conflicts.csv, row 2, column credit_code: check character of 91350100M000100Y44 is '4', "
            "GB 32100-2015 gives '3'",
        ),
        (
            "history",
            1,
            "credit_code",
            BAD_CHECK,
            "history.csv, row 3, column credit_code: check character of 91350100M000100Y44 is '4', "
            "GB 32100-2015 gives '3'",
        ),
        (
            "inspectors",
            1,
            "former_employers",
            f"{CODES[0]};{BAD_CHECK}",
            "inspectors.csv, row 3, column former_employers: check character of 91350100M000100Y44 is '4', "
            "GB 32100-2015 gives '3'",
        ),
        (
            "enterprises",
            1,
            "region_code",
            "13010",
            "enterprises.csv, row 3, column region_code: region code must be 6 digits (GB/T 2260), got '13010'",
        ),
        (
            "agencies",
            0,
            "region_code",
            "13000A",
            "agencies.csv, row 2, column region_code: region code must be 6 digits (GB/T 2260), got '13000A'",
        ),
        (
            "agencies",
            3,
            "level",
            "state",
            "agencies.csv, row 5, column level: level must be province, city, county or township (省/市/县/乡), "
            "got 'state'",
        ),
        (
            "enterprises",
            4,
            "industry",
            "c13",
            "enterprises.csv, row 6, column industry: industry must be a GB/T 4754 code (section letter A-T and "
            "up to 4 digits), got 'c13'",
        ),
        (
            "enterprises",
            4,
            "industry",
            "U1",
            "enterprises.csv, row 6, column industry: industry must be a GB/T 4754 code (section letter A-T and "
            "up to 4 digits), got 'U1'",
        ),
        (
            "enterprises",
            4,
            "industry",
            "C13911",
            "enterprises.csv, row 6, column industry: industry must be a GB/T 4754 code (section letter A-T and "
            "up to 4 digits), got 'C13911'",
        ),
        (
            "enterprises",
            0,
            "risk_class",
            "E",
            lambda: "enterprises.csv, row 2, column risk_class: "
            + t("unknown_risk_class", value="E", count=1, rows="2", column="risk_class"),
        ),
        (
            "enterprises",
            0,
            "key_area",
            "maybe",
            "enterprises.csv, row 2, column key_area: key_area must be true or false (1/0, yes/no, y/n, 是/否), "
            "got 'maybe'",
        ),
        (
            "enterprises",
            0,
            "abnormal",
            "2",
            "enterprises.csv, row 2, column abnormal: abnormal must be true or false (1/0, yes/no, y/n, 是/否), "
            "got '2'",
        ),
        (
            "inspectors",
            2,
            "auxiliary",
            "辅助",
            "inspectors.csv, row 4, column auxiliary: auxiliary must be true or false (1/0, yes/no, y/n, 是/否), "
            "got '辅助'",
        ),
        (
            "enterprises",
            1,
            "complaints",
            "-1",
            "enterprises.csv, row 3, column complaints: complaints must be a whole number of at least 0, got '-1'",
        ),
        (
            "inspectors",
            0,
            "quarterly_cap",
            "2.5",
            "inspectors.csv, row 2, column quarterly_cap: quarterly_cap must be a whole number of at least 0, "
            "got '2.5'",
        ),
        (
            "inspectors",
            0,
            "daily_cap",
            "two",
            "inspectors.csv, row 2, column daily_cap: daily_cap must be a whole number of at least 0, got 'two'",
        ),
        (
            "inspectors",
            0,
            "certificate_expiry",
            "2026/13/31",
            lambda: "inspectors.csv, row 2, column certificate_expiry: "
            + t("date_bad", column="certificate_expiry", value="2026/13/31"),
        ),
        (
            "history",
            0,
            "date",
            "2025-02-30",
            lambda: "history.csv, row 2, column date: " + t("date_bad", column="date", value="2025-02-30"),
        ),
        (
            "leave",
            0,
            "start",
            "next monday",
            lambda: "leave.csv, row 2, column start: " + t("date_bad", column="start", value="next monday"),
        ),
        (
            "enterprises",
            1,
            "lat",
            "95",
            "enterprises.csv, row 3, column lat: lat must be a number between -90 and 90, got '95'",
        ),
        (
            "enterprises",
            1,
            "lon",
            "114,51",
            "enterprises.csv, row 3, column lon: lon must be a number between -180 and 180, got '114,51'",
        ),
        (
            "enterprises",
            1,
            "lon",
            "nan",
            "enterprises.csv, row 3, column lon: lon must be a number between -180 and 180, got 'nan'",
        ),
        (
            "enterprises",
            4,
            "credit_code",
            CODES[1],
            f"enterprises.csv, row 6, column credit_code: duplicate credit_code '{CODES[1]}', first in row 3",
        ),
        (
            "inspectors",
            3,
            "inspector_id",
            "P1",
            "inspectors.csv, row 5, column inspector_id: duplicate inspector_id 'P1', first in row 2",
        ),
        (
            "inspectors",
            3,
            "agency_id",
            "SJ999999",
            "inspectors.csv, row 5, column agency_id: unknown agency 'SJ999999'",
        ),
        (
            "agencies",
            2,
            "parent_id",
            "SJ130200",
            "agencies.csv, row 4, column parent_id: unknown parent agency 'SJ130200'",
        ),
        (
            "conflicts",
            0,
            "inspector_id",
            "P9",
            "conflicts.csv, row 2, column inspector_id: unknown inspector 'P9'",
        ),
        ("history", 1, "agency_id", "XX", "history.csv, row 3, column agency_id: unknown agency 'XX'"),
        (
            "history",
            0,
            "inspector_ids",
            "P1; P7",
            "history.csv, row 2, column inspector_ids: unknown inspector 'P7'",
        ),
        ("leave", 0, "inspector_id", "P8", "leave.csv, row 2, column inspector_id: unknown inspector 'P8'"),
        (
            "agencies",
            3,
            "parent_id",
            "SJ130000",
            "agencies.csv, row 5, column parent_id: parent 'SJ130000' belongs to department 'market', "
            "this agency to 'ecology'",
        ),
        (
            "agencies",
            2,
            "parent_id",
            "ST130100",
            "agencies.csv, row 4, column parent_id: parent 'ST130100' belongs to department 'ecology', "
            "this agency to 'market'",
        ),
        (
            "agencies",
            2,
            "level",
            "市级",
            "agencies.csv, row 4, column parent_id: parent 'SJ130100' is at level city, not above this agency's "
            "level city",
        ),
        (
            "leave",
            0,
            "start",
            "2026-02-07",
            "leave.csv, row 2, column start: start 2026-02-07 is after end 2026-02-06",
        ),
    ],
)
def test_each_validation_names_file_row_column(
    tmp_path: Path, table: str, index: int, column: str, value: str, expected: str
) -> None:
    expected = expected() if callable(expected) else expected  # catalogue texts: in the language of the run
    assert problems_of(with_value(table, index, column, value), tmp_path) == [expected]


def test_duplicate_agency_id_names_both_rows_and_the_lost_id(tmp_path: Path) -> None:
    assert problems_of(with_value("agencies", 3, "agency_id", "SJ130102"), tmp_path) == [
        "agencies.csv, row 5, column agency_id: duplicate agency_id 'SJ130102', first in row 4",
        "inspectors.csv, row 5, column agency_id: unknown agency 'ST130100'",
        "history.csv, row 3, column agency_id: unknown agency 'ST130100'",
    ]


def test_items_duplicate_and_unknown_history_inspector_in_exact_list(tmp_path: Path) -> None:
    tables = valid_tables()
    tables["items"].append({"item_id": "I-001", "department": "market", "name": "x"})
    tables["history"][1]["inspector_ids"] = "P9；P1"
    assert problems_of(tables, tmp_path) == [
        "history.csv, row 3, column inspector_ids: unknown inspector 'P9'",
        "items.csv, row 3, column item_id: duplicate item_id 'I-001', first in row 2",
    ]


def test_parent_chain_loop_names_every_agency(tmp_path: Path) -> None:
    tables = valid_tables()
    tables["agencies"][0]["parent_id"] = "SJ130102"  # province -> county: loop of three
    problems = problems_of(tables, tmp_path)
    assert problems == [
        "agencies.csv, row 2, column parent_id: parent 'SJ130102' is at level county, not above this agency's "
        "level province",
        "agencies.csv, row 2, column parent_id: parent chain loops: SJ130000 (row 2) -> SJ130102 (row 4) -> "
        "SJ130100 (row 3) -> SJ130000",
    ]


def test_self_parent_is_a_loop(tmp_path: Path) -> None:
    tables = valid_tables()
    tables["agencies"][3]["parent_id"] = "ST130100"
    tables["agencies"][3]["level"] = ""
    assert problems_of(tables, tmp_path) == [
        "agencies.csv, row 5, column level: required level is empty",
        "agencies.csv, row 5, column parent_id: parent chain loops: ST130100 (row 5) -> ST130100",
    ]


def test_several_problems_in_several_files_reported_at_once(tmp_path: Path) -> None:
    tables = valid_tables()
    tables["enterprises"][0]["credit_code"] = BAD_CHECK
    tables["enterprises"][2]["risk_class"] = "X"
    tables["inspectors"][1]["agency_id"] = "NOPE"
    tables["leave"][0]["end"] = "2026-13-01"
    del tables["agencies"]
    assert problems_of(tables, tmp_path) == [
        f"agencies.csv: required table agencies (执法机构) is missing: no agencies.csv, .xlsx or .parquet "
        f"(or 执法机构.*) in {tmp_path / 'reg'}",
        "enterprises.csv, row 2, column credit_code: check character of 91350100M000100Y44 is '4', "
        "GB 32100-2015 gives '3'",
        "enterprises.csv, row 4, column risk_class: "
        + t("unknown_risk_class", value="X", count=1, rows="4", column="risk_class"),
        "leave.csv, row 2, column end: " + t("date_bad", column="end", value="2026-13-01"),
    ]  # unknown agency 'NOPE' is not reported: without agencies.csv there is nothing to check against


def test_unreadable_file_does_not_hide_other_problems(tmp_path: Path) -> None:
    tables = valid_tables()
    tables["inspectors"][0]["daily_cap"] = "-"
    folder = write_registry(tmp_path / "reg", tables)
    (folder / "items.csv").write_text("item_id,name,name\nI,a,b\n", encoding="utf-8")
    (folder / "请假.csv").write_text("inspector_id,start,end\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_registry(folder)
    assert [str(p) for p in exc.value.problems] == [
        "leave.csv: two files for table leave: leave.csv and 请假.csv; keep one",
        "items.csv, column name: two headers name column name: 'name' (column 2) and 'name' (column 3)",
        "inspectors.csv, row 2, column daily_cap: daily_cap must be a whole number of at least 0, got '-'",
    ]


def test_many_bad_rows_are_counted_after_the_first_ones(tmp_path: Path) -> None:
    tables = valid_tables()
    base = tables["enterprises"][0]
    tables["enterprises"] = [
        dict(base, credit_code=make_code(f"91130100MA1{k:06d}"), region_code="1301")
        for k in range(MAX_PER_CHECK + 7)
    ]
    problems = problems_of(tables, tmp_path)
    assert len(problems) == MAX_PER_CHECK + 1
    assert (
        problems[0]
        == "enterprises.csv, row 2, column region_code: region code must be 6 digits (GB/T 2260), got '1301'"
    )
    assert problems[-1] == "enterprises.csv, column region_code: 7 more rows with the same problem"


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nowhere: the registry folder does not exist"):
        load_registry(tmp_path / "nowhere")


_CHARS = st.sampled_from(ALPHABET + "IOSVZa-中 ")


@settings(max_examples=300, deadline=None)
@given(
    bodies=st.lists(st.text(_CHARS, min_size=17, max_size=17), min_size=1, max_size=20),
    lasts=st.lists(_CHARS, min_size=20, max_size=20),
    extra=st.lists(st.text(_CHARS, max_size=20), max_size=5),
)
def test_vectorised_check_digit_agrees_with_uscc_problem(
    bodies: list[str], lasts: list[str], extra: list[str]
) -> None:
    codes = []
    for body, last in zip(bodies, lasts, strict=False):
        codes.append(body + last)
        if all(c in ALPHABET for c in body):
            codes.append(make_code(body))
    codes += extra
    assert uscc_valid(codes).tolist() == [uscc_problem(c) is None for c in codes]


def test_uscc_valid_on_series_with_row_index() -> None:
    s = pd.Series([CODES[0], BAD_CHECK, "", CODES[4]], index=[7, 9, 11, 13], dtype=str)
    assert uscc_valid(s).tolist() == [True, False, False, True]


def test_registry_files_finds_what_load_registry_reads():
    from data.generate import SAMPLE_DIR
    from scheduler.importer import load_registry, registry_files

    assert registry_files(SAMPLE_DIR) == load_registry(SAMPLE_DIR).files
