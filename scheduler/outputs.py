"""Writing a run's folder atomically, the manifest, and ``verify``.

Everything is written into a temporary sibling folder and moved into place
only when complete, so a failed run leaves OUT_DIR as it was (contract).
Every file is deterministic: the same inputs and seed give the same bytes.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from scheduler import cells
from scheduler.hashing import sha256_file
from scheduler.notices import write_notices
from scheduler.plotting._common import CHART_COLUMNS
from scheduler.publication import visited_enterprises, write_publication, write_strata
from scheduler.report import write_report
from scheduler.result import PlanResult

MANIFEST = "manifest.json"
# Files a run folder accumulates after the draw (human input, the record); kept across rewrites
# and not part of the reproducible outputs.
LEDGER = (
    "audit.jsonl",
    "results.csv",
    "results_publication.csv",
    "results_gsxt.csv",
    "results_gsxt.xlsx",
    "commitment.json",
)
SOFTWARE = ("randinspect", "ortools", "numpy", "pandas", "chinesecalendar", "plotly")


def software_versions() -> dict[str, str]:
    out = {}
    for name in SOFTWARE:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    out["python"] = platform.python_version()
    return out


ENTERPRISE_COLUMNS = ("name", "region_code", "industry", *CHART_COLUMNS)
"""The registry columns the writers read, looked up once for all of them."""

STAGES = ("lookup", "selection", "visits", "publication", "strata", "notices", "report", "manifest", "move")
"""What :func:`write_outputs` does, in order (the names it reports to ``on_stage``)."""


def _write_csv(path: Path, header: list[str], rows: Iterable[list]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = cells.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_selection(result: PlanResult, out: Path) -> Path:
    """``selection.csv``: one row per (task, enterprise) drawn, with its ticket."""
    path = out / "selection.csv"
    _write_csv(
        path,
        [
            "task_id",
            "credit_code",
            "stratum",
            "population_size",
            "sample_size",
            "inclusion_probability",
            "ticket",
        ],
        (
            [
                s.task_id,
                s.credit_code,
                s.stratum,
                s.population_size,
                s.sample_size,
                f"{s.inclusion_probability:.12g}",
                s.ticket,
            ]
            for s in result.selection
        ),
    )
    return path


def write_visits(result: PlanResult, out: Path) -> Path:
    """``visits.csv``: one row per visit (ids of the team, not names: the planner's file)."""
    path = out / "visits.csv"
    _write_csv(
        path,
        [
            "visit_id",
            "credit_code",
            "task_ids",
            "date",
            "inspector_ids",
            "lead_agency_id",
            "agency_ids",
            "window_start",
            "window_end",
        ],
        (
            [
                v.visit_id,
                v.credit_code,
                ";".join(v.task_ids),
                v.date.isoformat() if v.date else "",
                ";".join(v.inspector_ids),
                v.lead_agency_id,
                ";".join(v.agency_ids),
                v.window_start.isoformat(),
                v.window_end.isoformat(),
            ]
            for v in result.visits
        ),
    )
    return path


def build_manifest(
    result: PlanResult,
    registry_dir: Path,
    plan_file: Path,
    outputs: dict[str, str],
    extra: dict | None = None,
) -> dict:
    """Seed, inputs with SHA-256, software versions, output hashes and the run's facts."""
    inputs = {
        table: {"path": str(Path(p).resolve()), "sha256": sha256_file(Path(p))}
        for table, p in sorted(result.registry.files.items())
    }
    stats = result.staffing
    loads = [n for i, n in stats.load.items() if stats.capacity.get(i, 0) > 0]
    return {
        "format": "randinspect-manifest/1",
        "quarter": result.plan.quarter,
        "seed": result.seed,
        "registry_dir": str(registry_dir.resolve()),
        "plan": {"path": str(plan_file.resolve()), "sha256": sha256_file(plan_file)},
        "inputs": inputs,
        "software": software_versions(),
        "facts": {
            "visits": len(result.visits),
            "selected": len(result.selection),
            "strata": len(result.strata),
            "max_pair_probability": round(stats.max_pair_probability, 6),
            "pair_probability_cap": stats.pair_probability_cap,
            "pairs_over_cap": stats.pairs_over_cap,
            "eligible_pairs": stats.eligible_pairs,
            "busiest_inspector_visits": max(loads, default=0),
            "warnings": result.warnings,
            "exclusions": [f.as_dict() for f in result.frames],
        },
        **(extra or {}),
        "outputs": outputs,
    }


def _hash_tree(folder: Path, known: dict[str, str] | None = None) -> dict[str, str]:
    """SHA-256 of every output file under ``folder`` by its relative path (``/``-separated), in
    path order; the manifest and the ledger files are left out. ``known`` holds digests already
    computed while writing (the notices), so those files are not read back."""
    known = known or {}
    found: list[tuple[tuple[str, ...], str, str]] = []
    for root, _dirs, files in os.walk(folder):
        rel_root = Path(root).relative_to(folder).as_posix()
        for name in files:
            if name == MANIFEST or name in LEDGER:
                continue
            rel = name if rel_root == "." else f"{rel_root}/{name}"
            found.append((tuple(rel.split("/")), rel, os.path.join(root, name)))
    found.sort()  # as sorted(Path.rglob()) orders them: by path component
    return {rel: known.get(rel) or sha256_file(path) for _, rel, path in found}


def write_outputs(
    result: PlanResult,
    out_dir: str | Path,
    registry_dir: str | Path,
    plan_file: str | Path,
    extra: dict | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> Path:
    """Write the contract's files into ``out_dir`` all at once (or not at all); ledger files
    already in ``out_dir`` (the audit record, results) are carried over unchanged.

    The visited enterprises' registry rows are looked up once for every file; the notices are
    hashed as they are written. ``on_stage(name)`` is called as each of :data:`STAGES` starts
    and with ``"done"`` at the end (``bench/outputs.py`` times them)."""
    stage = on_stage or (lambda name: None)
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        stage("lookup")
        enterprises = visited_enterprises(result, ENTERPRISE_COLUMNS)
        stage("selection")
        write_selection(result, tmp)
        stage("visits")
        write_visits(result, tmp)
        stage("publication")
        write_publication(result, tmp, enterprises)
        stage("strata")
        write_strata(result, tmp)
        stage("notices")
        digests: dict[str, str] = {}
        write_notices(result, tmp, enterprises, digests)
        stage("report")
        write_report(result, tmp, enterprises)
        del enterprises
        stage("manifest")
        manifest = build_manifest(
            result, Path(registry_dir), Path(plan_file), _hash_tree(tmp, digests), extra
        )
        for name in LEDGER:
            if (out_dir / name).exists():
                shutil.copy2(out_dir / name, tmp / name)
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        stage("move")
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    stage("done")
    return out_dir


def read_manifest(out_dir: str | Path) -> dict:
    path = Path(out_dir) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{path}: no manifest; is this a randinspect output folder?") from exc


def compare_outputs(expected: dict[str, str], folder: Path) -> list[str]:
    """Differences between a manifest's output hashes and a folder's files."""
    actual = _hash_tree(folder)
    diffs = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            diffs.append(f"{name}: missing")
        elif name not in expected:
            diffs.append(f"{name}: not in the manifest")
        elif expected[name] != actual[name]:
            diffs.append(f"{name}: differs (manifest {expected[name][:12]}…, now {actual[name][:12]}…)")
    return diffs
