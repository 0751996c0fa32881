"""Reading one table file: encodings, formats, header labels, cells as clean strings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from scheduler.errors import InputError
from scheduler.tables import (
    HEADER_LABELS,
    byte_strings,
    cell_text,
    find_table,
    read_table,
    row_hashes,
    series_text,
)


@pytest.fixture(autouse=True)
def _english_messages(monkeypatch):
    """These tests pin the importer's English texts (its messages move to the catalogue with
    issue 11's rewrite); the Chinese rendering of a Problem is tested in tests/test_messages.py."""
    monkeypatch.setenv("RANDINSPECT_LANG", "en")

ENGLISH = "agency_id,name,department,level,parent_id,region_code\n"
CHINESE = "机构编码,机构名称,部门,层级,上级机构,行政区划代码\n"
ROWS = "SJ130100,石家庄市市场监督管理局,market,市,,130100\nSJ130102,长安区市场监督管理局,market,县,SJ130100,130102\n"


def _expected() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agency_id": ["SJ130100", "SJ130102"],
            "name": ["石家庄市市场监督管理局", "长安区市场监督管理局"],
            "department": ["market", "market"],
            "level": ["市", "县"],
            "parent_id": ["", "SJ130100"],
            "region_code": ["130100", "130102"],
        },
        index=pd.RangeIndex(2, 4, name="row"),
    )


