"""Hostile uploads against a real server: peak server memory and time to refusal.

    .venv/bin/python bench/hostile_uploads.py [--keep]

Generates, in a temporary folder, the files of issue 12:

- ``bomb``: an ``enterprises.xlsx`` of a few MB whose sheet unpacks to 2.7 GB (zip bomb);
- ``rows``: an ``enterprises.xlsx`` of 1,048,576 data rows (Excel's maximum);
- ``csv318``: an ``enterprises.csv`` of 318 MB;
- ``csvrows``: an ``enterprises.csv`` under the byte limit but with 2.2 million rows;
- ``xlsxfull`` / ``csvfull``: within every limit (200,000 .xlsx rows; 2,000,000 CSV rows), the last
  row bad: read to the end, then refused by validation (the worst case for memory);

starts ``randinspect serve`` on 127.0.0.1 (a free port, fresh SQLite database and data folder,
default limits), uploads each with the sample county's other tables, and prints for each: the
status, the refusal's first words, the time from the start of the upload to the answer, and the
server's resident memory (VmRSS before, VmHWM = peak since start). Loopback only.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notice_load import SAMPLE, free_port, wait_up  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GB = 1024**3

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"
HEADER = ["credit_code", "name", "region_code", "industry", "risk_class"]


def _cell(col: str, row: int, value: str) -> str:
    return f'<c r="{col}{row}" t="inlineStr"><is><t>{value}</t></is></c>'


def _row(r: int, values: list[str]) -> str:
    return f'<row r="{r}">' + "".join(_cell("ABCDE"[k], r, v) for k, v in enumerate(values)) + "</row>"


def write_workbook(path: Path, sheet_chunks) -> None:
    """A minimal valid .xlsx whose sheet XML is the concatenation of ``sheet_chunks`` (streamed)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(_SHEET_HEAD.encode())
            for chunk in sheet_chunks:
                fh.write(chunk.encode())
            fh.write(_SHEET_TAIL.encode())


def _enterprise(rng: random.Random, k: int) -> list[str]:
    from scheduler.uscc import make_code

    return [make_code(f"9113012300{k:07d}"), f"企业{rng.randrange(10**8)}", "130123", "C13", "B"]


def make_bomb(path: Path, target: int = int(2.7e9)) -> None:
    row = _row(2, ["9" * 18, "A" * 4000, "130123", "C13", "B"])
    block = row * 2000
    n = target // len(block)

    def chunks():
        yield _row(1, HEADER)
        for _ in range(n):
            yield block

    write_workbook(path, chunks())


def _lean_row(values: list[str]) -> str:
    """A row without the optional ``r`` attributes (as some writers emit): more rows per byte."""
    return "<row>" + "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values) + "</row>"


def make_max_rows(path: Path, rows: int = 1_048_576) -> None:
    """Excel's maximum of rows, within the uncompressed-size limit: refused by its row count."""
    rng = random.Random(1)

    def chunks():
        yield _lean_row(HEADER[:3])
        batch = []
        for r in range(2, rows + 2):
            batch.append(_lean_row(_enterprise(rng, r)[:3]))
            if len(batch) == 20000:
                yield "".join(batch)
                batch = []
        yield "".join(batch)

    write_workbook(path, chunks())


def make_full_xlsx(path: Path, rows: int = 200_000) -> None:
    """Within every limit (the .xlsx row limit exactly), but the last row's risk class is bad: parsed
    to the end, then refused by validation (the worst case for memory)."""
    rng = random.Random(3)

    def chunks():
        yield _row(1, HEADER)
        batch = []
        for r in range(2, rows + 2):
            values = _enterprise(rng, r)
            if r == rows + 1:
                values[4] = "E"
            batch.append(_row(r, values))
            if len(batch) == 20000:
                yield "".join(batch)
                batch = []
        yield "".join(batch)

    write_workbook(path, chunks())


