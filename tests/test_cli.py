"""End to end through the command line: demo, plan, verify, bad input, infeasible plans."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from scheduler.checks import check_selection, check_visits
from scheduler.cli import DEMO_SEED, main, sample_dir
from scheduler.importer import load_registry
from scheduler.plan import load_plan
from scheduler.result import Selected, Visit

OUTPUTS = {"selection.csv", "visits.csv", "manifest.json", "publication.csv", "strata.csv", "report.html", "notices"}


def read_visits(out: Path) -> list[Visit]:
    rows = list(csv.DictReader(open(out / "visits.csv", encoding="utf-8")))
    return [
        Visit(
            visit_id=r["visit_id"],
            credit_code=r["credit_code"],
            task_ids=tuple(r["task_ids"].split(";")),
            lead_agency_id=r["lead_agency_id"],
            agency_ids=tuple(r["agency_ids"].split(";")),
            departments=(),
            specialties=(),
            window_start=dt.date.fromisoformat(r["window_start"]),
            window_end=dt.date.fromisoformat(r["window_end"]),
            date=dt.date.fromisoformat(r["date"]),
            inspector_ids=tuple(r["inspector_ids"].split(";")),
        )
        for r in rows
    ]


def read_selection(out: Path) -> list[Selected]:
    rows = list(csv.DictReader(open(out / "selection.csv", encoding="utf-8")))
    return [
        Selected(r["task_id"], r["credit_code"], r["stratum"], int(r["population_size"]), int(r["sample_size"]), float(r["inclusion_probability"]), r["ticket"])
        for r in rows
    ]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    assert main(["demo", "--out", str(out)]) == 0
    return out


def test_demo_writes_every_contract_file(demo, capsys):
    assert OUTPUTS <= {p.name for p in demo.iterdir()}
    visits = read_visits(demo)
    assert len(list((demo / "notices").glob("*.html"))) == len(visits) > 1000
    manifest = json.loads((demo / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == DEMO_SEED
    assert set(manifest["inputs"]) >= {"agencies", "enterprises", "inspectors", "history", "leave", "conflicts", "items"}
    assert all(len(v["sha256"]) == 64 for v in manifest["inputs"].values())
    assert manifest["software"]["ortools"]
    assert manifest["facts"]["max_pair_probability"] <= 0.5


def test_every_rule_holds_on_the_sample(demo):
    reg = load_registry(sample_dir())
    plan = load_plan(sample_dir() / "plan.yaml")
    assert check_visits(plan, reg, read_visits(demo)) == []
    assert check_selection(plan, reg, read_selection(demo)) == []


def test_sample_traps_are_respected(demo):
    traps = json.loads((sample_dir() / "traps.json").read_text(encoding="utf-8"))
    visits = read_visits(demo)
    on = {}
    for v in visits:
        for i in v.inspector_ids:
            on.setdefault(i, []).append(v)
    drawn = {v.credit_code: v for v in visits}
    for key in ("no_certificate", "certificate_expired", "auxiliary"):
        assert not any(i in on for i in traps[key]["inspector_ids"]), key
    expiry = dt.date.fromisoformat(traps["certificate_expires_in_quarter"]["expiry"])
    assert all(v.date <= expiry for i in traps["certificate_expires_in_quarter"]["inspector_ids"] for v in on.get(i, []))
    for key in ("relative_conflict", "former_employer_conflict", "declared_conflict", "rotation"):
        code = traps[key]["credit_codes"][0]
        assert code in drawn, key  # key-area: certainly drawn, so the trap is live
        assert not set(traps[key]["inspector_ids"]) & set(drawn[code].inspector_ids), key
    start, end = (dt.date.fromisoformat(traps["leave"][k]) for k in ("start", "end"))
    assert not any(start <= v.date <= end for i in traps["leave"]["inspector_ids"] for v in on.get(i, []))
    assert traps["dedup_higher_level"]["credit_codes"][0] not in drawn
    assert traps["frequency_cap"]["credit_codes"][0] not in drawn
    assert traps["frequency_cap_exempt_d"]["credit_codes"][0] in drawn
    assert {v.date for v in visits} & {dt.date(2026, 2, 14), dt.date(2026, 2, 28)}  # 调休 Saturdays are used
    assert not {v.date for v in visits} & {dt.date(2026, 2, 16) + dt.timedelta(days=k) for k in range(7)}


def test_verify_reproduces_and_detects_a_changed_byte(demo, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(demo, copy)
    assert main(["verify", str(copy)]) == 0
    assert "个结果文件逐字节一致" in capsys.readouterr().out
    data = bytearray((copy / "visits.csv").read_bytes())
    data[-3] = ord("0") if data[-3] != ord("0") else ord("1")
    (copy / "visits.csv").write_bytes(bytes(data))
    assert main(["verify", str(copy)]) == 1
    assert "visits.csv：内容不同" in capsys.readouterr().err


def test_same_seed_same_bytes_other_seed_other_plan(demo, tmp_path):
    again = tmp_path / "again"
    assert main(["plan", str(sample_dir()), str(sample_dir() / "plan.yaml"), "--seed", DEMO_SEED, "--out", str(again)]) == 0
    for name in ("selection.csv", "visits.csv", "publication.csv", "report.html"):
        assert (again / name).read_bytes() == (demo / name).read_bytes(), name
    other = tmp_path / "other"
    assert main(["plan", str(sample_dir()), str(sample_dir() / "plan.yaml"), "--seed", "another", "--out", str(other)]) == 0
    assert (other / "selection.csv").read_bytes() != (demo / "selection.csv").read_bytes()


def small_registry(tmp_path: Path) -> Path:
    from data.generate import generate_registry

    return generate_registry(tmp_path / "reg", enterprises=3000, inspectors=60, seed=5)


def test_bad_input_exits_2_naming_file_row_column_and_writes_nothing(tmp_path, capsys):
    reg = small_registry(tmp_path)
    lines = (reg / "enterprises.csv").read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    cells = lines[3].split(",")
    col = header.index("risk_class") if "risk_class" in header else header.index("信用风险分类")
    cells[col] = "E"
    lines[3] = ",".join(cells)
    (reg / "enterprises.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan", str(reg), str(reg / "plan.yaml"), "--seed", "x", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "enterprises.csv，第 4 行，列 risk_class" in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_infeasible_plan_exits_3_with_task_rule_and_numbers_and_keeps_old_output(tmp_path, capsys):
    reg = small_registry(tmp_path)
    out = tmp_path / "out"
    assert main(["plan", str(reg), str(reg / "plan.yaml"), "--seed", "x", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    plan = (reg / "plan.yaml").read_text(encoding="utf-8")
    (reg / "tight.yaml").write_text(plan.replace("quarterly_cap: 30", "quarterly_cap: 1"), encoding="utf-8")
    capsys.readouterr()
    assert main(["plan", str(reg), str(reg / "tight.yaml"), "--seed", "x", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "计划无法执行" in err and "capacity" in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_missing_calendar_year_is_bad_input(tmp_path, capsys):
    reg = small_registry(tmp_path)
    plan = (reg / "plan.yaml").read_text(encoding="utf-8").replace("2026", "2027")
    (reg / "p2027.yaml").write_text(plan, encoding="utf-8")
    assert main(["plan", str(reg), str(reg / "p2027.yaml"), "--seed", "x", "--out", str(tmp_path / "o")]) == 2
    assert "没有 2027 年的工作日历" in capsys.readouterr().err


@pytest.mark.parametrize("seed,tightness", [(11, 0.5), (12, 0.9)])
def test_unseen_generated_registries_obey_every_rule_and_verify(tmp_path, seed, tightness):
    from data.generate import generate_registry

    reg = generate_registry(tmp_path / "reg", enterprises=20_000, inspectors=150, seed=seed, tightness=tightness, fmt="parquet")
    out = tmp_path / "out"
    assert main(["plan", str(reg), str(reg / "plan.yaml"), "--seed", f"g{seed}", "--out", str(out)]) == 0
    registry = load_registry(reg)
    plan = load_plan(reg / "plan.yaml")
    assert check_visits(plan, registry, read_visits(out)) == []
    assert check_selection(plan, registry, read_selection(out)) == []
    assert main(["verify", str(out)]) == 0
