"""Formula injection (issue 12 item 2): an enterprise named ``=HYPERLINK(...)`` and a result note
starting with ``@`` are inert in every CSV the CLI writes and in the Excel export, and
``verify`` / ``check-publication`` still reproduce and check the files."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from randinspect.cli import main
from scheduler.cells import TRIGGERS, dict_reader, neutral, neutral_frame, undo, undo_frame
from tests.api.conftest import login, make_user
from tests.security.conftest import PASSWORD

EVIL = '=HYPERLINK("http://x","y")'
BEACON = "3 11 17 22 28 31; 9"


@pytest.mark.parametrize(
    "value", [EVIL, "+1", "-5", "@SUM(A1)", "\tx", "\rx", "'=x", "''+x", "'plain", "plain", "", "'", "1-2"]
)
def test_neutral_is_owasp_and_undo_inverts_it(value):
    out = neutral(value)
    assert not out[:1] or out[:1] not in TRIGGERS  # never starts with a trigger
    assert undo(out) == value
    frame = pd.DataFrame({"a": [value], "n": [1]})
    assert neutral_frame(frame)["a"][0] == out
    assert undo_frame(neutral_frame(frame))["a"][0] == value


def _cells(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [c for row in csv.reader(fh) for c in row]


@pytest.fixture(scope="module")
def evil_run(tmp_path_factory):
    """A public draw of a small registry where every enterprise's name is a formula."""
    from data.generate import generate_registry

    base = tmp_path_factory.mktemp("evil")
    reg = generate_registry(base / "reg", enterprises=1500, inspectors=80, seed=8)
    ent_file = next(p for p in reg.iterdir() if p.stem in ("enterprises", "检查对象名录库"))
    ent = pd.read_csv(ent_file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    name_col = "name" if "name" in ent.columns else "名称"
    ent[name_col] = [f'=HYPERLINK("http://x","y{k}")' for k in range(len(ent))]
    ent.to_csv(ent_file, index=False, encoding="utf-8")
    out = base / "out"
    assert main(["commit", str(reg), str(reg / "plan.yaml"), "--source", "福彩双色球 2026003期", "--out", str(out)]) == 0
    assert main(["plan", str(reg), str(reg / "plan.yaml"), "--commitment", str(out / "commitment.json"),
                 "--beacon", BEACON, "--out", str(out)]) == 0
    return out


def test_cli_csvs_carry_no_live_formula_and_still_verify(evil_run, capsys):
    visits = list(dict_reader(open(evil_run / "visits.csv", encoding="utf-8")))
    first = visits[0]["visit_id"]
    assert main(["result", str(evil_run), "--visit", first, "--category", "其他", "--note", "@cmd|' /C calc'!A0"]) == 0
    assert main(["publish", str(evil_run), "--date", "2026-04-01"]) == 0
    names = ("selection.csv", "visits.csv", "publication.csv", "strata.csv", "results.csv",
             "results_publication.csv", "notices/index.csv")
    seen_evil = 0
    for name in names:
        path = evil_run / name
        if not path.exists():
            path = next(evil_run.rglob(Path(name).name))
        for cell in _cells(path):
            assert not cell[:1] or cell[:1] not in TRIGGERS, (name, cell)
            seen_evil += cell.startswith("'=HYPERLINK")
    assert seen_evil > 0  # the names did reach the publication, quoted
    pub = list(dict_reader(open(evil_run / "publication.csv", encoding="utf-8-sig")))
    assert all(r["enterprise"].startswith("=HYPERLINK(") for r in pub)  # the reader gives the value back
    note = next(dict_reader(open(evil_run / "results.csv", encoding="utf-8")))["note"]
    assert note.startswith("@cmd")
    capsys.readouterr()
    assert main(["verify", str(evil_run)]) == 0
    assert main(["check-publication", str(evil_run)]) == 0, capsys.readouterr().err


def test_excel_export_writes_text_cells_never_formulas():
    from api.routers.exports import build_workbook

    class Member:
        inspector_id = "I-1"
        name = "@张三"
        certificate_no = "+13000"

    import datetime as dt

    data = build_workbook([{"visit_id": "V1", "enterprise": EVIL, "credit_code": "-91130123", "region_code": "130123",
                            "task_ids": ["T1"], "date": dt.date(2026, 4, 1), "team": [Member()]}])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)  # no formula anywhere
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    evil = [c for c in cells if c.value == EVIL]
    assert len(evil) == 2 and all(c.data_type == "s" for c in evil)
    assert all(c.data_type != "f" for c in cells)


def test_service_export_and_public_csv_neutral(make_service, tmp_path):
    """Through the service: upload a registry whose enterprises are all named like formulas,
    draw, export to Excel, publish, read the public CSV."""
    from tests.api.test_registries import generated, make_plan, plan_spec, registry_files, wait_for_draw

    folder = generated()
    files = []
    for name, data in registry_files(folder):
        if Path(name).stem in ("enterprises", "检查对象名录库"):
            ent = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
            col = "name" if "name" in ent.columns else "名称"
            ent[col] = [f'=HYPERLINK("http://x","y{k}")' for k in range(len(ent))]
            data = ent.to_csv(index=False).encode("utf-8")
        files.append(("files", (name, data)))
    app, client = make_service()
    r = client.post("/api/registries", data={"name": "evil"}, files=files)
    assert r.status_code == 201, r.text
    plan = make_plan(client, {}, r.json()["id"], plan_spec(folder))
    # the official flow (issue 10): only an official draw is ever published
    make_user(app, "leader1", "leader", PASSWORD)
    leader = login(client, "leader1", PASSWORD)
    assert client.post(f"/api/plans/{plan['id']}/approve", headers=leader).status_code == 200
    r = client.post(f"/api/plans/{plan['id']}/commitment", json={"source": "福彩双色球 2026012期"})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/plans/{plan['id']}/draws", json={"beacon": "3 11 17 22 28 31; 9"})
    assert r.status_code == 202, r.text
    draw = wait_for_draw(client, {}, r.json()["id"], timeout=120)
    assert draw["status"] == "done", draw
    x = client.get(f"/api/draws/{draw['id']}/export.xlsx")
    assert x.status_code == 200
    with zipfile.ZipFile(io.BytesIO(x.content)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert "=HYPERLINK(" in "".join(sheets)  # the names are there ...
    assert not any("<f>" in s or "<f " in s for s in sheets)  # ... as text, never as formulas
    assert client.post(f"/api/draws/{draw['id']}/publish", json={"confirm": True}, headers=leader).status_code == 200
    r = client.get("/api/public/results.csv")
    assert r.status_code == 200
    cells = [c for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig"))) for c in row]
    assert any(c.startswith("'=HYPERLINK(") for c in cells)
    assert all(not c[:1] or c[:1] not in TRIGGERS for c in cells)