def make_csv(path: Path, size: int | None = None, rows: int | None = None, bad_last: bool = False) -> None:
    rng = random.Random(2)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(HEADER) + "\n")
        written, k = 0, 0
        while (size is not None and written < size) or (rows is not None and k < rows):
            lines = "".join(",".join(_enterprise(rng, k + j)) + "\n" for j in range(10000))
            if rows is not None:
                lines = "".join(lines.splitlines(keepends=True)[: rows - k])
            fh.write(lines)
            written += len(lines.encode())
            k += 10000
        if bad_last:
            fh.write(",".join(_enterprise(rng, k)[:4] + ["E"]) + "\n")


def rss(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of ``pid`` in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, amount, _unit = line.split()
            values[key[:-1]] = int(amount) * 1024
    return values["VmRSS"], values["VmHWM"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", action="store_true", help="keep the generated files (prints the folder)")
    ap.add_argument("--only", nargs="*", help="run only these cases (bomb rows csv318 csvrows xlsxfull csvfull)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    cases = {
        "bomb": ("enterprises.xlsx", lambda p: make_bomb(p)),
        "rows": ("enterprises.xlsx", lambda p: make_max_rows(p)),
        "csv318": ("enterprises.csv", lambda p: make_csv(p, size=318 * 1024 * 1024)),
        "csvrows": ("enterprises.csv", lambda p: make_csv(p, rows=2_200_000)),
        "xlsxfull": ("enterprises.xlsx", lambda p: make_full_xlsx(p)),
        "csvfull": ("enterprises.csv", lambda p: make_csv(p, rows=1_999_999, bad_last=True)),
    }
    if args.only:
        cases = {k: v for k, v in cases.items() if k in args.only}
    files = {}
    for case, (name, make) in cases.items():
        (tmp / case).mkdir()
        t = time.perf_counter()
        make(tmp / case / name)
        files[case] = tmp / case / name
        print(f"generated {case}: {name}, {files[case].stat().st_size / 2**20:.1f} MiB in {time.perf_counter() - t:.0f} s",
              flush=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RANDINSPECT_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
           "RANDINSPECT_DATA_DIR": str(tmp / "data")}
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("randinspect")), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(base)
        from api.db import make_engine, session_factory
        from api.models import User
        from api.security import hash_password

        with session_factory(make_engine(env["RANDINSPECT_DATABASE_URL"]), write=True)() as s:
            s.add(User(username="bench", role="planner", password_hash=hash_password("bench-password-1x")))
            s.commit()
        c = httpx.Client(base_url=base, timeout=900)
        token = c.post("/api/login", data={"username": "bench", "password": "bench-password-1x"}).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        others = [p for p in sorted(SAMPLE.iterdir()) if p.suffix in (".csv", ".xlsx") and p.stem != "enterprises"]
        start_rss, _ = rss(server.pid)
        print(f"server pid {server.pid}, resident after start-up {start_rss / 2**20:.0f} MiB")
        worst = 0
        for case, path in files.items():
            handles = [open(p, "rb") for p in [*others, path]]
            try:
                t = time.perf_counter()
                r = c.post("/api/registries", data={"name": case},
                           files=[("files", (h.name.rsplit("/", 1)[-1], h)) for h in handles])
                took = time.perf_counter() - t
            finally:
                for h in handles:
                    h.close()
            now, peak = rss(server.pid)
            worst = max(worst, peak)
            body = r.json()
            reason = body.get("problems", [{}])[0].get("text") if body.get("problems") else body.get("detail")
            time.sleep(1)  # the answer's background clean-up (api.uploads.release_memory)
            now, peak = rss(server.pid)
            print(f"{case:8s} {path.stat().st_size / 2**20:8.1f} MiB -> {r.status_code} in {took:6.2f} s; "
                  f"server RSS now {now / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB; {str(reason)[:150]}", flush=True)
        print(f"peak server RSS over all refused uploads: {worst / 2**20:.0f} MiB "
              f"({'under' if worst < GB else 'OVER'} 1 GiB)")
        return 0 if worst < GB else 1
    finally:
        server.terminate()
        server.wait(30)
        if args.keep:
            print(f"files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
