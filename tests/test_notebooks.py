"""The notebooks in ``notebooks/`` run top to bottom (nbclient, the venv's ``python3`` kernel) and
show what they promise; the stored files carry no outputs, so running them never dirties the repo."""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PLOTLY = "application/vnd.plotly.v1+json"


def _execute(name: str) -> tuple[nbformat.NotebookNode, float]:
    """Run a copy of the notebook in memory (the file is not written), cwd ``notebooks/``."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()  # raises CellExecutionError on any failing cell
    return nb, time.perf_counter() - t0


def _text(nb) -> str:
    """Everything the cells printed or displayed as text."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                parts.append("ERROR " + out.get("ename", ""))
            parts.append(out.get("text", ""))
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _figures(nb) -> list[dict]:
    return [
        out["data"][PLOTLY]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if PLOTLY in out.get("data", {})
    ]


@pytest.mark.parametrize("name", ["quarterly_plan.ipynb", "fairness_audit.ipynb"])
def test_stored_notebooks_have_no_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.get("outputs") == [] and cell.get("execution_count") is None, cell.source[:80]
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_quarterly_plan_notebook_runs():
    nb, seconds = _execute("quarterly_plan.ipynb")
    text = _text(nb)
    assert "ERROR" not in text
    line = next(x for x in text.splitlines() if x.startswith("max pair probability:"))
    assert float(line.split(":")[1].split()[0]) <= 0.5
    assert "every stratum drew exactly n enterprises" in text
    assert "6 charts shown" in text and len(_figures(nb)) == 6
    assert "off floor/ceiling: 0" in text
    assert "1329 notices" in text
    assert "verified: all" in text and "reproduced byte for byte" in text
    assert seconds < 120, f"{seconds:.0f}s"


def test_fairness_audit_notebook_runs():
    nb, seconds = _execute("fairness_audit.ipynb")
    text = _text(nb)
    assert "ERROR" not in text
    assert "200 draws in" in text
    assert "all stratum tests passed: True" in text
    line = next(x for x in text.splitlines() if x.startswith("max pair probability:"))
    assert float(line.split(":")[1].split()[0]) <= 0.5 and "pairs over the cap: 0" in line
    assert "passed: True" in text.split("pair test", 1)[1]
    figures = _figures(nb)
    assert len(figures) == 4
    # the scatter plots carry the y = x line
    assert sum(any(t.get("name") == "y = x" for t in fig["data"]) for fig in figures) == 3
    json.dumps(figures)  # plain JSON, viewable offline
    assert seconds < 120, f"{seconds:.0f}s"
