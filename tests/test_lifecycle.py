"""A plan's life through the command line: commit, public draw, ticket check, recusal,
absence, results, publication, deadlines — and the record that cannot be altered."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from randinspect.cli import main
from scheduler.checks import check_visits
from scheduler.importer import load_registry
from scheduler.plan import load_plan
from scheduler.seed import derive_seed
from tests.test_cli import read_visits

BEACON = "3 11 17 22 28 31; 9"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    from data.generate import generate_registry

    return generate_registry(tmp_path_factory.mktemp("reg") / "reg", enterprises=4000, inspectors=150, seed=21)


@pytest.fixture()
def public_run(registry, tmp_path):
    out = tmp_path / "out"
    assert main(["commit", str(registry), str(registry / "plan.yaml"), "--source", "福彩双色球 2026003期", "--out", str(out)]) == 0
    assert main(["plan", str(registry), str(registry / "plan.yaml"), "--commitment", str(out / "commitment.json"), "--beacon", BEACON, "--out", str(out)]) == 0
    return out


def visits_rows(out: Path) -> dict[str, dict]:
    return {r["visit_id"]: r for r in csv.DictReader(open(out / "visits.csv", encoding="utf-8"))}


def test_public_seed_is_derived_from_commitment_and_numbers(public_run, registry, capsys):
    manifest = json.loads((public_run / "manifest.json").read_text(encoding="utf-8"))
    commitment = json.loads((public_run / "commitment.json").read_text(encoding="utf-8"))["commitment"]
    assert manifest["seed_kind"] == "public"
    assert manifest["seed"] == derive_seed(commitment, BEACON)[0]
    assert manifest["key_string"] == "3.11.17.22.28.31./9./"
    assert "公开随机数" in (public_run / "report.html").read_text(encoding="utf-8")
    assert main(["verify", str(public_run), "--registry", str(registry)]) == 0
    kinds = [json.loads(line)["kind"] for line in (public_run / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert kinds == ["commit", "import", "draw"]


def test_test_seed_is_marked_test(registry, tmp_path, capsys):
    out = tmp_path / "t"
    assert main(["plan", str(registry), str(registry / "plan.yaml"), "--seed", "typed", "--out", str(out)]) == 0
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["seed_kind"] == "test"
    assert "测试种子" in (out / "report.html").read_text(encoding="utf-8")
    assert "【测试】抽取" in capsys.readouterr().out


def test_inputs_changed_after_commitment_are_refused(registry, tmp_path, capsys):
    copy = tmp_path / "reg"
    shutil.copytree(registry, copy)
    out = tmp_path / "out"
    assert main(["commit", str(copy), str(copy / "plan.yaml"), "--source", "x", "--out", str(out)]) == 0
    with open(copy / "leave.csv", "a", encoding="utf-8") as fh:
        fh.write("")
    (copy / "conflicts.csv").write_text((copy / "conflicts.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert main(["plan", str(copy), str(copy / "plan.yaml"), "--commitment", str(out / "commitment.json"), "--beacon", BEACON, "--out", str(out)]) == 2
    assert "conflicts.csv：承诺之后被改动" in capsys.readouterr().err


def test_an_enterprise_checks_its_own_ticket(public_run, registry, capsys):
    rows = list(csv.DictReader(open(public_run / "selection.csv", encoding="utf-8")))
    drawn = next(r for r in rows if r["stratum"] in "ABCD")
    assert main(["check-ticket", str(public_run), "--task", drawn["task_id"], "--credit-code", drawn["credit_code"], "--stratum", drawn["stratum"]]) == 0
    out = capsys.readouterr().out
    assert drawn["ticket"] in out and "→ 如果企业属于该分层：抽中" in out
    reg = load_registry(registry)
    ent = reg.enterprises
    chosen = {r["credit_code"] for r in rows if r["task_id"] == drawn["task_id"]}
    # an enterprise of the same stratum and population that was not drawn
    same = ent[(ent["risk_class"] == drawn["stratum"]) & ~ent["credit_code"].isin(chosen) & ~ent["key_area"]]
    from scheduler.draw import population_mask
    from scheduler.plan import load_plan as lp

    plan = lp(registry / "plan.yaml")
    mask = population_mask(plan.task(drawn["task_id"]), reg)
    candidates = same[mask[same.index]]
    other = candidates["credit_code"].iloc[0]
    assert main(["check-ticket", str(public_run), "--task", drawn["task_id"], "--credit-code", other, "--stratum", drawn["stratum"]]) == 0
    assert "→ 如果企业属于该分层：未抽中" in capsys.readouterr().out


def test_recusal_replaces_one_member_is_recorded_and_verifies(public_run, registry, capsys):
    before = visits_rows(public_run)
    v = next(iter(before.values()))
    out_ins = v["inspector_ids"].split(";")[0]
    assert main(["recuse", str(public_run), "--visit", v["visit_id"], "--inspector", out_ins, "--by", "enterprise", "--reason", "法定代表人近亲属"]) == 0
    after = visits_rows(public_run)
    changed = [k for k in before if before[k] != after[k]]
    assert changed == [v["visit_id"]]
    old, new = before[v["visit_id"]]["inspector_ids"].split(";"), after[v["visit_id"]]["inspector_ids"].split(";")
    assert old[1:] == new[1:] and new[0] != out_ins
    notice = (public_run / "notices" / f"{v['visit_id']}.html").read_text(encoding="utf-8")
    reg = load_registry(registry)
    assert reg.inspectors[new[0]].name in notice and reg.inspectors[out_ins].name not in notice
    records = [json.loads(line) for line in (public_run / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records[-1]["kind"] == "recusal" and records[-1]["data"]["replacement"] == new[0]
    assert main(["verify", str(public_run), "--registry", str(registry)]) == 0
    assert "并重放 1 条回避记录" in capsys.readouterr().out
    plan = load_plan(registry / "plan.yaml")
    assert check_visits(plan, reg, read_visits(public_run)) == []


def test_an_absent_inspector_is_replaced_on_every_visit_of_the_period(public_run, registry, capsys):
    rows = visits_rows(public_run)
    ins = rows[next(iter(rows))]["inspector_ids"].split(";")[1]
    theirs = [k for k, r in rows.items() if ins in r["inspector_ids"].split(";") and r["date"] >= "2026-02-01"]
    assert main(["absent", str(public_run), "--inspector", ins, "--from", "2026-02-01", "--reason", "病假"]) == 0
    after = visits_rows(public_run)
    assert all(ins not in after[k]["inspector_ids"].split(";") for k in theirs)
    assert all(after[k] == rows[k] for k in rows if k not in theirs)
    # nobody replaced later draws the absent inspector back into the period
    later = next(k for k, r in after.items() if k not in theirs and r["date"] >= "2026-02-01" and ins not in r["inspector_ids"])
    leaving = after[later]["inspector_ids"].split(";")[0]
    assert main(["recuse", str(public_run), "--visit", later, "--inspector", leaving, "--by", "inspector", "--reason", "回避"]) == 0
    assert ins not in visits_rows(public_run)[later]["inspector_ids"].split(";")
    assert main(["verify", str(public_run), "--registry", str(registry)]) == 0


def test_a_byte_changed_in_an_output_or_the_record_is_detected(public_run, registry, tmp_path, capsys):
    for name in ("strata.csv", "publication.csv", "notices/index.csv", "audit.jsonl"):
        copy = tmp_path / name.replace("/", "_")
        shutil.copytree(public_run, copy)
        path = copy / name
        data = bytearray(path.read_bytes())
        k = len(data) // 2
        data[k] = ord("0") if data[k] != ord("0") else ord("1")
        path.write_bytes(bytes(data))
        assert main(["verify", str(copy), "--registry", str(registry)]) == 1, name
        err = capsys.readouterr().err
        assert name.split("/")[-1] in err, err
    copy = tmp_path / "audit"
    shutil.copytree(public_run, copy)
    lines = (copy / "audit.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (copy / "audit.jsonl").write_text("".join(lines[:1] + lines[2:]), encoding="utf-8")
    assert main(["audit", "verify", str(copy)]) == 1
    assert "第 1 条记录" in capsys.readouterr().err


def test_results_publication_and_deadlines(public_run, registry, capsys):
    rows = visits_rows(public_run)
    first, second = list(rows)[:2]
    assert main(["result", str(public_run), "--visit", first, "--category", "未发现问题"]) == 0
    assert main(["result", str(public_run), "--visit", second, "--category", "还行"]) == 2
    assert "未知的结果类别 '还行'" in capsys.readouterr().err
    # published on the visit's own day: within its deadline whatever day the draw gave it
    assert main(["publish", str(public_run), "--date", rows[first]["date"]]) == 0
    pub = list(csv.DictReader(open(public_run / "results_publication.csv", encoding="utf-8-sig")))
    assert {r["visit_id"] for r in pub} == {first} and pub[0]["result"] == "未发现问题"
    assert main(["result", str(public_run), "--visit", first, "--category", "其他"]) == 2
    assert "不能再修改" in capsys.readouterr().err
    assert main(["overdue", str(public_run), "--today", "2026-12-31"]) == 0
    out = capsys.readouterr().out
    assert f"{first}\t" not in out and f"{second}\t" in out
    assert f"共 {len(rows) - 1} 条结果逾期未公示" in out
    kinds = [json.loads(line)["kind"] for line in (public_run / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert kinds[-2:] == ["result", "publication"]
    assert main(["verify", str(public_run), "--registry", str(registry)]) == 0


def test_a_third_party_checks_the_publication_alone(public_run, registry, tmp_path, capsys):
    assert main(["check-publication", str(public_run)]) == 0
    assert "每户随机抽中企业的签号均已重算" in capsys.readouterr().out
    copy = tmp_path / "forged"
    shutil.copytree(public_run, copy)
    rows = list(csv.DictReader(open(copy / "publication.csv", encoding="utf-8-sig")))
    selection = {(r["task_id"], r["credit_code"]): r for r in csv.DictReader(open(copy / "selection.csv", encoding="utf-8"))}
    # swap a randomly drawn enterprise for one that was not drawn (a favour done by hand)
    k = next(i for i, r in enumerate(rows) if selection[(r["task_id"], r["credit_code"])]["stratum"] != "key_area")
    reg = load_registry(registry)
    drawn = {r["credit_code"] for r in rows}
    from scheduler.tickets import ticket

    seed = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))["seed"]
    strata = list(csv.DictReader(open(copy / "strata.csv", encoding="utf-8-sig")))
    top = max(s["threshold"] for s in strata if s["task_id"] == rows[k]["task_id"] and s["threshold"])
    other = next(c for c in reg.enterprises["credit_code"] if c not in drawn and ticket(seed, rows[k]["task_id"], c) > top)
    rows[k]["credit_code"] = other
    with open(copy / "publication.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    assert main(["check-publication", str(copy)]) == 1
    assert "公示为随机抽中，但其签号" in capsys.readouterr().err
