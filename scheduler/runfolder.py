"""A run folder over its life: the draw, recusals, results, publication — and their record.

The folder's state is a function of its inputs, seed and recusal requests: ``replay`` re-runs
the draw from the manifest and re-applies the recorded requests, so ``verify`` checks every
later change too. Results are human input and live in ``results.csv``; every step appends to
``audit.jsonl`` (see :mod:`scheduler.audit`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import tempfile
from pathlib import Path

from scheduler import cells
from scheduler.audit import AuditLog
from scheduler.errors import InputError, Problem
from scheduler.hashing import sha256_file
from scheduler.inspection_results import ResultEntry, check_category, overdue
from scheduler.messages import t
from scheduler.outputs import MANIFEST, read_manifest, write_outputs
from scheduler.pipeline import run_plan
from scheduler.plan_run import PlanResult
from scheduler.recusal import RecusalOutcome, RecusalRequest, replace_inspector
from scheduler.staffing import build_roster
from scheduler.workdays import WorkCalendar, load_calendar

AUDIT = "audit.jsonl"
RESULTS = "results.csv"
RESULTS_PUBLICATION = "results_publication.csv"


def audit_log(out_dir: Path) -> AuditLog:
    return AuditLog(Path(out_dir) / AUDIT)


def manifest_extra(manifest: dict) -> dict:
    """The manifest fields a rewrite must keep (how the seed came about, the recusals, what it replaced)."""
    keep = ("seed_kind", "commitment", "beacon", "key_string", "recusals", "replaces")
    return {k: manifest[k] for k in keep if k in manifest}


@dataclasses.dataclass(frozen=True)
class Inputs:
    """Where a run's inputs were found again: the registry folder, the plan, the calendar."""

    registry_dir: Path
    plan_file: Path
    calendar_file: Path | None
    mapping_file: Path | None = None  # the registry's mapping file (issue 11), wherever it was


def _candidates(entry: dict, out_dir: Path, registry: Path | None) -> list[Path]:
    """Folders to look in for an input, in order: ``--registry``, its recorded place beside the
    run, the run's parent, the bundled sample county (the demo's inputs)."""
    folders = []
    if registry is not None:
        folders.append(Path(registry))
    if entry.get("folder"):
        folders.append(Path(out_dir) / entry["folder"])
    if entry.get("path"):  # manifests before format 2 recorded absolute paths
        folders.append(Path(entry["path"]).parent)
    folders.append(Path(out_dir).resolve().parent)
    import data

    folders.append(Path(data.__file__).resolve().parent / "sample_county")
    return folders


def _find(entry: dict, out_dir: Path, registry: Path | None) -> tuple[Path | None, str | None]:
    """The file with the entry's name and SHA-256, or ``None`` and why not."""
    name = entry.get("file") or Path(entry.get("path", "")).name
    changed = None
    for folder in _candidates(entry, out_dir, registry):
        path = folder / name
        if path.is_file():
            if sha256_file(path) == entry["sha256"]:
                return path, None
            changed = changed or path
    if changed is not None:
        return None, t("input_changed", name=name)
    return None, t("input_not_found", name=name)


def locate_inputs(out_dir: Path, manifest: dict, registry: Path | None = None) -> tuple[Inputs | None, list[str]]:
    """Find the run's inputs by file name and hash (never by a recorded absolute path); the
    problems name each input missing or changed."""
    problems = []
    found: dict[str, Path] = {}
    entries = dict(manifest.get("inputs", {}))
    entries["plan"] = manifest["plan"]
    for table, entry in sorted(entries.items()):
        path, why = _find(entry, out_dir, registry)
        if path is None:
            problems.append(t("input_problem", table=table, why=why))
        else:
            found[table] = path
    if problems:
        return None, problems
    tables = {k: v for k, v in found.items() if k not in ("plan", "calendar", "mapping")}
    folders = {p.parent for p in tables.values()}
    if len(folders) > 1:
        return None, [t("inputs_scattered", folders="、".join(sorted(str(f) for f in folders)))]
    registry_dir = folders.pop() if folders else Path(out_dir)
    return Inputs(registry_dir, found["plan"], found.get("calendar"), found.get("mapping")), []


def calendar_of(manifest: dict, out_dir: Path | None = None) -> WorkCalendar:
    entry = manifest.get("inputs", {}).get("calendar")
    if not entry:
        return WorkCalendar()
    path, why = _find(entry, Path(out_dir or "."), None)
    if path is None:
        raise InputError(Problem("calendar", None, None, why or ""))
    return load_calendar(path)


