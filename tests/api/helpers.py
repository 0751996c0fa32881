"""Test helpers for the service: a small *finished* draw inserted straight into the database,
exactly as a finished background draw leaves it (registry files, plan, draw ``done``, visits
with notice codes and notices, selection and strata), without going through the draw API.
By default the draw stands for an OFFICIAL one (``seed_kind`` public, an approved plan and a
commitment row, as the official flow leaves them); ``official=False`` makes a test draw. The
registry and plan belong to ``agency`` (the province of the test tree by default).

The plan is really run (``scheduler.pipeline.run_plan``) and its files really written
(``scheduler.outputs.write_outputs``); the notices stored are the files written. Generating and
running are done once per process for each set of arguments (cached), inserting once per call.

    draw = insert_finished_draw(app)
    draw.visits["2026Q1-00001"].notice_code, draw.result.registry.inspectors, ...

Registry seed 3 (enterprises=2000, inspectors=60) cannot be drawn with any seed (a key-area
enterprise needs an ecology inspector none of whom is eligible: exit 3), so the default is 4.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from api.audit_store import append
from api.models import (
    CommitmentRecord,
    DrawRecord,
    PlanRecord,
    RegistryFile,
    RegistryRecord,
    SelectionRecord,
    StratumRecord,
    VisitRecord,
    utcnow,
)
from api.security import notice_code
from scheduler.notices import NOTICES_DIR, notice_filename
from scheduler.outputs import MANIFEST, write_outputs
from scheduler.pipeline import run_plan
from scheduler.plan_run import PlanResult

DEFAULT_REGISTRY = {"enterprises": 2000, "inspectors": 60, "seed": 4}
DEFAULT_SEED = "api-test-1"


@dataclass(frozen=True)
class Generated:
    registry_dir: Path
    plan_file: Path
    out_dir: Path
    result: PlanResult
    manifest: dict


@dataclass(frozen=True)
class StoredVisit:
    pk: int
    visit_id: str
    credit_code: str
    notice_code: str
    inspector_ids: tuple[str, ...]
    date: dt.date


@dataclass(frozen=True)
class FinishedDraw:
    registry_id: int
    plan_id: int
    draw_id: int
    seed: str
    generated: Generated
    visits: dict[str, StoredVisit]  # by visit_id

    @property
    def result(self) -> PlanResult:
        return self.generated.result

    @property
    def registry(self):
        return self.generated.result.registry

    def visit(self, k: int = 0) -> StoredVisit:
        """The k-th visit in visit_id order."""
        return self.visits[sorted(self.visits)[k]]


_CACHE: dict[tuple, Generated] = {}
_TMP = tempfile.TemporaryDirectory(prefix="randinspect-api-tests-")


def generated(seed: str = DEFAULT_SEED, **registry) -> Generated:
    """Generate the registry, run the plan and write its outputs (once per process)."""
    from data.generate import generate_registry

    args = {**DEFAULT_REGISTRY, **registry}
    key = (seed, *sorted(args.items()))
    if key not in _CACHE:
        base = Path(_TMP.name) / hashlib.sha256(repr(key).encode()).hexdigest()[:16]
        reg = generate_registry(base / "registry", **args)
        plan_file = reg / "plan.yaml"
        result = run_plan(reg, plan_file, seed)
        out = write_outputs(result, base / "out", reg, plan_file, {"seed_kind": "test"})
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        _CACHE[key] = Generated(reg, plan_file, out, result, manifest)
    return _CACHE[key]


def plan_spec(plan_file: Path) -> dict:
    """The plan file as JSON-able data (dates as ISO text, as a JSON plan file has them)."""
    return json.loads(json.dumps(yaml.safe_load(plan_file.read_text(encoding="utf-8")), default=str))


def insert_finished_draw(
    app,
    seed: str = DEFAULT_SEED,
    *,
    plan_id: int | None = None,
    requested_by: str = "planner1",
    audit: bool = True,
    official: bool = True,
    agency: str = "SJ130000",
    **registry,
) -> FinishedDraw:
    """Insert a finished draw (a new registry and plan, or a further draw of ``plan_id``)."""
    gen = generated(seed, **registry)
    result = gen.result
    ents = result.registry.enterprises.set_index("credit_code")
    with app.state.write_sessions() as s:
        if plan_id is None:
            reg = RegistryRecord(
                name=f"generated {registry or DEFAULT_REGISTRY}", created_by=requested_by, summary={}, agency_id=agency
            )
            for path in sorted(gen.registry_dir.iterdir()):
                if path.is_file() and path.name != "plan.yaml":
                    data = path.read_bytes()
                    reg.files.append(
                        RegistryFile(filename=path.name, sha256=hashlib.sha256(data).hexdigest(), content=data)
                    )
            s.add(reg)
            s.flush()
            plan = PlanRecord(
                registry_id=reg.id,
                name="generated plan",
                spec=plan_spec(gen.plan_file),
                status="drawn",
                agency_id=agency,
                approved_by="leader1",
                approved_at=utcnow(),
            )
            s.add(plan)
            s.flush()
            number = 1
        else:
            plan = s.get(PlanRecord, plan_id)
            reg = s.get(RegistryRecord, plan.registry_id)
            number = 1 + len(s.scalars(select(DrawRecord.id).where(DrawRecord.plan_id == plan_id)).all())
        now = utcnow()
        commitment = None
        if official:
            commitment = CommitmentRecord(
                plan_id=plan.id, source="test source", commitment="c" * 64, document={}, created_by=requested_by, beacon="1 2 3"
            )
            s.add(commitment)
            s.flush()
        draw = DrawRecord(
            plan_id=plan.id,
            number=number,
            status="done",
            stage="done",
            progress=1.0,
            seed=seed,
            seed_kind="public" if official else "test",
            commitment_id=commitment.id if commitment is not None else None,
            beacon="1 2 3" if official else "",
            requested_by=requested_by,
            previous_plan_status="draft",
            started_at=now,
            heartbeat_at=now,
            finished_at=now,
            manifest=gen.manifest,
            report_html="",
        )
        s.add(draw)
        s.flush()
        codes = {}
        for v in result.visits:
            codes[v.visit_id] = notice_code()
            ent = ents.loc[v.credit_code] if v.credit_code in ents.index else {}
            s.add(
                VisitRecord(
                    draw_id=draw.id,
                    visit_id=v.visit_id,
                    credit_code=v.credit_code,
                    enterprise=str(ent.get("name", "")),
                    region_code=str(ent.get("region_code", ""))[:6],
                    task_ids=";".join(v.task_ids),
                    date=v.date,
                    inspector_ids=";".join(v.inspector_ids),
                    lead_agency_id=v.lead_agency_id,
                    window_start=v.window_start,
                    window_end=v.window_end,
                    notice_code=codes[v.visit_id],
                    notice_html=(gen.out_dir / NOTICES_DIR / notice_filename(v.visit_id)).read_text(encoding="utf-8"),
                )
            )
        s.add_all(
            SelectionRecord(draw_id=draw.id, **dataclasses.asdict(sel)) for sel in result.selection
        )
        s.add_all(
            StratumRecord(
                draw_id=draw.id,
                task_id=st.task_id,
                stratum=st.stratum,
                population_size=st.population_size,
                sample_size=st.sample_size,
                threshold=st.threshold or "",
            )
            for st in result.strata
        )
        if audit:
            append(s, "draw", {"draw_id": draw.id, "seed": seed, "seed_kind": "test", "visits": len(result.visits)}, requested_by)
        s.commit()
        rows = s.execute(
            select(VisitRecord.id, VisitRecord.visit_id, VisitRecord.credit_code, VisitRecord.inspector_ids, VisitRecord.date)
            .where(VisitRecord.draw_id == draw.id)
        ).all()
        visits = {
            r.visit_id: StoredVisit(r.id, r.visit_id, r.credit_code, codes[r.visit_id], tuple(r.inspector_ids.split(";")), r.date)
            for r in rows
        }
        return FinishedDraw(reg.id, plan.id, draw.id, seed, gen, visits)


def refusals(app) -> list[tuple[int, str, str, str]]:
    """(status, method, path, reason) of every recorded refusal, by the time of the last one of
    its row; a row counts its refusals (aggregated per status, route, client and window), so it
    appears ``count`` times."""
    from api.models import Refusal

    with app.state.read_sessions() as s:
        rows = s.scalars(select(Refusal)).all()
    rows.sort(key=lambda r: (r.last_at or r.at, r.id))
    return [(r.status, r.method, r.path, r.reason) for r in rows for _ in range(r.count)]


def personal_tokens(registry) -> tuple[set[str], set[str]]:
    """(long, short) personal tokens of a registry: legal representatives' and relatives' ids and
    inspectors' ids, names and certificate numbers. Long ones (8+ characters) must appear nowhere
    in a public text; short ones (two-character names) not as a whole value."""
    tokens: set[str] = set()
    ent = registry.enterprises
    if "legal_rep_id" in ent.columns:
        tokens.update(str(x).strip() for x in ent["legal_rep_id"] if str(x).strip() and str(x) != "nan")
    for insp in registry.inspectors.values():
        tokens.update({insp.inspector_id, insp.name, insp.certificate_no or ""})
        tokens.update(insp.relatives_ids)
    tokens.discard("")
    return {t for t in tokens if len(t) >= 8}, {t for t in tokens if len(t) < 8}


@pytest.fixture
def finished_draw(app) -> FinishedDraw:
    """A small finished draw in the test's database (import this fixture into a test module)."""
    return insert_finished_draw(app)
