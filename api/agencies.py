"""The service's agency tree (机构库) and the scopes it gives.

The tree is loaded from an agencies table in the registry's format and checked by the registry's
own importer (``scheduler.importer``: unique ids, known levels, known parents of the same
department one level up or more, no loops). Scope comes from this tree only: an account sees its
own agency and every agency below it (parents are always of the same department, so the
department never changes on the way down).

A load never deletes: every agency already in the tree must be in the new table (else the load
is refused naming it); rows are added or updated.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import AgencyRecord, utcnow
from scheduler.errors import InputError, Problem
from scheduler.registry import Agency

TREE_FILE = "agencies"


def read_agencies(path: Path) -> dict[str, Agency]:
    """Read and validate an agencies table (CSV, XLSX or Parquet, English or Chinese headers) as
    the registry importer does; InputError naming file, row and column for every problem."""
    from scheduler.importer import _agencies, _Table  # the registry's own rules, not a copy
    from scheduler.tables import read_table

    problems: list[Problem] = []
    table = _Table("agencies", Path(path), read_table(Path(path), "agencies"), problems)
    table.require_columns()
    agencies = _agencies(table) if not table.missing else {}
    if problems:
        raise InputError(problems)
    if not agencies:
        raise InputError(Problem(Path(path).name, None, None, "the agencies table has no agency"))
    return agencies


def agency_rows(path: Path) -> dict[str, int]:
    """agency id → its spreadsheet row in the table at ``path`` (for naming rows)."""
    from scheduler.tables import read_table

    df = read_table(Path(path), "agencies")
    if "agency_id" not in df.columns:
        return {}
    out: dict[str, int] = {}
    for row, value in df["agency_id"].items():
        out.setdefault(str(value).strip(), int(row))
    return out


def load_tree(session: Session, path: Path) -> tuple[int, int]:
    """Add or update the tree from the table at ``path`` in the caller's transaction;
    (added, updated). Refused (InputError) when an agency of the tree is missing from it."""
    agencies = read_agencies(path)
    existing = {a.agency_id: a for a in session.scalars(select(AgencyRecord))}
    missing = sorted(set(existing) - set(agencies))
    if missing:
        raise InputError(
            [
                Problem(Path(path).name, None, "agency_id", f"agency {a!r} is in the agency tree and missing here; agencies are never removed")
                for a in missing
            ]
        )
    added = updated = 0
    for a in agencies.values():
        values = {
            "name": a.name,
            "department": a.department,
            "level": a.level.name.lower(),
            "parent_id": a.parent_id,
            "region_code": a.region_code,
        }
        row = existing.get(a.agency_id)
        if row is None:
            session.add(AgencyRecord(agency_id=a.agency_id, loaded_at=utcnow(), **values))
            added += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.loaded_at = utcnow()
            updated += 1
    session.flush()
    return added, updated


def children_map(session: Session) -> dict[str | None, list[str]]:
    out: dict[str | None, list[str]] = {}
    for agency_id, parent in session.execute(select(AgencyRecord.agency_id, AgencyRecord.parent_id)):
        out.setdefault(parent, []).append(agency_id)
    return out


def below(session: Session, agency_id: str | None) -> frozenset[str]:
    """``agency_id`` and every agency under it (empty for no agency)."""
    if not agency_id:
        return frozenset()
    children = children_map(session)
    seen: set[str] = set()
    todo = [agency_id]
    while todo:
        a = todo.pop()
        if a in seen:
            continue
        seen.add(a)
        todo.extend(children.get(a, []))
    return frozenset(seen)


def common_agency(session: Session, agency_ids: set[str]) -> str | None:
    """The nearest agency of the tree that is (or is above) every one of ``agency_ids``; None
    when they have none in common (other departments) or one is not in the tree."""
    parents = dict(session.execute(select(AgencyRecord.agency_id, AgencyRecord.parent_id)).all())

    def chain(a: str) -> list[str]:
        out = []
        while a is not None and a in parents and a not in out:
            out.append(a)
            a = parents[a]
        return out

    chains = [chain(a) for a in sorted(agency_ids)]
    if not chains or any(not c for c in chains):
        return None
    shared = set(chains[0]).intersection(*map(set, chains[1:]))
    return next((a for a in chains[0] if a in shared), None)


def compare_with_tree(session: Session, registry_agencies: dict[str, Agency], path: Path) -> list[Problem]:
    """Problems (file, row, column) for every agency of an uploaded registry that is not in the
    tree, or differs from it in what scope and jurisdiction rest on (department, level, parent,
    region code): scope comes from the tree, never from a registry. Names may be written
    differently (the tree's name is the one shown)."""
    tree = {a.agency_id: a for a in session.scalars(select(AgencyRecord))}
    rows = agency_rows(path)
    problems = []
    for agency_id, a in sorted(registry_agencies.items()):
        row = rows.get(agency_id)
        mine = tree.get(agency_id)
        if mine is None:
            problems.append(Problem(path.name, row, "agency_id", f"agency {agency_id!r} is not in the service's agency tree (机构库)"))
            continue
        ours = {
            "department": mine.department,
            "level": mine.level,
            "parent_id": mine.parent_id or "",
            "region_code": mine.region_code,
        }
        theirs = {
            "department": a.department,
            "level": a.level.name.lower(),
            "parent_id": a.parent_id or "",
            "region_code": a.region_code,
        }
        for column, value in ours.items():
            if theirs[column] != value:
                problems.append(
                    Problem(path.name, row, column, f"{theirs[column]!r} differs from the agency tree's {value!r} for {agency_id}")
                )
    return problems
