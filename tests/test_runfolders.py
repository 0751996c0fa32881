"""Run folders never destroy, and ``verify`` checks every file of one (issue 13, items 1-2).

A run folder is written only where nothing is lost; replacing one that holds people's records
needs ``--replace`` and keeps the old one whole. ``verify`` re-runs the outputs and checks what
changed after the draw (results, publications) against the hashes in the audit record; the
manifest and the record name inputs by file name and hash, never by an absolute path."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from randinspect.cli import main


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    from data.generate import generate_registry

    return generate_registry(tmp_path_factory.mktemp("rf") / "reg", enterprises=3000, inspectors=60, seed=5)


@pytest.fixture(scope="module")
def run(registry) -> Path:
    """A run beside its registry, with one result entered and published."""
    out = registry.parent / "run"
    assert main(["plan", str(registry), str(registry / "plan.yaml"), "--seed", "s1", "--out", str(out)]) == 0
    first = next(csv.DictReader(open(out / "visits.csv", encoding="utf-8")))["visit_id"]
    assert main(["result", str(out), "--visit", first, "--category", "未发现问题"]) == 0
    assert main(["publish", str(out), "--date", "2026/04/01"]) == 0
    return out


def plan(registry: Path, out: Path, *extra: str, seed: str = "s2") -> int:
    return main(["plan", str(registry), str(registry / "plan.yaml"), "--seed", seed, "--out", str(out), *extra])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_of(run: Path, name: str) -> Path:
    """A copy beside the original (so its inputs are found the same way)."""
    target = run.parent / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(run, target)
    return target


# ---- item 1: never destroy -----------------------------------------------------------------

def test_a_folder_that_is_not_a_run_is_refused_and_untouched(registry, tmp_path, capsys):
    out = tmp_path / "计划"
    out.mkdir()
    (out / "计划说明.docx").write_bytes(b"the planner's own notes")
    assert plan(registry, out) == 2
    err = capsys.readouterr().err
    assert "计划说明.docx" in err and "不是 randinspect 的运行文件夹" in err
    assert snapshot(out) == {"计划说明.docx": b"the planner's own notes"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["计划"]  # no temporary folder left
    assert plan(registry, out, "--replace") == 2  # --replace is for run folders only
    assert snapshot(out) == {"计划说明.docx": b"the planner's own notes"}
    a_file = tmp_path / "a.txt"
    a_file.write_text("x", encoding="utf-8")
    assert plan(registry, a_file) == 2
    assert a_file.read_text(encoding="utf-8") == "x"


def test_an_empty_folder_and_a_new_path_are_written(registry, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert plan(registry, empty) == 0
    assert (empty / "manifest.json").exists()


def test_a_run_with_results_needs_replace_which_keeps_the_old_run(run, registry, capsys):
    out = copy_of(run, "run_replace")
    before = snapshot(out)
    assert plan(registry, out) == 2
    err = capsys.readouterr().err
    assert "--replace" in err and "已录入检查结果" in err and "已公示结果" in err
    assert snapshot(out) == before
    assert plan(registry, out, "--replace") == 0
    printed = capsys.readouterr().out
    aside = [p for p in out.parent.iterdir() if p.name.startswith("run_replace.replaced-")]
    assert len(aside) == 1 and snapshot(aside[0]) == before  # moved aside whole, not one byte lost
    assert aside[0].name in printed
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    old_manifest = json.loads(before["manifest.json"])
    assert manifest["replaces"]["folder"] == aside[0].name
    assert manifest["replaces"]["seed"] == old_manifest["seed"]
    assert set(manifest["replaces"]["records"]) >= {"results", "publications"}
    records = [json.loads(line) for line in (out / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["kind"] for r in records] == ["import", "draw"]  # the new run's own record
    assert records[0]["data"]["replaces"]["folder"] == aside[0].name
    assert not (out / "results.csv").exists() and not (out / "results_publication.csv").exists()
    assert main(["verify", str(out)]) == 0
    assert main(["verify", str(aside[0])]) == 0  # the old run still verifies where it now is


def test_a_run_without_records_is_redrawn_in_place_and_the_record_kept(registry, tmp_path):
    out = registry.parent / "run_inplace"
    assert plan(registry, out, seed="a") == 0
    assert plan(registry, out, seed="b") == 0
    kinds = [json.loads(line)["kind"] for line in (out / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert kinds == ["import", "draw", "import", "draw"]
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["seed"] == "b"
    assert main(["verify", str(out)]) == 0


def test_a_file_someone_put_in_a_run_survives_a_recusal(registry):
    out = registry.parent / "run_foreign"
    assert plan(registry, out, seed="c") == 0
    (out / "备注.txt").write_text("mine", encoding="utf-8")
    assert plan(registry, out, seed="d") == 2  # a new draw would have to remove it: refused
    visit = next(csv.DictReader(open(out / "visits.csv", encoding="utf-8")))
    leaving = visit["inspector_ids"].split(";")[0]
    assert main(["recuse", str(out), "--visit", visit["visit_id"], "--inspector", leaving, "--by", "bureau", "--reason", "回避"]) == 0
    assert (out / "备注.txt").read_text(encoding="utf-8") == "mine"


# ---- item 2: verification covers every file -----------------------------------------------

def test_the_published_run_verifies_and_names_the_ledger(run, capsys):
    assert main(["verify", str(run)]) == 0
    out = capsys.readouterr().out
    assert "results.csv" in out and "results_publication.csv" in out


@pytest.mark.parametrize("name", ["results.csv", "results_publication.csv", "manifest.json"])
def test_a_file_changed_after_the_draw_is_detected_through_the_record(run, name, capsys):
    copy = copy_of(run, f"edited_{name}")
    path = copy / name
    text = path.read_text(encoding="utf-8-sig")
    changed = text.replace("未发现问题", "发现问题") if "未发现问题" in text else text.replace('"visits": ', '"visits": 1')
    assert changed != text
    path.write_text(changed, encoding="utf-8")
    assert main(["verify", str(copy)]) == 1
    assert name in capsys.readouterr().err


@pytest.mark.parametrize("what", ["delete audit", "delete notice", "add file", "delete results"])
def test_a_missing_or_added_file_is_named(run, what, capsys):
    copy = copy_of(run, what.replace(" ", "_"))
    if what == "delete audit":
        (copy / "audit.jsonl").unlink()
        named = "audit.jsonl"
    elif what == "delete notice":
        notice = sorted((copy / "notices").glob("*.html"))[0]
        notice.unlink()
        named = notice.name
    elif what == "add file":
        (copy / "notices" / "extra.html").write_text("x", encoding="utf-8")
        named = "notices/extra.html"
    else:
        (copy / "results.csv").unlink()
        named = "results.csv"
    assert main(["verify", str(copy)]) == 1
    assert named in capsys.readouterr().err


def test_a_folder_that_is_not_a_run_or_does_not_exist_fails(tmp_path, capsys):
    assert main(["verify", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err
    (tmp_path / "plain").mkdir()
    assert main(["verify", str(tmp_path / "plain")]) == 2
    assert "manifest.json" in capsys.readouterr().err
    assert main(["audit", "verify", str(tmp_path / "nowhere")]) == 2
    assert main(["audit", "verify", str(tmp_path / "plain")]) == 1
    assert "audit.jsonl" in capsys.readouterr().err


def test_no_absolute_path_is_published_and_an_auditor_verifies_elsewhere(run, registry, tmp_path, capsys):
    for name in ("manifest.json", "audit.jsonl"):
        text = (run / name).read_text(encoding="utf-8")
        assert str(registry.parent) not in text and str(Path.home()) not in text, name
        assert '"path"' not in text and "registry_dir" not in text, name
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["plan"]["file"] == "plan.yaml"
    assert manifest["inputs"]["enterprises"]["file"].startswith("enterprises")
    # an auditor's machine: the run and a copy of the registry somewhere else, apart
    elsewhere = tmp_path / "auditor"
    shutil.copytree(run, elsewhere / "received" / "run")
    shutil.copytree(registry, elsewhere / "inputs-copy")
    capsys.readouterr()
    assert main(["verify", str(elsewhere / "received" / "run")]) == 1
    assert "enterprises" in capsys.readouterr().err  # not found: the message names the input
    assert main(["verify", str(elsewhere / "received" / "run"), "--registry", str(elsewhere / "inputs-copy")]) == 0
    # a changed copy of an input is named as changed
    with open(elsewhere / "inputs-copy" / "conflicts.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")
    assert main(["verify", str(elsewhere / "received" / "run"), "--registry", str(elsewhere / "inputs-copy")]) == 1
    assert "conflicts.csv" in capsys.readouterr().err
