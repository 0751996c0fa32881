"""End to end through the command line: demo, plan, verify, bad input, infeasible plans."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from randinspect.cli import DEMO_SEED, main, sample_dir
from scheduler.checks import check_selection, check_visits
from scheduler.importer import load_registry
from scheduler.plan import load_plan
from scheduler.plan_run import Selected, Visit

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


# ---- registries as real platforms export them (issue 11) --------------------------------------

ACTIVE_FORMS = ["存续（在营、开业、在册）", "存续(在营、开业、在册)", "在营（开业）", "开业", "在业", "存续", "在册", "正常"]
NOT_ACTIVE_FORMS = {"吊销，未注销": ["吊销", "已吊销", "吊销,未注销"], "注销": ["已注销", "注销"], "歇业": ["停业", "歇业"]}
RISK_FORMS = {"A": ["信用风险低", "A类"], "B": ["信用风险一般", "B类"], "C": ["信用风险较高", "C类"], "D": ["信用风险高", "D类"]}


def _contract_tables(folder: Path) -> dict:
    """The sample's tables as the importer reads them (contract names, text cells)."""
    from scheduler.importer import TABLES
    from scheduler.tables import find_table, read_table

    return {t: read_table(p, t) for t in TABLES if (p := find_table(folder, t)) is not None}


