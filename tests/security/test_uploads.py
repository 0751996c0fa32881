"""Upload limits (issue 12 item 1): each refused before the work, naming the file; memory
bounded for a zip bomb; temporary files private and cleaned at start-up."""

from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path

import pandas as pd
import pytest

from api.uploads import TMP_PREFIX, work_dir
from tests.security.conftest import SAMPLE, sample_files

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from hostile_uploads import make_bomb  # noqa: E402


def _peak_rss() -> tuple[int, int]:
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            values[line.split(":")[0]] = int(line.split()[1]) * 1024
    return values["VmRSS"], values["VmHWM"]


def _problem_texts(r) -> list[str]:
    return [p["text"] for p in r.json()["problems"]]


def test_zip_bomb_refused_from_the_directory_with_bounded_memory(make_service, tmp_path):
    _app, client = make_service()
    bomb = tmp_path / "enterprises.xlsx"
    make_bomb(bomb, target=300 * 1024 * 1024)  # over the 256 MiB default, about 0.5 MB packed
    assert bomb.stat().st_size < 2 * 1024 * 1024
    rss_before, peak_before = _peak_rss()
    r = client.post("/api/registries", data={"name": "bomb"},
                    files=sample_files(enterprises=("enterprises.xlsx", bomb.read_bytes())))
    _rss_after, peak_after = _peak_rss()
    assert r.status_code == 422, r.text
    texts = _problem_texts(r)
    assert any(t.startswith("enterprises.xlsx") and "unpacks to" in t for t in texts), texts
    # opening it would have cost gigabytes; the refusal costs (next to) nothing
    assert peak_after - max(peak_before, rss_before) < 150 * 1024 * 1024


def test_compression_ratio_is_a_limit_of_its_own(make_service, tmp_path):
    _app, client = make_service(max_xlsx_ratio=3)  # the sample inspectors.xlsx unpacks ~6.5 times
    r = client.post("/api/registries", data={"name": "r"}, files=sample_files())
    assert r.status_code == 422
    assert any(t.startswith("inspectors.xlsx") and "times its size" in t for t in _problem_texts(r))


def test_xlsx_rows_counted_before_opening(make_service):
    _app, client = make_service(max_xlsx_rows=5)
    r = client.post("/api/registries", data={"name": "r"}, files=sample_files())
    assert r.status_code == 422
    assert any(t.startswith("inspectors.xlsx") and "RANDINSPECT_MAX_XLSX_ROWS" in t for t in _problem_texts(r))


def test_csv_and_parquet_rows_per_table(make_service):
    _app, client = make_service(max_table_rows=20)
    r = client.post("/api/registries", data={"name": "r"}, files=sample_files())
    assert r.status_code == 422
    texts = _problem_texts(r)
    assert any(t.startswith("enterprises.csv") and "RANDINSPECT_MAX_TABLE_ROWS" in t for t in texts), texts
    buf = io.BytesIO()
    pd.read_csv(SAMPLE / "enterprises.csv", dtype=str).to_parquet(buf)
    r = client.post("/api/registries", data={"name": "r"},
                    files=sample_files(enterprises=("enterprises.parquet", buf.getvalue())))
    assert any(t.startswith("enterprises.parquet") and "RANDINSPECT_MAX_TABLE_ROWS" in t for t in _problem_texts(r))


def test_the_limits_let_the_sample_through(make_service):
    _app, client = make_service()
    r = client.post("/api/registries", data={"name": "ok"}, files=sample_files())
    assert r.status_code == 201, r.text


def test_request_size_413_before_reading(make_service):
    _app, client = make_service(max_request_bytes=50_000)
    r = client.post("/api/registries", data={"name": "big"}, files=sample_files())
    assert r.status_code == 413
    assert "RANDINSPECT_MAX_REQUEST_BYTES" in r.json()["detail"]

    def chunks():  # no Content-Length: refused when the running count passes the limit
        for _ in range(100):
            yield b"x" * 1000

    r = client.post("/api/login", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


def test_temporary_files_private_and_leftovers_removed(make_service, tmp_path):
    from api.settings import Settings

    settings = Settings(database_url="sqlite://", data_dir=str(tmp_path / "data"))
    folder = work_dir(settings)
    dead = folder / f"{TMP_PREFIX}999999999-draw-7-abc"  # no such process
    dead.mkdir()
    (dead / "notice.html").write_text("张三 执法证号 123")
    mine = folder / f"{TMP_PREFIX}{os.getpid()}-upload-x"  # a live process's: kept
    mine.mkdir()
    foreign = folder / "not-ours"  # we never delete what we did not write
    foreign.mkdir()
    _app, client = make_service()
    assert not dead.exists()
    assert mine.exists() and foreign.exists()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    import tempfile

    assert tempfile.gettempdir() == str(folder)  # the multipart parser's spool files go there too


@pytest.mark.parametrize("limit", ["max_request_bytes", "max_xlsx_uncompressed_bytes", "max_xlsx_ratio",
                                   "max_table_rows", "max_xlsx_rows", "max_parquet_uncompressed_bytes"])
def test_every_limit_is_in_the_readme(limit):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"RANDINSPECT_{limit.upper()}" in readme


@pytest.mark.parametrize("last", [b"</sheetData>", b"<x:row>"])
def test_rows_counted_exactly_across_blocks(last):
    import zipfile

    from api.uploads import _xml_rows

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # 2.3 MB of XML: tags cut at 1 MiB block ends
        z.writestr("s.xml", b"<sheetData>" + b'<row r="1"><c/></row><rowBreaks/>' * 70_000 + last)
    assert _xml_rows(zipfile.ZipFile(buf), "s.xml", 10**9) == 70_000 + (last == b"<x:row>")
