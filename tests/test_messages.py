"""The one message catalogue (scheduler/messages.py): Chinese first, English by choice, every
key used exists in both languages with the same fields, and problems still name file, row and
column (issue 13, item 4)."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from scheduler.errors import InputError, Problem
from scheduler.messages import CATALOGUE, language, set_language, t

ROOT = Path(__file__).resolve().parents[1]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_text_has_both_languages_with_the_same_fields(key):
    zh, en = CATALOGUE[key]
    assert zh.strip() and en.strip()
    assert fields(zh) == fields(en), key


def test_every_key_the_code_uses_is_in_the_catalogue():
    used = set()
    for path in [*ROOT.glob("scheduler/*.py"), *ROOT.glob("solver/*.py")]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\b(?:t|msg)\("([a-z_0-9]+)"[,)]', text))
    assert used, "the scan found nothing"
    assert sorted(used - set(CATALOGUE)) == []


def test_the_language_is_chinese_unless_chosen(monkeypatch):
    for var in ("RANDINSPECT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert language() == "zh"
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert language() == "zh"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert language() == "en"
    monkeypatch.setenv("RANDINSPECT_LANG", "zh")
    assert language() == "zh"
    set_language("en")
    assert language() == "en" and t("not_verified") == "NOT VERIFIED"
    set_language(None)
    assert t("not_verified") == "核验不通过"
    with pytest.raises(ValueError):
        set_language("fr")


def test_a_problem_names_file_row_column_and_the_files_own_header():
    p = Problem("enterprises.csv", 17, "credit_code", "校验位错误", header="统一社会信用代码")
    assert str(p) == "enterprises.csv，第 17 行，列 credit_code（统一社会信用代码）：校验位错误"
    assert p.render("en") == "enterprises.csv, row 17, column credit_code (统一社会信用代码): 校验位错误"
    assert str(Problem("plan.yaml", None, "quarter", "x")) == "plan.yaml，列 quarter：x"
    assert str(Problem("命令行", None, "--from", "x")) == "命令行，选项 --from：x"
    many = InputError([Problem("a.csv", k, "c", "x") for k in range(2, 205)])
    assert many.render().splitlines()[-1] == "……另有 3 个问题"


def test_the_command_line_speaks_english_when_asked(tmp_path, capsys):
    from randinspect.cli import main

    assert main(["verify", str(tmp_path / "nowhere"), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "bad input (1 problems)" in err and "the folder does not exist" in err
    assert main(["verify", str(tmp_path / "nowhere")]) == 2
    assert "输入有误（1 个问题）" in capsys.readouterr().err


def test_audit_verify_names_the_first_bad_record_in_chinese(tmp_path, capsys):
    from randinspect.cli import main
    from scheduler.audit import AuditLog

    log = AuditLog(tmp_path / "audit.jsonl")
    for k in range(3):
        log.append("note", {"k": k})
    lines = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "audit.jsonl").write_text(lines[0] + lines[2], encoding="utf-8")
    assert main(["audit", "verify", str(tmp_path)]) == 1
    assert "第 1 条记录：与上一条的哈希链断开" in capsys.readouterr().err


def test_an_importer_problem_names_the_files_own_header(tmp_path):
    from data.generate import generate_registry
    from scheduler.importer import load_registry
    from scheduler.tables import HEADER_LABELS

    reg = generate_registry(tmp_path / "reg", enterprises=300, inspectors=20, seed=3)
    lines = (reg / "enterprises.csv").read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    labels = HEADER_LABELS["enterprises"]
    lines[0] = ",".join(labels.get(h, h) for h in header)  # the platform's Chinese headers
    cells = lines[3].split(",")
    k = header.index("credit_code")
    cells[k] = cells[k][:17] + ("0" if cells[k][17] != "0" else "1")
    lines[3] = ",".join(cells)
    (reg / "enterprises.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_registry(reg)
    text = str(err.value)
    assert f"enterprises.csv，第 4 行，列 credit_code（{labels['credit_code']}）：" in text
    assert "GB 32100-2015" in text
