"""Imports go one way: randinspect (the command line) -> api -> scheduler -> solver. The domain
never imports the service or the command line (issue 13), and only solver/ imports OR-Tools."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# package -> packages it must never import
FORBIDDEN = {
    "solver": {"scheduler", "api", "randinspect"},
    "scheduler": {"api", "randinspect"},
    "api": {"randinspect"},
    "data": {"api", "randinspect"},
}


def imported(path: Path) -> set[str]:
    """Top-level packages a module imports, lazily inside functions included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_go_one_way(package):
    wrong = {
        str(p.relative_to(ROOT)): sorted(imported(p) & FORBIDDEN[package])
        for p in sorted((ROOT / package).rglob("*.py"))
        if imported(p) & FORBIDDEN[package]
    }
    assert wrong == {}


def test_only_the_solver_imports_ortools():
    users = {
        str(p.relative_to(ROOT))
        for package in ("scheduler", "api", "data", "randinspect")
        for p in (ROOT / package).rglob("*.py")
        if "ortools" in imported(p)
    }
    assert users == set()


def test_the_command_line_lives_outside_the_domain():
    assert not (ROOT / "scheduler" / "cli.py").exists()
    assert (ROOT / "randinspect" / "cli.py").exists()