def replay(
    out_dir: Path, extra_requests: tuple[RecusalRequest, ...] | list[RecusalRequest] = (),
    registry: Path | None = None
) -> tuple[PlanResult, list[RecusalOutcome], dict, Inputs]:
    """Re-run the draw of ``out_dir`` and re-apply its recusals (then ``extra_requests``); the
    inputs are found by name and hash (:func:`locate_inputs`)."""
    manifest = read_manifest(out_dir)
    inputs, problems = locate_inputs(Path(out_dir), manifest, registry)
    if inputs is None:
        raise InputError([Problem(MANIFEST, None, "inputs", p) for p in problems])
    result = run_plan(
        inputs.registry_dir,
        inputs.plan_file,
        manifest["seed"],
        calendar_file=inputs.calendar_file,
        seed_kind=manifest.get("seed_kind", "test"),
        mapping=inputs.mapping_file,
    )
    fields = ("visit_id", "inspector_id", "requested_by", "reason", "absent_from", "absent_to")
    requests = [RecusalRequest(**{k: r[k] for k in fields if k in r}) for r in manifest.get("recusals", [])]
    requests += list(extra_requests)
    roster = build_roster(result.plan, result.registry, result.workdays)
    outcomes = []
    recused: set[tuple[str, str]] = set()
    codes = {v.visit_id: v.credit_code for v in result.visits}
    for seq, req in enumerate(requests, start=1):
        if req.visit_id not in codes:
            raise InputError(Problem("visits.csv", None, "visit_id", t("no_such_visit", visit=req.visit_id)))
        if req.absent_from and req.inspector_id in roster.index:
            end = dt.date.fromisoformat(req.absent_to) if req.absent_to else None
            roster.mark_away(req.inspector_id, dt.date.fromisoformat(req.absent_from), end)
        result, outcome = replace_inspector(result, roster, req, seq, recused)
        recused.add((req.inspector_id, codes[req.visit_id]))
        outcomes.append(outcome)
    return result, outcomes, manifest, inputs


def recuse(out_dir: Path, requests: RecusalRequest | list[RecusalRequest], actor: str = "") -> list[RecusalOutcome]:
    """Record recusal requests (in order) and their drawn replacements; rewrite the folder once;
    audit each. All or nothing: if one cannot be met, none is recorded."""
    if isinstance(requests, RecusalRequest):
        requests = [requests]
    result, outcomes, manifest, inputs = replay(out_dir, requests)
    new = outcomes[len(outcomes) - len(requests) :]
    extra = manifest_extra(manifest)
    records = [
        {
            **dataclasses.asdict(req),
            "seq": o.seq,
            "replacement": o.replacement,
            "date_before": o.date_before.isoformat(),
            "date_after": o.date_after.isoformat(),
        }
        for req, o in zip(requests, new, strict=True)
    ]
    extra["recusals"] = [*manifest.get("recusals", []), *records]
    write_outputs(result, out_dir, inputs.registry_dir, inputs.plan_file, extra)
    digest = sha256_file(Path(out_dir) / MANIFEST)
    log = audit_log(out_dir)
    for record, o in zip(records, new, strict=True):
        log.append("recusal", {**record, "candidates": o.candidates, "manifest_sha256": digest}, actor=actor)
    return new


# ---- results -----------------------------------------------------------------------------

RESULT_COLUMNS = ["visit_id", "category", "note", "published_on"]


def read_results(out_dir: Path) -> dict[str, ResultEntry]:
    path = Path(out_dir) / RESULTS
    if not path.exists():
        return {}
    out = {}
    for r in cells.dict_reader(open(path, encoding="utf-8-sig")):
        pub = dt.date.fromisoformat(r["published_on"]) if r.get("published_on") else None
        out[r["visit_id"]] = ResultEntry(r["visit_id"], r["category"], r.get("note", ""), pub)
    return out


