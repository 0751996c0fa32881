"""The registry ("一单两库"): agencies, enterprises, inspectors and optional tables.

Enterprises and history are kept as pandas DataFrames (a province holds
millions of rows); the small tables are plain frozen dataclasses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import numpy as np
import pandas as pd


class Level(IntEnum):
    """Administrative level; a smaller number is a higher level."""

    PROVINCE = 1
    CITY = 2
    COUNTY = 3
    TOWNSHIP = 4


LEVEL_NAMES = {
    "province": Level.PROVINCE,
    "省": Level.PROVINCE,
    "省级": Level.PROVINCE,
    "city": Level.CITY,
    "市": Level.CITY,
    "市级": Level.CITY,
    "county": Level.COUNTY,
    "县": Level.COUNTY,
    "县级": Level.COUNTY,
    "区": Level.COUNTY,
    "township": Level.TOWNSHIP,
    "乡": Level.TOWNSHIP,
    "乡镇": Level.TOWNSHIP,
    "镇": Level.TOWNSHIP,
}


def jurisdiction_prefix(region_code: str) -> str:
    """Region code stripped of trailing ``00`` pairs (GB/T 2260).

    ``130000`` (Hebei) -> ``13``; ``130100`` (Shijiazhuang) -> ``1301``;
    ``130102`` -> ``130102``. An agency's jurisdiction is every region code
    that starts with this prefix.
    """
    code = region_code
    while len(code) >= 2 and code.endswith("00"):
        code = code[:-2]
    return code


@dataclass(frozen=True)
class Agency:
    """An enforcement agency (执法机构)."""

    agency_id: str
    name: str
    department: str
    level: Level
    parent_id: str | None
    region_code: str

    @property
    def prefix(self) -> str:
        return jurisdiction_prefix(self.region_code)

    def covers(self, region_code: str) -> bool:
        """True when ``region_code`` lies in this agency's jurisdiction."""
        return region_code.startswith(self.prefix)


@dataclass(frozen=True)
class Inspector:
    """A person on the inspector roster (执法检查人员名录库)."""

    inspector_id: str
    name: str
    agency_id: str
    certificate_no: str | None = None
    certificate_expiry: dt.date | None = None
    auxiliary: bool = False
    specialties: frozenset[str] = frozenset()
    quarterly_cap: int | None = None
    daily_cap: int | None = None
    former_employers: frozenset[str] = frozenset()
    relatives_ids: frozenset[str] = frozenset()

    def certified_on(self, day: dt.date) -> bool:
        """执法证: a certificate number, not expired on ``day`` (expiry day included)."""
        if not self.certificate_no or self.auxiliary:
            return False
        return self.certificate_expiry is None or day <= self.certificate_expiry


@dataclass(frozen=True)
class Conflict:
    """A declared conflict of interest (回避关系)."""

    inspector_id: str
    credit_code: str
    reason: str = ""


@dataclass(frozen=True)
class Leave:
    """Inclusive dates on which an inspector is away (请假)."""

    inspector_id: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Item:
    """An inspection item from the department's list (抽查事项清单)."""

    item_id: str
    department: str
    name: str
    legal_basis: str = ""
    specialty: str = ""


ENTERPRISE_COLUMNS = [
    "credit_code",
    "name",
    "region_code",
    "industry",
    "risk_class",
    "key_area",
    "abnormal",
    "complaints",
    "status",
    "entity_type",
    "legal_rep_id",
    "address",
    "lat",
    "lon",
]
HISTORY_COLUMNS = ["credit_code", "agency_id", "date", "inspector_ids"]


@dataclass
class Registry:
    """A validated registry folder.

    ``enterprises`` has at least :data:`ENTERPRISE_COLUMNS` (strings for codes,
    ``bool`` for ``key_area``/``abnormal``, ``int`` complaints, float lat/lon,
    empty strings where optional text is missing). ``history`` has
    :data:`HISTORY_COLUMNS` with ``date`` as pandas ``datetime64[ns]`` (midnight)
    and ``inspector_ids`` as tuples of str. ``files`` maps a table name to the file it was
    read from (for the manifest's hashes).
    """

    agencies: dict[str, Agency]
    enterprises: pd.DataFrame
    inspectors: dict[str, Inspector]
    conflicts: list[Conflict] = field(default_factory=list)
    history: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=HISTORY_COLUMNS))
    leave: list[Leave] = field(default_factory=list)
    items: dict[str, Item] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def enterprise_rows(self, codes: list[str]) -> np.ndarray:
        """Row numbers in ``enterprises`` of the given credit codes, in their order (-1 where a
        code is absent). Finds the few rows wanted in Arrow instead of indexing millions."""
        from scheduler.tables import isin_text

        if not codes:
            return np.zeros(0, dtype=np.int64)
        column = self.enterprises["credit_code"]
        rows = np.flatnonzero(isin_text(column, sorted(set(codes))))
        at = dict(zip(column.iloc[rows].astype(str).tolist(), rows.tolist(), strict=True))
        return np.array([at.get(c, -1) for c in codes], dtype=np.int64)

    def ancestors(self, agency_id: str) -> list[str]:
        """Agencies above ``agency_id`` in its department, nearest first."""
        chain: list[str] = []
        parent = self.agencies[agency_id].parent_id
        while parent is not None and parent in self.agencies and parent not in chain:
            chain.append(parent)
            parent = self.agencies[parent].parent_id
        return chain

    def descendants(self, agency_id: str) -> list[str]:
        """Agencies below ``agency_id`` (any depth), in id order."""
        cache = self.__dict__.setdefault("_descendants", {})
        if agency_id in cache:
            return cache[agency_id]
        children: dict[str | None, list[str]] = self.__dict__.get("_children") or {}
        if not children:
            for a in self.agencies.values():
                children.setdefault(a.parent_id, []).append(a.agency_id)
            self.__dict__["_children"] = children
        below: set[str] = set()
        frontier = [agency_id]
        while frontier:
            nxt = [c for f in frontier for c in children.get(f, ()) if c not in below and c != agency_id]
            below.update(nxt)
            frontier = nxt
        cache[agency_id] = sorted(below)
        return cache[agency_id]

    def local_agency(self, agency_id: str, region_code: str) -> str:
        """The bureau where an enterprise of ``region_code`` is registered, for a task of
        ``agency_id`` carried out locally (属地实施): the deepest agency of the same department
        at or below ``agency_id`` whose jurisdiction holds the region; ``agency_id`` itself when
        none below does."""
        dept = self.agencies[agency_id].department
        best = agency_id
        for b in self.descendants(agency_id):
            ag = self.agencies[b]
            if ag.department == dept and ag.covers(region_code) and ag.level > self.agencies[best].level:
                best = b
        return best
