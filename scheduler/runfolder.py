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
from pathlib import Path

from scheduler import cells
from scheduler.audit import AuditLog
from scheduler.errors import InputError, Problem
from scheduler.hashing import sha256_file
from scheduler.outputs import MANIFEST, read_manifest, write_outputs
from scheduler.pipeline import run_plan
from scheduler.recusal import RecusalOutcome, RecusalRequest, replace_inspector
from scheduler.result import PlanResult
from scheduler.results import ResultEntry, check_category, overdue
from scheduler.staffing import build_roster
from scheduler.workdays import WorkCalendar, load_calendar

AUDIT = "audit.jsonl"
RESULTS = "results.csv"
RESULTS_PUBLICATION = "results_publication.csv"


def audit_log(out_dir: Path) -> AuditLog:
    return AuditLog(Path(out_dir) / AUDIT)


def manifest_extra(manifest: dict) -> dict:
    """The manifest fields a rewrite must keep (how the seed came about, the recusals)."""
    keep = ("seed_kind", "commitment", "beacon", "key_string", "recusals")
    return {k: manifest[k] for k in keep if k in manifest}


def calendar_of(manifest: dict) -> WorkCalendar:
    path = manifest.get("inputs", {}).get("calendar", {}).get("path")
    return load_calendar(path) if path else WorkCalendar()


def replay(out_dir: Path, extra_requests: list[RecusalRequest] = ()) -> tuple[PlanResult, list[RecusalOutcome], dict]:
    """Re-run the draw of ``out_dir`` and re-apply its recusals (then ``extra_requests``)."""
    manifest = read_manifest(out_dir)
    calendar_path = manifest.get("inputs", {}).get("calendar", {}).get("path")
    result = run_plan(
        manifest["registry_dir"],
        manifest["plan"]["path"],
        manifest["seed"],
        calendar_file=calendar_path,
        seed_kind=manifest.get("seed_kind", "test"),
        mapping=manifest.get("inputs", {}).get("mapping", {}).get("path"),
    )
    fields = ("visit_id", "inspector_id", "requested_by", "reason", "absent_from", "absent_to")
    requests = [RecusalRequest(**{k: r[k] for k in fields if k in r}) for r in manifest.get("recusals", [])]
    requests += list(extra_requests)
    roster = build_roster(result.plan, result.registry, result.workdays)
    outcomes = []
    recused: set[tuple[str, str]] = set()
    codes = {v.visit_id: v.credit_code for v in result.visits}
    for seq, req in enumerate(requests, start=1):
        if req.absent_from and req.inspector_id in roster.index:
            end = dt.date.fromisoformat(req.absent_to) if req.absent_to else None
            roster.mark_away(req.inspector_id, dt.date.fromisoformat(req.absent_from), end)
        result, outcome = replace_inspector(result, roster, req, seq, recused)
        recused.add((req.inspector_id, codes[req.visit_id]))
        outcomes.append(outcome)
    return result, outcomes, manifest


def recuse(out_dir: Path, requests: RecusalRequest | list[RecusalRequest], actor: str = "") -> list[RecusalOutcome]:
    """Record recusal requests (in order) and their drawn replacements; rewrite the folder once;
    audit each. All or nothing: if one cannot be met, none is recorded."""
    if isinstance(requests, RecusalRequest):
        requests = [requests]
    result, outcomes, manifest = replay(out_dir, requests)
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
    write_outputs(result, out_dir, manifest["registry_dir"], manifest["plan"]["path"], extra)
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
        raise InputError(Problem(RESULTS, None, "visit_id", f"no visit {visit_id!r} in {out_dir}"))
    try:
        cat = check_category(category)
    except ValueError as exc:
        raise InputError(Problem(RESULTS, None, "category", str(exc))) from None
    results = read_results(out_dir)
    if visit_id in results and results[visit_id].published_on:
        raise InputError(Problem(RESULTS, None, "visit_id", f"the result of {visit_id} was published on {results[visit_id].published_on}; it cannot be changed"))
    entry = ResultEntry(visit_id, cat, note)
    results[visit_id] = entry
    _write_results(out_dir, results)
    audit_log(out_dir).append("result", {"visit_id": visit_id, "category": cat, "note": note}, actor=actor)
    return entry


def publish_results(out_dir: Path, on: dt.date, visit_ids: list[str] | None = None, actor: str = "") -> list[str]:
    """Publish entered results (all unpublished, or the given visits): ``results_publication.csv``
    holds every published result, without personal data."""
    results = read_results(out_dir)
    todo = [v for v in (visit_ids or sorted(results)) if v in results and results[v].published_on is None]
    missing = [v for v in (visit_ids or []) if v not in results]
    if missing:
        raise InputError([Problem(RESULTS, None, "visit_id", f"{v}: no result entered yet") for v in missing])
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
         "sha256": sha256_file(Path(out_dir) / RESULTS_PUBLICATION)},
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
    pub["published_on"] = [done[v].published_on.isoformat() for v in pub["visit_id"]]
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
    plan = load_plan(manifest["plan"]["path"])
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
    return overdue(sorted(visit_dates(out_dir).items()), read_results(out_dir), today, calendar_of(manifest))
