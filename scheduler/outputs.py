"""Writing a run's folder atomically, the manifest, and ``verify``.

Everything is written into a temporary sibling folder and moved into place
only when complete, so a failed run leaves OUT_DIR as it was (contract).
Every file is deterministic: the same inputs and seed give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from scheduler import cells
from scheduler.hashing import sha256_file
from scheduler.notices import write_notices
from scheduler.plan_run import PlanResult
from scheduler.plotting._common import CHART_COLUMNS
from scheduler.publication import visited_enterprises, write_publication, write_strata
from scheduler.report import write_report

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "randinspect-manifest/2"
"""Version 2: inputs by file name and hash (no absolute path of the planner's machine)."""
# Files a run folder accumulates after the draw (human input, the record); kept across rewrites
# and not part of the reproducible outputs. ``verify`` checks them through the audit record.
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


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def beside(folder: Path, out_dir: Path | None) -> str | None:
    """Where ``folder`` is relative to the run folder ``out_dir`` (``../reg``), or ``None``.

    Only a relative path is ever published, and only one that names nothing above the two
    folders' common ancestor; none is recorded when they share only the filesystem root, or when
    one lies in the user's home folder and the other outside it (the relative path would then
    spell out the home folder, which holds the user's name)."""
    if out_dir is None:
        return None
    a, b = Path(folder).resolve(), Path(out_dir).resolve()
    try:
        common = Path(os.path.commonpath([a, b]))
        rel = Path(os.path.relpath(a, b)).as_posix()
    except ValueError:  # another drive
        return None
    if common == Path(common.anchor):
        return None
    home = Path.home().resolve()
    if (_within(a, home) or _within(b, home)) and not _within(common, home):
        return None
    return rel


def input_entry(path: Path, out_dir: Path | None) -> dict[str, str]:
    """An input as the manifest names it: file name, SHA-256 and, if beside the run, its folder."""
    entry = {"file": path.name, "sha256": sha256_file(path)}
    near = beside(path.parent, out_dir)
    if near is not None:
        entry["folder"] = near
    return entry


def build_manifest(
    result: PlanResult,
    registry_dir: Path,
    plan_file: Path,
    outputs: dict[str, str],
    extra: dict | None = None,
    out_dir: Path | None = None,
) -> dict:
    """Seed, inputs with SHA-256, software versions, output hashes and the run's facts.

    The manifest is published: inputs are named by file name and hash, never by an absolute
    path; where it can be said without naming anything above the run (:func:`beside`), the
    input's folder relative to the run (``../reg``) is kept as ``folder`` so ``verify`` and
    ``recuse`` find it; otherwise ``--registry DIR`` says where it is."""
    inputs = {
        table: input_entry(Path(p), out_dir) for table, p in sorted(result.registry.files.items())
    }
    stats = result.staffing
    loads = [n for i, n in stats.load.items() if stats.capacity.get(i, 0) > 0]
    return {
        "format": MANIFEST_FORMAT,
        "quarter": result.plan.quarter,
        "seed": result.seed,
        "plan": input_entry(Path(plan_file), out_dir),
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
    path order; the manifest and the ledger files (at the top level) are left out. ``known``
    holds digests already computed while writing (the notices), so those files are not read back."""
    known = known or {}
    found: list[tuple[tuple[str, ...], str, str]] = []
    for root, _dirs, files in os.walk(folder):
        rel_root = Path(root).relative_to(folder).as_posix()
        for name in files:
            if rel_root == "." and (name == MANIFEST or name in LEDGER):
                continue
            rel = name if rel_root == "." else f"{rel_root}/{name}"
            found.append((tuple(rel.split("/")), rel, os.path.join(root, name)))
    found.sort()  # as sorted(Path.rglob()) orders them: by path component
    return {rel: known.get(rel) or sha256_file(path) for _, rel, path in found}


# ---- what an output folder may be ----------------------------------------------------------

@dataclass(frozen=True)
class OutFolder:
    """What is at an output path before a run writes there.

    ``kind``: ``new`` (nothing, or an empty folder), ``run`` (a randinspect run folder, or a
    folder made by ``commit``); ``human`` lists what people recorded after the draw (recusals,
    results, publications) — replacing such a run needs ``--replace``; ``foreign`` lists files
    randinspect did not write there."""

    path: Path
    kind: str
    human: tuple[str, ...] = ()
    foreign: tuple[str, ...] = ()


HUMAN_KINDS = {"recusal": "recusals", "result": "results", "publication": "publications", "broken": "broken"}
"""Audit record kinds that mean people recorded something after the draw."""


def _is_manifest(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(doc, dict) and str(doc.get("format", "")).startswith("randinspect-manifest"):
        return doc
    return None


def _is_commit_folder(folder: Path) -> bool:
    try:
        doc = json.loads((folder / "commitment.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and str(doc.get("format", "")).startswith("randinspect-commitment")


def inspect_out_folder(out_dir: str | Path) -> OutFolder:
    """Look at ``out_dir`` without changing it (see :class:`OutFolder`)."""
    from scheduler.audit import AuditLog

    out = Path(out_dir)
    if not out.exists():
        return OutFolder(out, "new")
    if not out.is_dir():
        return OutFolder(out, "other", foreign=(out.name,))
    names = sorted(p.name for p in out.iterdir())
    if not names:
        return OutFolder(out, "new")
    manifest = _is_manifest(out / MANIFEST)
    if manifest is None and not _is_commit_folder(out):
        return OutFolder(out, "other", foreign=tuple(names))
    ours = set((manifest or {}).get("outputs", {})) | {MANIFEST, *LEDGER}
    foreign = tuple(sorted(rel for rel in _hash_tree_names(out) if rel not in ours))
    human = []
    if (manifest or {}).get("recusals"):
        human.append("recusals")
    if (out / "results.csv").exists():
        human.append("results")
    if (out / "results_publication.csv").exists():
        human.append("publications")
    if (out / "audit.jsonl").exists():
        try:
            kinds = {str(r.get("kind")) for r in AuditLog(out / "audit.jsonl").records()}
        except Exception:  # a record that does not verify is itself something a person must see
            kinds = {"broken"}
        human += [HUMAN_KINDS[k] for k in sorted(kinds & set(HUMAN_KINDS))]
    return OutFolder(out, "run", tuple(dict.fromkeys(human)), foreign)


def _hash_tree_names(folder: Path) -> list[str]:
    out = []
    for root, _dirs, files in os.walk(folder):
        rel_root = Path(root).relative_to(folder).as_posix()
        out += [name if rel_root == "." else f"{rel_root}/{name}" for name in files]
    return out


def check_out_folder(out_dir: str | Path, replace: bool = False) -> OutFolder:
    """The rule for where a new run may be written (contract: a run never destroys).

    A new path or an empty folder: yes. An existing run folder holding only what randinspect
    wrote and no recusals, results or publications: yes (its audit record is carried over).
    A run folder with those, or with files randinspect did not write: only with ``replace``,
    which moves the old folder aside whole. Anything else: refused (exit 2), nothing touched."""
    from scheduler.errors import InputError, Problem
    from scheduler.messages import t

    state = inspect_out_folder(out_dir)
    name = str(out_dir)
    if state.kind == "other":
        shown = "、".join(state.foreign[:5]) + ("…" if len(state.foreign) > 5 else "")
        raise InputError(Problem(name, None, "--out", t("out_not_a_run", files=shown)))
    if state.kind == "run" and (state.human or state.foreign) and not replace:
        what = [t("out_holds_" + h) for h in state.human]
        if state.foreign:
            what.append(t("out_holds_foreign", files="、".join(state.foreign[:5])))
        raise InputError(Problem(name, None, "--out", t("out_needs_replace", what="；".join(what))))
    return state


def move_aside(out_dir: Path, now: dt.datetime | None = None) -> Path:
    """Move a run folder to a sibling ``NAME.replaced-YYYYMMDDTHHMMSS`` (never deleted)."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%dT%H%M%S")
    target = out_dir.with_name(f"{out_dir.name}.replaced-{stamp}")
    n = 2
    while target.exists():
        target = out_dir.with_name(f"{out_dir.name}.replaced-{stamp}-{n}")
        n += 1
    os.replace(out_dir, target)
    return target


def write_outputs(
    result: PlanResult,
    out_dir: str | Path,
    registry_dir: str | Path,
    plan_file: str | Path,
    extra: dict | None = None,
    on_stage: Callable[[str], None] | None = None,
    new_run: bool = False,
    replace: bool = False,
) -> Path:
    """Write the contract's files into ``out_dir`` all at once (or not at all); ledger files
    already in ``out_dir`` (the audit record, results) are carried over unchanged, and so are
    files randinspect did not write (nothing is deleted that we did not write).

    ``new_run``: a new draw (``plan``, ``demo``) — ``out_dir`` must pass
    :func:`check_out_folder`; with ``replace`` an old run with people's records is moved aside
    (``NAME.replaced-…``) and the new run starts its own record; ``extra["replaces"]`` then
    names the old folder (the caller reads it from the returned manifest).

    The visited enterprises' registry rows are looked up once for every file; the notices are
    hashed as they are written. ``on_stage(name)`` is called as each of :data:`STAGES` starts
    and with ``"done"`` at the end (``bench/outputs.py`` times them)."""
    stage = on_stage or (lambda name: None)
    out_dir = Path(out_dir).resolve()
    state = check_out_folder(out_dir, replace) if new_run else inspect_out_folder(out_dir)
    set_aside = new_run and state.kind == "run" and bool(state.human or state.foreign)
    extra = dict(extra or {})
    if set_aside:
        old = read_manifest(out_dir) if (out_dir / MANIFEST).exists() else {}
        from scheduler.audit import AuditLog

        extra["replaces"] = {
            "seed": old.get("seed"),
            "manifest_sha256": sha256_file(out_dir / MANIFEST) if (out_dir / MANIFEST).exists() else None,
            "audit_head": AuditLog(out_dir / "audit.jsonl").head() if (out_dir / "audit.jsonl").exists() else None,
            "records": list(state.human),
        }
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
        if not set_aside:
            for name in LEDGER:
                if (out_dir / name).exists():
                    shutil.copy2(out_dir / name, tmp / name)
        stage("move")
        if set_aside:
            aside = move_aside(out_dir)
            extra["replaces"] = {"folder": aside.name, **extra["replaces"]}
        manifest = build_manifest(
            result, Path(registry_dir), Path(plan_file), _hash_tree(tmp, digests), extra, out_dir
        )
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        if out_dir.exists():
            for rel in state.foreign:  # not ours: carried into the new folder, never deleted
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    os.replace(out_dir / rel, target)
            old_dir = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old_dir)
            os.replace(tmp, out_dir)
            shutil.rmtree(old_dir, ignore_errors=True)  # only randinspect's own files are left there
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    stage("done")
    return out_dir


def read_manifest(out_dir: str | Path) -> dict:
    """The run's manifest; a path that is not a run folder is bad input (exit 2, named)."""
    from scheduler.errors import InputError, Problem
    from scheduler.messages import t

    folder = Path(out_dir)
    if not folder.is_dir():
        raise InputError(Problem(str(folder), None, None, t("run_folder_missing")))
    doc = _is_manifest(folder / MANIFEST)
    if doc is None:
        raise InputError(Problem(str(folder / MANIFEST), None, None, t("run_no_manifest")))
    return doc


def compare_outputs(expected: dict[str, str], folder: Path) -> list[str]:
    """Differences between a manifest's output hashes and a folder's files."""
    from scheduler.messages import t

    actual = _hash_tree(folder)
    diffs = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            diffs.append(t("file_missing", name=name))
        elif name not in expected:
            diffs.append(t("file_added", name=name))
        elif expected[name] != actual[name]:
            diffs.append(t("file_differs", name=name, was=expected[name][:12], now=actual[name][:12]))
    return diffs
