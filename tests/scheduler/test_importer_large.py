"""The importer's fast paths (issue 6): a table of more than a thousand rows is checked from the
Arrow buffers (credit codes, duplicates, numbers) with the same messages as a small one, and a
typed Parquet registry loads exactly like its CSV text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scheduler.importer import load_registry
from scheduler.uscc import make_code, uscc_problem
from tests.scheduler.test_importer import problems_of, valid_tables, write_registry


@pytest.fixture(autouse=True)
def _english_messages(monkeypatch):
    """Pins the importer's English texts, as tests/scheduler/test_importer.py does."""
    monkeypatch.setenv("RANDINSPECT_LANG", "en")

N = 1200


def big_tables() -> dict:
    tables = valid_tables()
    base = tables["enterprises"][0]
    tables["enterprises"] = [
        dict(base, credit_code=make_code(f"91130100MA1{k:06d}"), lat="38.5", lon="114.25") for k in range(N)
    ]
    return tables


def row(tables: dict, spreadsheet_row: int, **values: str) -> None:
    tables["enterprises"][spreadsheet_row - 2].update(values)


def test_problems_of_a_large_table_name_file_row_and_column(tmp_path: Path) -> None:
    tables = big_tables()
    first = tables["enterprises"][3]["credit_code"]
    row(tables, 1100, credit_code=first)  # a repeat of row 5
    short = make_code("91130100MA2000001")[:17]
    wide = "91130100MA00000中"  # 16 characters, 18 UTF-8 bytes
    lower = make_code("91130100MA2000002").lower()
    row(tables, 12, credit_code=short)
    row(tables, 22, credit_code=wide)
    row(tables, 32, credit_code=lower)
    row(tables, 42, lat="38,5")
    row(tables, 52, lon="inf")
    row(tables, 62, lat=" 1e1 ", lon="+114.5")
    row(tables, 72, key_area="maybe")
    assert uscc_problem(lower) == "character 9 'm' is not allowed in a credit code"
    assert problems_of(tables, tmp_path) == [
        f"enterprises.csv, row 12, column credit_code: a credit code has 18 characters, {short!r} has 17",
        f"enterprises.csv, row 22, column credit_code: a credit code has 18 characters, {wide!r} has 16",
        f"enterprises.csv, row 32, column credit_code: {lower!r}: character 9 'm' is not allowed in a credit code",
        f"enterprises.csv, row 1100, column credit_code: duplicate credit_code {first!r}, first in row 5",
        "enterprises.csv, row 72, column key_area: key_area must be true or false (1/0, yes/no, y/n, 是/否), "
        "got 'maybe'",
        "enterprises.csv, row 42, column lat: lat must be a number between -90 and 90, got '38,5'",
        "enterprises.csv, row 52, column lon: lon must be a number between -180 and 180, got 'inf'",
    ]


def test_numbers_parse_as_before(tmp_path: Path) -> None:
    tables = big_tables()
    row(tables, 62, lat=" 1e1 ", lon="+114.5")
    row(tables, 63, lat=".5", lon="-0")
    row(tables, 64, lat="", lon="114.")
    e = load_registry(write_registry(tmp_path / "reg", tables)).enterprises
    assert e["lat"].iloc[60:63].tolist()[:2] == [10.0, 0.5] and np.isnan(e["lat"].iloc[62])
    assert e["lon"].iloc[60:63].tolist() == [114.5, 0.0, 114.0]
    assert (e["lat"].iloc[:60] == 38.5).all()


def test_typed_parquet_loads_like_its_csv_text(tmp_path: Path) -> None:
    tables = valid_tables()
    csv_registry = load_registry(write_registry(tmp_path / "csv", tables))
    folder = write_registry(tmp_path / "parquet", {k: v for k, v in tables.items() if k != "enterprises"})
    text = pd.DataFrame(tables["enterprises"])
    typed = text.assign(
        key_area=[False, True, True, False, False],
        abnormal=[False] * 5,
        complaints=pd.array([None, 3, 0, 12, None], dtype="Int64"),
        lat=[np.nan, 38.04, np.nan, np.nan, np.nan],
        lon=[np.nan, 114.51, np.nan, np.nan, np.nan],
    )
    typed.to_parquet(folder / "enterprises.parquet")
    reg = load_registry(folder)
    pd.testing.assert_frame_equal(reg.enterprises, csv_registry.enterprises)
    assert reg.history.equals(csv_registry.history)
