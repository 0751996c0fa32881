"""Background draws: one job per draw, run in ``app.state.jobs`` (a thread pool).

The life of a draw, and why nothing is ever half stored:

1. The request (``POST /api/plans/{id}/draws``) flips the plan to ``drawing`` with one conditional
   UPDATE and inserts the draw ``running``, in one short transaction; then :func:`submit_draw`.
2. The job materialises the registry and the plan into a temporary folder, runs
   :func:`scheduler.pipeline.run_plan` (each stage reported in its own short transaction) and
   :func:`scheduler.outputs.write_outputs` (notices, report, manifest) into that folder.
3. ONE transaction stores every visit (with a fresh notice code), selection and stratum, marks the
   draw done and the plan drawn, and appends the audit record — or, on any error, ONE transaction
   marks the draw failed (with the reasons) and gives the plan back its previous status.

While a draw is queued or running, a heartbeat thread refreshes its ``heartbeat_at`` every few
seconds. A draw whose heartbeat is older than ``settings.draw_heartbeat_seconds`` belonged to a
server that died: :func:`recover_interrupted_draws` (at start-up, and whenever a draw of that plan
is asked for or polled) fails it and makes its plan drawable again. Going by the heartbeat rather
than failing every ``running`` draw at start-up means a second server (or worker) starting on the
same database never kills a draw that another one is still running.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from api import audit_store
from api.faults import is_database_down
from api.models import (
    CommitmentRecord,
    DrawRecord,
    PlanRecord,
    RedrawRecord,
    SelectionRecord,
    StratumRecord,
    VisitRecord,
    utcnow,
)
from api.security import notice_code
from api.settings import data_folder
from api.store import materialise_registry, write_plan
from api.uploads import temporary_directory
from scheduler.errors import InfeasibleError, InputError
from scheduler.notices import NOTICES_DIR, notice_filename
from scheduler.outputs import MANIFEST, write_outputs
from scheduler.pipeline import run_plan
from scheduler.plan_run import PlanResult

log = logging.getLogger("randinspect.jobs")

SERVER_STOPPED = "the server stopped during the draw"
_CHUNK = 1000  # rows per INSERT statement


class DrawCancelled(Exception):
    """The draw is no longer running (another server failed it as interrupted)."""


# ---------------------------------------------------------------- heartbeat


def heartbeat_interval(settings) -> float:
    return max(0.25, min(5.0, settings.draw_heartbeat_seconds / 4))


class _Heartbeat:
    """Keeps ``heartbeat_at`` of this process's queued and running draws fresh. The thread lives
    only while there are such draws."""

    def __init__(self, app):
        self.app = app
        self.ids: set[int] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def add(self, draw_id: int) -> None:
        with self.lock:
            self.ids.add(draw_id)
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="draw-heartbeat", daemon=True)
                self.thread.start()

    def discard(self, draw_id: int) -> None:
        with self.lock:
            self.ids.discard(draw_id)

    def _run(self) -> None:
        interval = heartbeat_interval(self.app.state.settings)
        while True:
            time.sleep(interval)
            with self.lock:
                ids = sorted(self.ids)
                if not ids:
                    self.thread = None
                    return
            try:
                with self.app.state.write_sessions() as s:
                    s.execute(
                        update(DrawRecord)
                        .where(DrawRecord.id.in_(ids), DrawRecord.status == "running")
                        .values(heartbeat_at=utcnow())
                    )
                    s.commit()
            except Exception:  # pragma: no cover - the database being away is logged, not fatal
                log.exception("draw heartbeat failed")


_heartbeat_lock = threading.Lock()


def _heartbeat(app) -> _Heartbeat:
    with _heartbeat_lock:
        if not hasattr(app.state, "draw_heartbeat"):
            app.state.draw_heartbeat = _Heartbeat(app)
        return app.state.draw_heartbeat


# ---------------------------------------------------------------- failing a draw


def fail_draw(session: Session, draw: DrawRecord, error: str, actor: str = "") -> bool:
    """In the caller's transaction: the draw failed (only if still running), its plan back to the
    status it had before the draw, and an audit record. False when the draw was not running."""
    now = utcnow()
    changed = session.execute(
        update(DrawRecord)
        .where(DrawRecord.id == draw.id, DrawRecord.status == "running")
        .values(status="failed", stage="failed", error=error, finished_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        return False
    session.execute(
        update(PlanRecord)
        .where(PlanRecord.id == draw.plan_id, PlanRecord.status == "drawing")
        .values(status=draw.previous_plan_status, version=PlanRecord.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    audit_store.append(
        session,
        "note",
        {
            "event": "draw failed",
            "plan_id": draw.plan_id,
            "draw_id": draw.id,
            "number": draw.number,
            "seed": draw.seed,
            "error": error[:2000],
        },
        actor or draw.requested_by,
        session.scalar(select(PlanRecord.agency_id).where(PlanRecord.id == draw.plan_id)),
    )
    return True


def _cause_file(app, draw_id: int) -> Path:
    return data_folder(app.state.settings) / "draw-causes" / f"draw-{draw_id}.txt"


def _fail(app, draw_id: int, error: str) -> None:
    """Record the failure; when the database cannot take it (it is what failed), keep the cause
    in the data folder, for :func:`recover_interrupted_draws` to record once it is back (instead of
    "the server stopped")."""
    try:
        with app.state.write_sessions() as s:
            draw = s.get(DrawRecord, draw_id)
            if draw is not None and fail_draw(s, draw, error):
                s.commit()
    except Exception:
        log.exception("could not record the failure of draw %s; its cause is kept for later", draw_id)
        path = _cause_file(app, draw_id)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(error, encoding="utf-8")


def _recorded_cause(app, draw_id: int) -> str:
    path = _cause_file(app, draw_id)
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return SERVER_STOPPED


def recover_interrupted_draws(app, plan_id: int | None = None) -> int:
    """Draws left 'running' by a server that died (heartbeat older than
    ``draw_heartbeat_seconds``) are failed and their plans made drawable again — all in one
    transaction. ``plan_id``: only that plan's. Returns how many were failed."""
    stale = utcnow() - dt.timedelta(seconds=app.state.settings.draw_heartbeat_seconds)
    with app.state.read_sessions() as s:  # cheap check first: no write lock when nothing is stale
        q = select(DrawRecord.id).where(DrawRecord.status == "running", DrawRecord.heartbeat_at < stale)
        if plan_id is not None:
            q = q.where(DrawRecord.plan_id == plan_id)
        if not s.scalars(q).first():
            return 0
    with app.state.write_sessions() as s:
        q = select(DrawRecord).where(DrawRecord.status == "running", DrawRecord.heartbeat_at < stale)
        if plan_id is not None:
            q = q.where(DrawRecord.plan_id == plan_id)
        draws = s.scalars(q).all()
        failed = sum(fail_draw(s, d, _recorded_cause(app, d.id), "system") for d in draws)
        s.commit()
    for d in draws:
        _cause_file(app, d.id).unlink(missing_ok=True)
    if failed:
        log.warning("failed %d interrupted draw(s)", failed)
    return failed