def _write_results(out_dir: Path, results: dict[str, ResultEntry]) -> None:
    buf = io.StringIO()
    w = cells.writer(buf, lineterminator="\n")
    w.writerow(RESULT_COLUMNS)
    for k in sorted(results):
        e = results[k]
        w.writerow([e.visit_id, e.category, e.note, e.published_on.isoformat() if e.published_on else ""])
    tmp = Path(out_dir) / (RESULTS + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    tmp.replace(Path(out_dir) / RESULTS)


def visit_dates(out_dir: Path) -> dict[str, dt.date]:
    rows = cells.dict_reader(open(Path(out_dir) / "visits.csv", encoding="utf-8"))
    return {r["visit_id"]: dt.date.fromisoformat(r["date"]) for r in rows}


def enter_result(out_dir: Path, visit_id: str, category: str, note: str = "", actor: str = "") -> ResultEntry:
    """Record a visit's result in a standard category (audited). A published result is final."""
    dates = visit_dates(out_dir)
    if visit_id not in dates:
        raise InputError(Problem(RESULTS, None, "visit_id", t("no_such_visit", visit=visit_id)))
    try:
        cat = check_category(category)
    except ValueError as exc:
        raise InputError(Problem(RESULTS, None, "category", str(exc))) from None
    results = read_results(out_dir)
    if visit_id in results and results[visit_id].published_on:
        raise InputError(Problem(RESULTS, None, "visit_id", t("result_final", visit=visit_id, day=results[visit_id].published_on)))
    entry = ResultEntry(visit_id, cat, note)
    results[visit_id] = entry
    _write_results(out_dir, results)
    audit_log(out_dir).append(
        "result",
        {"visit_id": visit_id, "category": cat, "note": note,
         "results_sha256": sha256_file(Path(out_dir) / RESULTS)},
        actor=actor,
    )
    return entry


def publish_results(out_dir: Path, on: dt.date, visit_ids: list[str] | None = None, actor: str = "") -> list[str]:
    """Publish entered results (all unpublished, or the given visits): ``results_publication.csv``
    holds every published result, without personal data."""
    results = read_results(out_dir)
    todo = [v for v in (visit_ids or sorted(results)) if v in results and results[v].published_on is None]
    missing = [v for v in (visit_ids or []) if v not in results]
    if missing:
        raise InputError([Problem(RESULTS, None, "visit_id", t("result_not_entered", visit=v)) for v in missing])
    for v in todo:
        results[v] = dataclasses.replace(results[v], published_on=on)
    _write_results(out_dir, results)
    manifest = read_manifest(out_dir)
    frame = _published_frame(out_dir, results)
    data = cells.neutral_frame(frame).to_csv(index=False, lineterminator="\n")
    (Path(out_dir) / RESULTS_PUBLICATION).write_text(data, encoding="utf-8-sig")
    audit_log(out_dir).append(
        "publication",
        {"visits": todo, "published_on": on.isoformat(), "seed": manifest["seed"],
         "sha256": sha256_file(Path(out_dir) / RESULTS_PUBLICATION),
         "results_sha256": sha256_file(Path(out_dir) / RESULTS)},
        actor=actor,
    )
    return todo


def _published_frame(out_dir: Path, results: dict[str, ResultEntry]):
    import pandas as pd

    pub = cells.undo_frame(
        pd.read_csv(Path(out_dir) / "publication.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    )
    done = {k: e for k, e in results.items() if e.published_on}
    pub = pub[pub["visit_id"].isin(done)].copy()
    pub["result"] = [done[v].category for v in pub["visit_id"]]
    pub["published_on"] = [str(done[v].published_on) for v in pub["visit_id"]]
    return pub.reset_index(drop=True)


def write_gsxt(out_dir: Path) -> tuple[Path, Path, int]:
    """Every published result of ``out_dir`` in the national credit publicity system's layout
    (:func:`scheduler.publication.gsxt_frame`): ``results_gsxt.csv`` and ``.xlsx``; returns their
    paths and the number of rows. The plan gives 抽查计划编号 (``plan_id``, else the quarter) and
    抽查计划名称 (``name``, else ``<quarter> 双随机抽查计划``)."""
    import pandas as pd

    from scheduler.plan import load_plan
    from scheduler.publication import gsxt_frame, write_gsxt_files

    manifest = read_manifest(out_dir)
    plan_file, why = _find(manifest["plan"], Path(out_dir), None)  # by name and hash (issue 13)
    if plan_file is None:
        raise InputError(Problem(MANIFEST, None, "plan", why or ""))
    plan = load_plan(plan_file)
    pub = pd.read_csv(Path(out_dir) / "publication.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    done = {k: e.category for k, e in read_results(out_dir).items() if e.published_on}
    frame = gsxt_frame(pub, done, plan.plan_id or plan.quarter, plan.name or f"{plan.quarter} 双随机抽查计划")
    csv_path, xlsx_path = write_gsxt_files(frame, out_dir)
    audit_log(out_dir).append(
        "publication",
        {
            "format": "gsxt",
            "rows": len(frame),
            "csv_sha256": sha256_file(csv_path),
            "xlsx_sha256": sha256_file(xlsx_path),
        },
    )
    return csv_path, xlsx_path, len(frame)


def overdue_results(out_dir: Path, today: dt.date) -> list[tuple[str, dt.date, dt.date, str]]:
    manifest = read_manifest(out_dir)
    return overdue(sorted(visit_dates(out_dir).items()), read_results(out_dir), today, calendar_of(manifest, out_dir))


# ---- verification --------------------------------------------------------------------------

@dataclasses.dataclass
class Verification:
    """What :func:`verify_run` found: ``problems`` (each naming a file) and facts for the summary."""

    problems: list[str]
    seed: str = ""
    seed_kind: str = "test"
    outputs: int = 0
    recusals: int = 0
    records: int = 0
    ledger: list[str] = dataclasses.field(default_factory=list)


def _ledger_claims(records: list[dict]) -> dict[str, str]:
    """The SHA-256 each ledger file should have, according to the last record that wrote it."""
    claims: dict[str, str] = {}
    for rec in records:
        data = rec.get("data", {})
        if rec["kind"] in ("result", "publication") and "results_sha256" in data:
            claims[RESULTS] = data["results_sha256"]
        if rec["kind"] == "publication" and "sha256" in data:
            claims[RESULTS_PUBLICATION] = data["sha256"]
        if rec["kind"] == "publication" and "csv_sha256" in data:  # publish --format gsxt
            claims[GSXT_CSV] = data["csv_sha256"]
            claims[GSXT_XLSX] = data["xlsx_sha256"]
        if rec["kind"] == "commit" and "sha256" in data:
            claims["commitment.json"] = data["sha256"]
        if "manifest_sha256" in data:
            claims[MANIFEST] = data["manifest_sha256"]
    return claims


def verify_run(out_dir: Path, registry: Path | None = None, head: str | None = None) -> Verification:
    """Check every file of a run folder (contract: ``verify``).

    The outputs by re-running the draw (and its recorded recusals) from inputs found by name and
    hash; the files changed after the draw (results, publications, the commitment, the manifest
    itself) through the audit record, which holds each one's SHA-256 as written; the record's
    hash chain. A folder that is not a run is bad input (:class:`InputError`)."""
    from scheduler.audit import AuditError, verify_log
    from scheduler.outputs import compare_outputs

    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir)
    found = Verification([], manifest.get("seed", ""), manifest.get("seed_kind", "test"),
                         len(manifest.get("outputs", {})), len(manifest.get("recusals", [])))
    problems = found.problems
    inputs, missing = locate_inputs(out_dir, manifest, registry)
    problems += missing
    problems += compare_outputs(manifest["outputs"], out_dir)
    if manifest.get("seed_kind") == "public":
        from scheduler.seed import commitment_hash, derive_seed

        doc = manifest.get("commitment", {})
        if commitment_hash(doc) != doc.get("commitment"):
            problems.append(t("verify_commitment_hash"))
        elif derive_seed(doc["commitment"], manifest.get("beacon", ""))[0] != manifest["seed"]:
            problems.append(t("verify_seed_not_derived"))
    log_path = out_dir / AUDIT
    records: list[dict] = []
    if not log_path.exists():
        problems.append(t("verify_no_record", name=AUDIT))
    else:
        report = verify_log(log_path, head)
        found.records = report.count
        if not report.ok:
            problems.append(f"{AUDIT}：{report.message}")
        else:
            try:
                records = audit_log(out_dir).records()
            except AuditError as exc:
                problems.append(f"{AUDIT}：{exc}")
    if records:
        claims = _ledger_claims(records)
        for name in (*LEDGER_CHECKED, MANIFEST):
            path = out_dir / name
            want = claims.get(name)
            if want is None:
                if path.exists() and name != MANIFEST:
                    problems.append(t("verify_not_recorded", name=name))
                continue
            if not path.exists():
                problems.append(t("file_missing", name=name))
                continue
            found.ledger.append(name)
            if sha256_file(path) != want:
                problems.append(t("verify_changed_after", name=name))
        if not any(r["kind"] == "draw" for r in records):
            problems.append(t("verify_no_draw_record", name=AUDIT))
    if inputs is not None and not missing:
        result, _, _, _ = replay(out_dir, registry=registry)
        with tempfile.TemporaryDirectory() as tmp:
            rerun = write_outputs(result, Path(tmp) / "rerun", inputs.registry_dir, inputs.plan_file)
            problems += [t("verify_rerun", diff=d) for d in compare_outputs(manifest["outputs"], rerun)]
    return found


GSXT_CSV, GSXT_XLSX = "results_gsxt.csv", "results_gsxt.xlsx"
LEDGER_CHECKED = (RESULTS, RESULTS_PUBLICATION, GSXT_CSV, GSXT_XLSX, "commitment.json")
"""The files people change after the draw, checked against the hashes in the audit record."""
