"""Every input mistake on the command line is exit 2 with a message, never a traceback (issue 13,
item 3). The subcommands are enumerated from the parser itself, so a new one cannot be forgotten:
each must have malformed cases here."""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from randinspect.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every runnable subcommand path (``("audit", "verify")``), from argparse's own tables."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += commands(sub, (*prefix, name)) or [(*prefix, name)]
    return found


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    from data.generate import generate_registry

    base = tmp_path_factory.mktemp("errors")
    reg = generate_registry(base / "reg", enterprises=2000, inspectors=50, seed=9)
    out = base / "run"
    assert main(["plan", str(reg), str(reg / "plan.yaml"), "--seed", "e", "--out", str(out)]) == 0
    return out


def malformed(run: Path, tmp: Path) -> dict[tuple[str, ...], list[list[str]]]:
    """Bad arguments for each subcommand (after its name)."""
    visit = next(csv.DictReader(open(run / "visits.csv", encoding="utf-8")))
    inspector = visit["inspector_ids"].split(";")[0]
    code = visit["credit_code"]
    task = visit["task_ids"].split(";")[0]
    other = tmp / "not-a-run"
    other.mkdir(exist_ok=True)
    (other / "笔记.txt").write_text("x", encoding="utf-8")
    reg = run.parent / "reg"
    return {
        ("demo",): [["--out", str(other)], ["--executor", "nonsense://"]],
        ("plan",): [
            [str(tmp / "no-registry"), str(reg / "plan.yaml"), "--seed", "x", "--out", str(tmp / "o1")],
            [str(reg), str(reg / "plan.yaml"), "--out", str(tmp / "o2")],  # no seed
            [str(reg), str(reg / "plan.yaml"), "--seed", "x", "--out", str(other)],
        ],
        ("commit",): [[str(tmp / "no-registry"), str(reg / "plan.yaml"), "--source", "s", "--out", str(tmp / "c1")],
                      [str(reg), str(reg / "plan.yaml"), "--source", "s", "--out", str(other)]],
        ("check-ticket",): [
            [str(run), "--task", "NO-SUCH-TASK", "--credit-code", code],
            [str(run), "--task", task, "--credit-code", "12345"],
            [str(run), "--task", task, "--credit-code", code[:-1] + ("0" if code[-1] != "0" else "1")],
            ["--task", task, "--credit-code", code],  # neither folder nor seed
            [str(tmp / "nowhere"), "--task", task, "--credit-code", code],
            ["--task", task, "--credit-code", code, "--seed", "s", "--threshold", "xyz"],
        ],
        ("check-publication",): [[str(tmp / "nowhere")], [str(other)]],
        ("recuse",): [
            [str(run), "--visit", "NO-VISIT", "--inspector", inspector, "--by", "bureau", "--reason", "r"],
            [str(run), "--visit", visit["visit_id"], "--inspector", "NOBODY", "--by", "bureau", "--reason", "r"],
            [str(run), "--visit", visit["visit_id"], "--inspector", inspector, "--by", "bureau", "--reason", " "],
            [str(run), "--visit", visit["visit_id"], "--inspector", inspector, "--by", "nobody", "--reason", "r"],
        ],
        ("absent",): [
            [str(run), "--inspector", inspector, "--from", "2026/13/20", "--reason", "r"],
            [str(run), "--inspector", inspector, "--from", "2026/03/20", "--to", "2026/03/01", "--reason", "r"],
            [str(run), "--inspector", "NOBODY", "--from", "2026/03/20", "--reason", "r"],
            [str(tmp / "nowhere"), "--inspector", inspector, "--from", "2026/03/20", "--reason", "r"],
        ],
        ("result",): [
            [str(run), "--visit", "NO-VISIT", "--category", "未发现问题"],
            [str(run), "--visit", visit["visit_id"], "--category", "还行"],
            [str(other), "--visit", visit["visit_id"], "--category", "未发现问题"],
        ],
        ("publish",): [[str(run), "--date", "2026-02-30"], [str(run), "--visit", "NO-VISIT"], [str(other)]],
        ("overdue",): [[str(run), "--today", "yesterday"], [str(tmp / "nowhere")]],
        ("audit", "verify"): [[str(tmp / "nowhere")], [str(run), "--head", "not-a-hash"]],
        ("verify",): [[str(tmp / "nowhere")], [str(other)], [str(run), "--registry", str(tmp / "nowhere")]],
        ("generate",): [[], ["--enterprises", "many"]],
        ("serve",): [["--port", "70000"], ["--workers", "0"], ["--host", "no.such.host.invalid"]],
        ("user", "add"): [["", "--role", "planner", "--password-stdin"], ["x", "--role", "boss"],
                          ["x", "--role", "planner"]],  # no --agency
        ("user", "disable"): [[], ["a", "b"]],
        ("user", "password"): [[], ["x", "--bogus"]],
        ("agencies", "load"): [[], [str(tmp / "no-such-agencies.csv")]],
        ("agencies", "adopt"): [[], ["A", "B"]],
    }


def test_every_subcommand_has_malformed_cases(run, tmp_path):
    assert set(commands(build_parser())) == set(malformed(run, tmp_path))


def test_every_subcommand_refuses_malformed_input_with_exit_2_and_a_message(run, tmp_path, capsys):
    before = {p.relative_to(run).as_posix(): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    for path, cases in malformed(run, tmp_path).items():
        for args in [*cases, ["--no-such-option"]]:
            code = main([*path, *args])
            captured = capsys.readouterr()
            assert code == 2, (path, args, captured.out, captured.err)
            assert captured.err.strip(), (path, args)
            assert "Traceback" not in captured.err + captured.out, (path, args)
    after = {p.relative_to(run).as_posix(): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert after == before  # nothing was touched by a refused command


def test_argparse_speaks_chinese_and_english_on_request(capsys):
    assert main(["plan"]) == 2
    err = capsys.readouterr().err
    assert "用法：" in err and "缺少必需的参数" in err
    assert main(["--lang", "en", "plan"]) == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "the following arguments are required" in err
    assert main(["recuse", "x", "--visit", "v", "--inspector", "i", "--by", "boss", "--reason", "r"]) == 2
    assert "无效的选项" in capsys.readouterr().err


def test_a_busy_port_is_bad_input(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "--port" in err


def test_a_date_in_slashes_is_understood_and_a_bad_one_is_exit_2_in_a_real_process(run, tmp_path):
    inspector = next(csv.DictReader(open(run / "visits.csv", encoding="utf-8")))["inspector_ids"].split(";")[0]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RANDINSPECT_LANG": "zh"}
    cmd = [sys.executable, "-m", "randinspect.cli", "absent", str(run), "--inspector", inspector, "--reason", "病假"]
    done = subprocess.run([*cmd, "--from", "2026/13/20"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "2026/13/20" in done.stderr and "选项 --from" in done.stderr
    done = subprocess.run([*cmd, "--from", "2026/03/20", "--lang", "en"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "audit record head" in done.stdout