# ---------------------------------------------------------------- the job


def submit_draw(app, draw_id: int) -> None:
    """Run the draw in the background (after its 'running' row is committed)."""
    beat = _heartbeat(app)
    beat.add(draw_id)
    try:
        future = app.state.jobs.submit(run_draw, app, draw_id)
    except RuntimeError:  # the pool is shut down: the server is stopping
        beat.discard(draw_id)
        _fail(app, draw_id, SERVER_STOPPED)
        raise
    future.add_done_callback(lambda _f: beat.discard(draw_id))


def _progress(app, draw_id: int, stage: str, fraction: float) -> None:
    with app.state.write_sessions() as s:
        changed = s.execute(
            update(DrawRecord)
            .where(DrawRecord.id == draw_id, DrawRecord.status == "running")
            .values(stage=stage, progress=round(float(fraction), 4), heartbeat_at=utcnow())
        ).rowcount
        s.commit()
    if changed != 1:
        raise DrawCancelled(f"draw {draw_id} is no longer running")


def describe_error(exc: BaseException) -> str:
    if is_database_down(exc):
        return f"the database became unreachable during the draw: {type(exc).__name__}: {str(exc).splitlines()[0][:500]}"
    if isinstance(exc, InfeasibleError):
        return "infeasible: " + "\n".join(exc.reasons)
    if isinstance(exc, InputError):
        return "bad input:\n" + exc.render()
    return f"internal error: {type(exc).__name__}: {exc}"


