"""Bridges between the database and the domain code (which works on files and PlanResults)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import DrawRecord, PlanRecord, RegistryRecord, VisitRecord
from scheduler.pipeline import run_plan
from scheduler.plan_run import PlanResult


def materialise_registry(session: Session, registry_id: int, folder: Path) -> Path:
    """Write a stored registry's files, byte for byte, into ``folder``."""
    reg = session.get(RegistryRecord, registry_id)
    if reg is None:
        raise LookupError(f"no registry {registry_id}")
    folder.mkdir(parents=True, exist_ok=True)
    for f in reg.files:
        (folder / f.filename).write_bytes(f.content)
    return folder


def write_plan(spec: dict, path: Path) -> Path:
    """The plan's spec as a JSON plan file (the contract allows YAML or JSON)."""
    path.write_text(json.dumps(spec, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def rebuild_result(session: Session, draw: DrawRecord, workdir: Path) -> PlanResult:
    """The draw's PlanResult as it stands now: re-run from its registry, plan and seed, with the
    stored teams and dates (which include every approved recusal)."""
    plan = session.get(PlanRecord, draw.plan_id)
    registry_dir = materialise_registry(session, plan.registry_id, workdir / "registry")
    plan_file = write_plan(plan.spec, workdir / "plan.json")
    result = run_plan(registry_dir, plan_file, draw.seed, seed_kind=draw.seed_kind)
    stored = {
        v.visit_id: v for v in session.scalars(select(VisitRecord).where(VisitRecord.draw_id == draw.id))
    }
    visits = [
        dataclasses.replace(
            v,
            date=stored[v.visit_id].date,
            inspector_ids=tuple(stored[v.visit_id].inspector_ids.split(";")),
        )
        for v in result.visits
    ]
    return dataclasses.replace(result, visits=visits)