def _as_exported(folder: Path) -> None:
    """Rewrite the sample registry in ``folder`` as platforms export it: status and risk class in
    their national and export forms, dates in Chinese, slash and dot forms, certificates without
    expiry as 长期, alias headers, enterprises in GB18030 and inspectors as CSV."""
    tables = _contract_tables(folder)
    ent = tables["enterprises"]
    k = pd.Series(range(len(ent)), index=ent.index)
    ent["status"] = [
        ACTIVE_FORMS[i % len(ACTIVE_FORMS)] if s == "active" else NOT_ACTIVE_FORMS.get(s, [s] * 2)[i % 2]
        for i, s in zip(k, ent["status"].map(lambda v: "active" if v in ACTIVE_FORMS else v), strict=True)
    ]
    ent["risk_class"] = [RISK_FORMS[r][i % 2] for i, r in zip(k, ent["risk_class"], strict=True)]
    ent = ent.rename(
        columns={
            "credit_code": "统一社会信用代码/注册号",
            "name": "市场主体名称",
            "status": "经营状态",
            "legal_rep_id": "法定代表人身份证号",
            "address": "经营场所",
            "region_code": "行政区划代码",
        }
    )
    ent.to_csv(folder / "enterprises.csv", index=False, encoding="gb18030")
    ins = tables["inspectors"]
    far = ins["certificate_expiry"].gt("2027-06-30")
    ins["certificate_expiry"] = ins["certificate_expiry"].map(lambda d: d.replace("-", ".").replace(".0", ".") if d else d)
    ins.loc[far, "certificate_expiry"] = ["长期", "9999-12-31", "9999-09-09"] * (int(far.sum()) // 3) + ["长期"] * (int(far.sum()) % 3)
    ins.rename(columns={"certificate_no": "执法证编号", "certificate_expiry": "执法证有效期"}).to_csv(
        folder / "inspectors.csv", index=False, encoding="utf-8"
    )
    (folder / "inspectors.xlsx").unlink()
    hist = tables["history"]
    hist["date"] = hist["date"].map(lambda d: f"{int(d[:4])}年{int(d[5:7])}月{int(d[8:])}日")
    hist.to_csv(folder / "history.csv", index=False, encoding="utf-8")
    leave = tables["leave"]
    for col in ("start", "end"):
        leave[col] = leave[col].map(lambda d: f"{int(d[:4])}/{int(d[5:7])}/{int(d[8:])}")
    leave.to_csv(folder / "leave.csv", index=False, encoding="utf-8")


PLATFORM_MAPPING = """\
columns:
  enterprises: {credit_code: 主体身份代码, status: RegState, risk_class: FXDJ, entity_type: ZTLX}
values:
  status: {active: [K, B, A, Q, X], 吊销，未注销: [DX], 注销: [XX], 歇业: [QX]}
  risk_class: {A: [低风险], B: [较低风险], C: [较高风险], D: [高风险]}
  entity_type: {企业: ['1'], 个体工商户: ['2'], 农民专业合作社: ['3']}
"""


def _with_platform_codes(folder: Path) -> None:
    """Rewrite the sample's enterprises with a platform's own headers and codes (mapping needed)."""
    ent = _contract_tables(folder)["enterprises"]
    codes = {"active": "K", "吊销，未注销": "DX", "注销": "XX", "歇业": "QX"}
    ent["status"] = ent["status"].map(lambda v: codes.get("active" if v in ACTIVE_FORMS else v))
    assert ent["status"].notna().all()
    ent["risk_class"] = ent["risk_class"].map({"A": "低风险", "B": "较低风险", "C": "较高风险", "D": "高风险"})
    ent["entity_type"] = ent["entity_type"].map({"企业": "1", "个体工商户": "2", "农民专业合作社": "3"})
    ent = ent.rename(columns={"credit_code": "主体身份代码", "status": "RegState", "risk_class": "FXDJ", "entity_type": "ZTLX"})
    ent.to_csv(folder / "enterprises.csv", index=False, encoding="utf-8")


def test_sample_as_platforms_export_it_draws_the_same_bytes(demo, tmp_path, capsys):
    reg = tmp_path / "exported"
    shutil.copytree(sample_dir(), reg)
    _as_exported(reg)
    text = (reg / "enterprises.csv").read_text(encoding="gb18030")
    assert "经营状态" in text and "信用风险较高" in text and "已吊销" in text and "正常" in text
    out = tmp_path / "out"
    assert main(["plan", str(reg), str(reg / "plan.yaml"), "--seed", DEMO_SEED, "--out", str(out)]) == 0
    for name in ("selection.csv", "visits.csv", "strata.csv"):
        assert (out / name).read_bytes() == (demo / name).read_bytes(), name


def test_sample_with_a_platform_mapping_file_draws_the_same_bytes_and_verifies(demo, tmp_path, capsys):
    reg = tmp_path / "platform"
    shutil.copytree(sample_dir(), reg)
    _with_platform_codes(reg)
    mapping = tmp_path / "platform-mapping.yaml"
    mapping.write_text(PLATFORM_MAPPING, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan", str(reg), str(reg / "plan.yaml"), "--seed", DEMO_SEED, "--out", str(out)]) == 2
    assert "主体身份代码" not in capsys.readouterr().out  # without the mapping: refused, not guessed
    assert not out.exists()
    args = ["plan", str(reg), str(reg / "plan.yaml"), "--seed", DEMO_SEED, "--out", str(out), "--mapping", str(mapping)]
    assert main(args) == 0
    for name in ("selection.csv", "visits.csv", "strata.csv"):
        assert (out / name).read_bytes() == (demo / name).read_bytes(), name
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["mapping"]["file"] == mapping.name  # by name and hash, no absolute path (issue 13)
    assert "path" not in manifest["inputs"]["mapping"]
    capsys.readouterr()
    assert main(["verify", str(out)]) == 0, capsys.readouterr().err
    mapping.write_text(PLATFORM_MAPPING.replace("QX]", "QX, ZZ]"), encoding="utf-8")
    assert main(["verify", str(out)]) == 1
    assert "输入 mapping：platform-mapping.yaml 找到了，但内容与运行时不同" in capsys.readouterr().err


def test_the_mapping_file_is_in_the_commitment(tmp_path, capsys):
    reg = tmp_path / "platform"
    shutil.copytree(sample_dir(), reg)
    _with_platform_codes(reg)
    (reg / "mapping.yaml").write_text(PLATFORM_MAPPING, encoding="utf-8")
    assert main(["commit", str(reg), str(reg / "plan.yaml"), "--source", "福彩", "--out", str(tmp_path / "c")]) == 0
    doc = json.loads((tmp_path / "c" / "commitment.json").read_text(encoding="utf-8"))
    assert doc["inputs"]["mapping"]["file"] == "mapping.yaml"
    (reg / "mapping.yaml").write_text(PLATFORM_MAPPING + "\n# changed\n", encoding="utf-8")
    args = ["plan", str(reg), str(reg / "plan.yaml"), "--commitment", str(tmp_path / "c" / "commitment.json")]
    assert main([*args, "--beacon", "1 2 3; 4", "--out", str(tmp_path / "c")]) == 2
    assert "mapping.yaml：承诺之后被改动" in capsys.readouterr().err


def test_exclusions_per_task_in_output_manifest_and_report(demo, tmp_path, capsys):
    from scheduler.messages import t

    manifest = json.loads((demo / "manifest.json").read_text(encoding="utf-8"))
    frames = manifest["facts"]["exclusions"]
    plan = load_plan(sample_dir() / "plan.yaml")
    assert [f["task_id"] for f in frames] == [task.task_id for task in plan.tasks]
    strata = list(csv.DictReader(open(demo / "strata.csv", encoding="utf-8")))
    for f in frames:
        assert f["jurisdiction"] - f["not_active"] - f["industry"] - f["risk_class"] - f["entity_type"] == f["population"]
        assert f["population"] - f["dedup_history"] - f["dedup_plan"] - f["frequency_cap"] == f["eligible"] > 0
        assert f["eligible"] == sum(int(s["population_size"]) for s in strata if s["task_id"] == f["task_id"])
    assert frames[0]["not_active"] > 0 and frames[0]["industry"] > 0
    report = (demo / "report.html").read_text(encoding="utf-8")
    assert 'id="exclusions"' in report and "非存续" in report
    out = tmp_path / "again"
    assert main(["plan", str(sample_dir()), str(sample_dir() / "plan.yaml"), "--seed", "x", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert t("summary_exclusions") in printed
    assert all(t("summary_exclusion_line", task=task.task_id, counts="") in printed for task in plan.tasks)


def test_an_empty_frame_exits_2_naming_task_and_filter_unless_allowed(tmp_path, capsys):
    import yaml

    from scheduler.messages import t

    doc = yaml.safe_load((sample_dir() / "plan.yaml").read_text(encoding="utf-8"))
    doc["tasks"][2]["population"]["entity_types"] = ["外国企业常驻代表机构"]
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan", str(sample_dir()), str(plan), "--seed", "x", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "tasks[2] (T130123-F)" in err and t("step_entity_type") in err
    assert not out.exists()
    doc["tasks"][2]["allow_empty"] = True
    plan.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert main(["plan", str(sample_dir()), str(plan), "--seed", "x", "--out", str(out)]) == 0
    pub = list(csv.DictReader(open(out / "publication.csv", encoding="utf-8-sig")))
    assert not any(r["task_id"] == "T130123-F" for r in pub)
    assert {r["inspection_type"] for r in pub} == {"定向抽查"}  # every sample task names its industries


def test_results_in_the_national_categories_and_the_gsxt_layout(demo, tmp_path, capsys):
    import openpyxl

    from scheduler.publication import GSXT_COLUMNS

    out = tmp_path / "run"
    shutil.copytree(demo, out)
    visits = read_visits(out)
    joint = next(v for v in visits if "T130123-J" in v.task_ids)  # three items
    single = next(v for v in visits if v.task_ids == ("T130123-F",))  # two items
    assert main(["result", str(out), "--visit", joint.visit_id, "--category", "不配合检查情节严重"]) == 0
    assert main(["result", str(out), "--visit", single.visit_id, "--category", "未发现开展本次抽查涉及的经营活动"]) == 0
    assert main(["result", str(out), "--visit", single.visit_id, "--category", "不配合"]) == 2
    assert main(["publish", str(out), "--date", "2026-04-01", "--format", "gsxt"]) == 0
    rows = list(csv.DictReader(open(out / "results_gsxt.csv", encoding="utf-8-sig")))
    assert list(rows[0]) == GSXT_COLUMNS
    per_visit = {}
    for r in rows:
        per_visit.setdefault((r["统一社会信用代码"], r["抽查完成日期"]), []).append(r)
    assert len(per_visit[(joint.credit_code, joint.date.isoformat())]) == 3
    assert len(per_visit[(single.credit_code, single.date.isoformat())]) == 2
    assert {r["检查结果"] for r in per_visit[(joint.credit_code, joint.date.isoformat())]} == {"不配合检查情节严重"}
    assert {r["抽查类型"] for r in rows} == {"定向抽查"} and all(r["抽查任务名称"] and r["抽查机关"] for r in rows)
    assert {r["抽查计划编号"] for r in rows} == {"2026Q1"}
    sheet = openpyxl.load_workbook(out / "results_gsxt.xlsx").active
    cells = list(sheet.iter_rows(values_only=False))
    assert [c.value for c in cells[0]] == GSXT_COLUMNS and len(cells) == len(rows) + 1
    assert all(c.data_type == "s" for row in cells for c in row if c.value is not None)
    capsys.readouterr()
    assert main(["verify", str(out)]) == 0, capsys.readouterr().err  # the exports are ledger files
    # ... checked through the record like the other ledger files (issue 13): an edit is named
    with open(out / "results_gsxt.csv", "a", encoding="utf-8") as fh:
        fh.write("x\n")
    assert main(["verify", str(out)]) == 1
    assert "results_gsxt.csv" in capsys.readouterr().err