def official_extra(session: Session, draw: DrawRecord, registry_dir: Path, plan_file: Path) -> dict[str, Any]:
    """What ``randinspect plan --commitment … --beacon …`` gives ``write_outputs``: for an official
    draw the committed document (checked against the files, as the command line checks it), the
    numbers and the key string; ``{"seed_kind": "test"}`` for a test draw."""
    if draw.seed_kind != "public":
        return {"seed_kind": "test"}
    from scheduler.importer import registry_files
    from scheduler.seed import check_commitment, derive_seed

    c = session.get(CommitmentRecord, draw.commitment_id)
    files = registry_files(registry_dir)
    if (registry_dir / "calendar.csv").exists():
        files["calendar"] = registry_dir / "calendar.csv"
    check_commitment(c.document, files, plan_file)
    seed, key = derive_seed(c.commitment, draw.beacon)
    if seed != draw.seed:  # pragma: no cover - the request derived it the same way
        raise RuntimeError(f"draw {draw.id}: the seed is not the one derived from commitment {c.id}")
    return {"seed_kind": "public", "commitment": c.document, "beacon": draw.beacon, "key_string": key}


def run_draw(app, draw_id: int) -> None:
    """The job. Never raises: a failure is recorded on the draw."""
    try:
        with temporary_directory(f"draw-{draw_id}") as tmp:
            _progress(app, draw_id, "materialise", 0.02)
            work = Path(tmp)
            with app.state.read_sessions() as s:
                draw = s.get(DrawRecord, draw_id)
                plan = s.get(PlanRecord, draw.plan_id)
                registry_dir = materialise_registry(s, plan.registry_id, work / "registry")
                plan_file = write_plan(plan.spec, work / "plan.json")
                extra = official_extra(s, draw, registry_dir, plan_file)
            result = run_plan(
                registry_dir,
                plan_file,
                draw.seed,
                seed_kind=draw.seed_kind,
                progress=lambda stage, fraction: _progress(app, draw_id, stage, 0.05 + 0.8 * fraction),
                executor=app.state.settings.executor,
            )
            _progress(app, draw_id, "outputs", 0.85)
            out = write_outputs(result, work / "out", registry_dir, plan_file, extra)
            _progress(app, draw_id, "storing", 0.95)
            store_draw(app, draw, result, out)
    except DrawCancelled:
        log.warning("draw %s was failed elsewhere while running; its results are dropped", draw_id)
    except Exception as exc:
        if not isinstance(exc, InfeasibleError | InputError):
            log.exception("draw %s failed", draw_id)
        _fail(app, draw_id, describe_error(exc))


_NOTICE_REF = re.compile(r'(<p class="ref">[^<]*</p>\n)')


def with_notice_code(notice: str, code: str) -> str:
    """The notice with its code printed under the reference number: the enterprise's key to
    see its notice and to ask for recusal online. Everything else is the reproducible notice."""
    line = f'<p class="ref">查询码：<strong>{html.escape(code)}</strong>（凭此码在线查看本通知书、申请回避）</p>\n'
    out, n = _NOTICE_REF.subn(lambda m: m.group(1) + line, notice, count=1)
    return out if n else notice.replace("<body>\n", "<body>\n" + line, 1)


TEST_BANNER = (
    '<p class="test-draw" style="border:2px solid #b00;color:#b00;padding:4px 8px;font-weight:bold">'
    "测试抽取：本通知书来自测试抽取，不是正式抽取结果，不得送达，不得公示。</p>\n"
)


def mark_test(notice: str) -> str:
    """A test draw's notice, marked 测试抽取 at its top."""
    return notice.replace("<body>\n", "<body>\n" + TEST_BANNER, 1) if "<body>\n" in notice else TEST_BANNER + notice


def _visit_rows(draw_id: int, result: PlanResult, out: Path, seed_kind: str = "public") -> list[dict[str, Any]]:
    ent = result.registry.enterprises
    codes = {v.credit_code for v in result.visits}
    sub = ent[ent["credit_code"].isin(codes)]
    names = dict(zip(sub["credit_code"], sub["name"], strict=True))
    regions = dict(zip(sub["credit_code"], sub["region_code"], strict=True))
    rows = []
    for v in result.visits:
        code = notice_code()
        notice = (out / NOTICES_DIR / notice_filename(v.visit_id)).read_text(encoding="utf-8")
        rows.append(
            {
                "draw_id": draw_id,
                "visit_id": v.visit_id,
                "credit_code": v.credit_code,
                "enterprise": str(names.get(v.credit_code, ""))[:255],
                "region_code": str(regions.get(v.credit_code, ""))[:6],
                "task_ids": ";".join(v.task_ids),
                "date": v.date,
                "inspector_ids": ";".join(v.inspector_ids),
                "lead_agency_id": v.lead_agency_id,
                "window_start": v.window_start,
                "window_end": v.window_end,
                "notice_code": code,
                "notice_html": with_notice_code(notice, code) if seed_kind == "public" else mark_test(with_notice_code(notice, code)),
            }
        )
    return rows