def _problems(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


@pytest.mark.parametrize(
    ("header", "encoding"),
    [
        (ENGLISH, "utf-8"),
        (ENGLISH, "utf-8-sig"),
        (CHINESE, "utf-8-sig"),
        (CHINESE, "gb18030"),
        (CHINESE, "gbk"),
    ],
)
def test_csv_encodings_and_header_labels(tmp_path: Path, header: str, encoding: str) -> None:
    path = tmp_path / "agencies.csv"
    path.write_bytes((header + ROWS).encode(encoding))
    frame = read_table(path, "agencies")
    pd.testing.assert_frame_equal(frame, _expected(), check_dtype=False)
    assert all(pd.api.types.is_string_dtype(frame[c]) for c in frame.columns)


def test_csv_keeps_text_as_is_and_unknown_columns(tmp_path: Path) -> None:
    path = tmp_path / "enterprises.csv"
    path.write_text(
        " Credit_Code ,\ufeff名称,备注,complaints\n0012,NA,null,007\n\n,,,\nX,N/A,,1\n", encoding="utf-8"
    )
    frame = read_table(path, "enterprises")
    assert list(frame.columns) == ["credit_code", "name", "备注", "complaints"]
    assert frame.index.tolist() == [2, 5]  # blank line (row 3) and empty row (row 4) dropped
    assert frame.loc[2].tolist() == ["0012", "NA", "null", "007"]
    assert frame.loc[5].tolist() == ["X", "N/A", "", "1"]


def test_csv_short_row_is_padded_long_row_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "leave.csv"
    path.write_text("inspector_id,start,end\nP1,2026-01-05\n", encoding="utf-8")
    assert read_table(path, "leave").loc[2].tolist() == ["P1", "2026-01-05", ""]
    path.write_text("inspector_id,start,end\nP1,2026-01-05,2026-01-06,x\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_table(path, "leave")
    assert _problems(exc) == [
        "leave.csv: cannot read the file: Error tokenizing data. C error: Expected 3 fields in line 2, saw 4\n"
    ]


def test_csv_undecodable_and_empty(tmp_path: Path) -> None:
    path = tmp_path / "leave.csv"
    path.write_bytes(b"inspector_id,start,end\n\x80\xff,1,2\n")
    with pytest.raises(InputError) as exc:
        read_table(path, "leave")
    assert _problems(exc) == ["leave.csv: the text is neither UTF-8 nor GB18030/GBK"]
    path.write_bytes(b"")
    with pytest.raises(InputError) as exc:
        read_table(path, "leave")
    assert _problems(exc) == ["leave.csv: the file is empty"]


def test_duplicate_header_after_mapping(tmp_path: Path) -> None:
    path = tmp_path / "agencies.csv"
    path.write_text("agency_id,机构编码,name,name\nA,B,C,D\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_table(path, "agencies")
    assert _problems(exc) == [
        "agencies.csv, column agency_id: two headers name column agency_id: 'agency_id' (column 1) "
        "and '机构编码' (column 2)",
        "agencies.csv, column name: two headers name column name: 'name' (column 3) and 'name' (column 4)",
    ]


def test_values_without_header(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("item_id,,name,\nI-1,x,检查,\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_table(path, "items")
    assert _problems(exc) == ["items.csv: column 2 has values but no header"]


def test_xlsx_first_sheet_cells_as_clean_text(tmp_path: Path) -> None:
    path = tmp_path / "检查记录.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码", "机构编码", "检查日期", "inspector_ids", "得分", "已整改"])
    sheet.append(["91130100MA0000000Y", 130100, dt.datetime(2025, 6, 3), "P1;P2", 12.0, True])
    sheet.append(["91130100MA00000012", "SJ130100", dt.date(2025, 7, 1), None, 2.5, None])
    sheet.append([None] * 6)
    book.create_sheet("other").append(["ignored"])
    book.save(path)
    frame = read_table(path, "history")
    assert list(frame.columns) == ["credit_code", "agency_id", "date", "inspector_ids", "得分", "已整改"]
    assert frame.index.tolist() == [2, 3]
    assert frame.loc[2].tolist() == ["91130100MA0000000Y", "130100", "2025-06-03", "P1;P2", "12", "true"]
    assert frame.loc[3].tolist() == ["91130100MA00000012", "SJ130100", "2025-07-01", "", "2.5", ""]


def test_parquet_typed_columns_become_text(tmp_path: Path) -> None:
    path = tmp_path / "enterprises.parquet"
    pd.DataFrame(
        {
            "统一社会信用代码": ["91130100MA0000000Y", None],
            "complaints": pd.array([3, None], dtype="Int64"),
            "lat": [38.0, np.nan],
            "lon": [114.25, 114.5],
            "key_area": [True, False],
            "opened": pd.to_datetime(["2020-01-02", None]),
            "seen": pd.to_datetime(["2020-01-02 08:30", "2020-01-03 00:00"]),
        }
    ).to_parquet(path)
    frame = read_table(path, "enterprises")
    assert frame.loc[2].tolist() == [
        "91130100MA0000000Y",
        "3",
        "38",
        "114.25",
        "true",
        "2020-01-02",
        "2020-01-02 08:30:00",
    ]
    assert frame.loc[3].tolist() == ["", "", "", "114.5", "false", "", "2020-01-03 00:00:00"]


def test_cell_and_series_text_rules() -> None:
    assert [cell_text(v) for v in (None, 12.0, -0.5, 7, True, dt.date(2026, 1, 5))] == [
        "",
        "12",
        "-0.5",
        "7",
        "true",
        "2026-01-05",
    ]
    assert cell_text(dt.datetime(2026, 1, 5, 9, 0)) == "2026-01-05 09:00:00"
    assert cell_text(float("nan")) == ""
    objects = pd.Series([dt.date(2026, 1, 5), None, 3.0], dtype=object)
    assert series_text(objects).tolist() == ["2026-01-05", "", "3"]


def test_find_table_english_chinese_none_and_two(tmp_path: Path) -> None:
    assert find_table(tmp_path, "agencies") is None
    (tmp_path / "执法机构.CSV").write_text(ENGLISH, encoding="utf-8")
    (tmp_path / "检查对象名录库.xlsx").write_bytes(b"")
    (tmp_path / "inspectors.parquet").write_bytes(b"")
    (tmp_path / "agencies_old.csv").write_text(ENGLISH, encoding="utf-8")
    assert find_table(tmp_path, "agencies") == tmp_path / "执法机构.CSV"
    assert find_table(tmp_path, "enterprises") == tmp_path / "检查对象名录库.xlsx"
    assert find_table(tmp_path, "inspectors") == tmp_path / "inspectors.parquet"
    (tmp_path / "agencies.xlsx").write_bytes(b"")
    with pytest.raises(InputError) as exc:
        find_table(tmp_path, "agencies")
    assert _problems(exc) == [
        "agencies.xlsx: two files for table agencies: agencies.xlsx and 执法机构.CSV; keep one"
    ]


def test_unreadable_xlsx_and_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "agencies.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(InputError) as exc:
        read_table(path, "agencies")
    assert _problems(exc)[0].startswith("agencies.xlsx: cannot read the file: ")
    with pytest.raises(InputError) as exc:
        read_table(tmp_path / "agencies.json", "agencies")
    assert _problems(exc) == ["agencies.json: unsupported file type '.json'; use .csv, .xlsx or .parquet"]


def test_every_table_has_chinese_labels() -> None:
    for table, labels in HEADER_LABELS.items():
        assert labels, table
        assert len(set(labels.values())) == len(labels), table


def test_parquet_numbers_become_text_as_python_writes_them(tmp_path: Path) -> None:
    """Arrow formats most floats (shortest round-trip digits); where its spelling differs from
    Python's (exponents, tiny numbers) Python's is used, so the text never depends on which."""
    values = [
        0.1,
        38.04,
        -114.50001,
        1e-05,
        -2.5e-07,
        1234567890123.5,
        2.0**53,
        1e16,
        1e22,
        -0.0,
        12.0,
        np.inf,
        np.nan,
    ]
    big = np.random.default_rng(3).uniform(-1e6, 1e6, 3000)
    path = tmp_path / "enterprises.parquet"
    pd.DataFrame(
        {
            "lat": values + big.tolist(),
            "n": pd.array([7, None] + [2**62] * (len(values) + 2998), dtype="Int64"),
        }
    ).to_parquet(path)
    frame = read_table(path, "enterprises")
    assert frame["lat"].tolist()[: len(values)] == [
        "0.1",
        "38.04",
        "-114.50001",
        "1e-05",
        "-2.5e-07",
        "1234567890123.5",
        "9007199254740992.0",
        "1e+16",
        "1e+22",
        "0",
        "12",
        "inf",
        "",
    ]
    assert frame["lat"].tolist()[len(values) :] == [repr(float(v)) for v in big]
    assert frame["n"].tolist()[:3] == ["7", "", str(2**62)]


def test_byte_strings_and_row_hashes() -> None:
    s = pd.Series(["91130100MA0000000Y", "ab", "", "中文"], dtype=str)
    codes = byte_strings(s)
    assert codes.dtype == np.dtype("S18") and [c.decode() for c in codes.tolist()] == s.tolist()
    same = byte_strings(pd.Series(["91130100MA0000000Y", "91130100MA0000001Y"], dtype=str))
    assert same.dtype == np.dtype("S18") and same.tolist() == [b"91130100MA0000000Y", b"91130100MA0000001Y"]
    h = row_hashes(np.array([b"91130100MA0000000Y", b"91130100MA0000000Z", b"91130100MA0000000Y"]))
    assert h[0] == h[2] != h[1]
    assert len(set(row_hashes(np.array([b"a", b"b", b""])).tolist())) == 3
