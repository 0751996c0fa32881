"""Writing a run's folder atomically, the manifest, and ``verify``.

Everything is written into a temporary sibling folder and moved into place
only when complete, so a failed run leaves OUT_DIR as it was (contract).
Every file is deterministic: the same inputs and seed give the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from scheduler.hashing import sha256_file
from scheduler.notices import write_notices
from scheduler.publication import write_publication, write_strata
from scheduler.report import write_report
from scheduler.result import PlanResult

MANIFEST = "manifest.json"
# Files a run folder accumulates after the draw (human input, the record); kept across rewrites
# and not part of the reproducible outputs.
LEDGER = ("audit.jsonl", "results.csv", "results_publication.csv", "commitment.json")
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


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def write_selection(result: PlanResult, out: Path) -> Path:
    """``selection.csv``: one row per (task, enterprise) drawn, with its ticket."""
    path = out / "selection.csv"
    _write_csv(
        path,
        ["task_id", "credit_code", "stratum", "population_size", "sample_size", "inclusion_probability", "ticket"],
        [
            [s.task_id, s.credit_code, s.stratum, s.population_size, s.sample_size, f"{s.inclusion_probability:.12g}", s.ticket]
            for s in result.selection
        ],
    )
    return path


def write_visits(result: PlanResult, out: Path) -> Path:
    """``visits.csv``: one row per visit (ids of the team, not names: the planner's file)."""
    path = out / "visits.csv"
    _write_csv(
        path,
        ["visit_id", "credit_code", "task_ids", "date", "inspector_ids", "lead_agency_id", "agency_ids", "window_start", "window_end"],
        [
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
        ],
    )
    return path


def build_manifest(
    result: PlanResult, registry_dir: Path, plan_file: Path, outputs: dict[str, str], extra: dict | None = None
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
        },
        **(extra or {}),
        "outputs": outputs,
    }


def _hash_tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST and p.name not in LEDGER
    }


def write_outputs(
    result: PlanResult,
    out_dir: str | Path,
    registry_dir: str | Path,
    plan_file: str | Path,
    extra: dict | None = None,
) -> Path:
    """Write the contract's files into ``out_dir`` all at once (or not at all); ledger files
    already in ``out_dir`` (the audit record, results) are carried over unchanged."""
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        write_selection(result, tmp)
        write_visits(result, tmp)
        write_publication(result, tmp)
        write_strata(result, tmp)
        write_notices(result, tmp)
        write_report(result, tmp)
        manifest = build_manifest(result, Path(registry_dir), Path(plan_file), _hash_tree(tmp), extra)
        for name in LEDGER:
            if (out_dir / name).exists():
                shutil.copy2(out_dir / name, tmp / name)
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
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