def _selection_rows(draw_id: int, result: PlanResult) -> list[dict[str, Any]]:
    return [
        {
            "draw_id": draw_id,
            "task_id": s.task_id,
            "credit_code": s.credit_code,
            "stratum": s.stratum,
            "population_size": s.population_size,
            "sample_size": s.sample_size,
            "inclusion_probability": s.inclusion_probability,
            "ticket": s.ticket,
        }
        for s in result.selection
    ]


def _stratum_rows(draw_id: int, result: PlanResult) -> list[dict[str, Any]]:
    return [
        {
            "draw_id": draw_id,
            "task_id": s.task_id,
            "stratum": s.stratum,
            "population_size": s.population_size,
            "sample_size": s.sample_size,
            "threshold": s.threshold or "",
        }
        for s in result.strata
    ]


def _insert(session: Session, model, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(model), rows[start : start + _CHUNK])


def store_draw(app, draw: DrawRecord, result: PlanResult, out: Path) -> None:
    """ONE transaction: every visit, selection and stratum, the draw done, the plan drawn, the
    audit record. Any error rolls all of it back (the caller then fails the draw)."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    report_html = (out / "report.html").read_text(encoding="utf-8")
    visit_rows = _visit_rows(draw.id, result, out, draw.seed_kind)
    now = utcnow()
    with app.state.write_sessions() as s:
        changed = s.execute(
            update(DrawRecord)
            .where(DrawRecord.id == draw.id, DrawRecord.status == "running")
            .values(
                status="done",
                stage="done",
                progress=1.0,
                finished_at=now,
                heartbeat_at=now,
                manifest=manifest,
                report_html=report_html,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise DrawCancelled(f"draw {draw.id} is no longer running")
        _insert(s, VisitRecord, visit_rows)
        _insert(s, SelectionRecord, _selection_rows(draw.id, result))
        _insert(s, StratumRecord, _stratum_rows(draw.id, result))
        drawn = s.execute(
            update(PlanRecord)
            .where(PlanRecord.id == draw.plan_id, PlanRecord.status == "drawing")
            .values(status="drawn", version=PlanRecord.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if drawn != 1:
            raise RuntimeError(f"plan {draw.plan_id} is no longer being drawn")
        agency = s.scalar(select(PlanRecord.agency_id).where(PlanRecord.id == draw.plan_id))
        superseded: list[int] = []
        redraw: RedrawRecord | None = None
        if draw.seed_kind == "public":
            c = s.get(CommitmentRecord, draw.commitment_id)
            redraw = s.get(RedrawRecord, c.redraw_id) if c.redraw_id is not None else None
            # The replaced official draw stays (public, marked superseded), never deleted.
            superseded = list(
                s.scalars(
                    select(DrawRecord.id).where(
                        DrawRecord.plan_id == draw.plan_id,
                        DrawRecord.seed_kind == "public",
                        DrawRecord.status == "done",
                        DrawRecord.superseded_by.is_(None),
                        DrawRecord.id != draw.id,
                    )
                )
            )
            if superseded:
                s.execute(
                    update(DrawRecord)
                    .where(DrawRecord.id.in_(superseded))
                    .values(superseded_by=draw.id)
                    .execution_options(synchronize_session=False)
                )
        record = audit_store.append(
            s,
            "draw",
            {
                "plan_id": draw.plan_id,
                "draw_id": draw.id,
                "number": draw.number,
                "seed": draw.seed,
                "seed_kind": draw.seed_kind,
                "reason": draw.reason,
                "visits": len(result.visits),
                "selected": len(result.selection),
                "strata": len(result.strata),
                "manifest_sha256": hashlib.sha256((out / MANIFEST).read_bytes()).hexdigest(),
                "commitment": (manifest.get("commitment") or {}).get("commitment"),
                "beacon": draw.beacon or None,
                "supersedes": superseded,
                "redraw_id": redraw.id if redraw is not None else None,
                "redraw_approved_by": redraw.decided_by if redraw is not None else None,
            },
            draw.requested_by,
            agency,
        )
        s.execute(
            update(DrawRecord)
            .where(DrawRecord.id == draw.id)
            .values(draw_head=record["hash"])
            .execution_options(synchronize_session=False)
        )
        s.commit()
