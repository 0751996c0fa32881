"""What a plan run produces, before it is written to files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from scheduler.plan import Plan
from scheduler.registry import Registry


@dataclass(frozen=True)
class Stratum:
    """One stratum of one task's draw (a risk class, or ``key_area`` drawn in full).

    ``threshold`` is the largest ticket drawn (hex); an enterprise of the
    stratum was drawn exactly when its own ticket is <= threshold.
    """

    task_id: str
    stratum: str
    population_size: int
    sample_size: int
    threshold: str | None

    @property
    def inclusion_probability(self) -> float:
        return self.sample_size / self.population_size if self.population_size else 0.0


@dataclass(frozen=True)
class Selected:
    """One (task, enterprise) drawn; the contract's ``selection.csv`` row."""

    task_id: str
    credit_code: str
    stratum: str
    population_size: int
    sample_size: int
    inclusion_probability: float
    ticket: str


@dataclass(frozen=True)
class Visit:
    """One visit to one enterprise, covering every task that drew it (进一次门、查多项事).

    ``window_start``/``window_end`` is the intersection of the tasks' windows;
    ``departments`` are the departments on the team (lead first);
    ``inspector_ids`` are in slot order (the first slot is the lead
    department's).
    """

    visit_id: str
    credit_code: str
    task_ids: tuple[str, ...]
    lead_agency_id: str
    agency_ids: tuple[str, ...]
    departments: tuple[str, ...]
    specialties: tuple[str, ...]
    window_start: dt.date
    window_end: dt.date
    date: dt.date | None = None
    inspector_ids: tuple[str, ...] = ()


@dataclass
class StaffingStats:
    """Facts about the assignment lottery (for the report and the manifest)."""

    max_pair_probability: float = 0.0
    pair_probability_cap: float = 0.5
    pairs_over_cap: int = 0
    expected_load: dict[str, float] = field(default_factory=dict)
    load: dict[str, int] = field(default_factory=dict)
    capacity: dict[str, int] = field(default_factory=dict)
    eligible_pairs: int = 0
    visits_over_cap: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TaskFrame:
    """How one task's population shrank to the frame it was drawn from (排除明细).

    In order: ``jurisdiction`` enterprises in the lead agency's jurisdiction (and the task's region
    prefix); minus ``not_active`` (status not drawn under the policy), ``industry``, ``risk_class``
    and ``entity_type`` (outside the task's filters) is the ``population``; minus ``dedup_history``
    (a higher agency inspected it within the lookback), ``dedup_plan`` (a higher task of this plan
    drew it) and ``frequency_cap`` is the frame, ``eligible``. Each enterprise is counted at the
    first step that excludes it.
    """

    task_id: str
    population: int
    dedup_history: int
    dedup_plan: int
    frequency_cap: int
    eligible: int
    jurisdiction: int = 0
    not_active: int = 0
    industry: int = 0
    risk_class: int = 0
    entity_type: int = 0

    STEPS = (
        "jurisdiction",
        "not_active",
        "industry",
        "risk_class",
        "entity_type",
        "population",
        "dedup_history",
        "dedup_plan",
        "frequency_cap",
        "eligible",
    )

    def as_dict(self) -> dict[str, int | str]:
        """The counts in funnel order (for the manifest and the pages)."""
        return {"task_id": self.task_id, **{k: int(getattr(self, k)) for k in self.STEPS}}

    def emptied_by(self) -> str | None:
        """The step that left nothing, ``None`` when the frame is not empty."""
        if self.eligible:
            return None
        if not self.jurisdiction:
            return "jurisdiction"
        left = self.jurisdiction
        for step in ("not_active", "industry", "risk_class", "entity_type"):
            left -= getattr(self, step)
            if left <= 0:
                return step
        left = self.population
        for step in ("dedup_history", "dedup_plan", "frequency_cap"):
            left -= getattr(self, step)
            if left <= 0:
                return step
        return "frequency_cap"


@dataclass
class PlanResult:
    """A drawn, staffed and scheduled plan."""

    plan: Plan
    registry: Registry
    seed: str
    strata: list[Stratum]
    selection: list[Selected]
    visits: list[Visit]
    staffing: StaffingStats
    workdays: list[dt.date]
    frames: list[TaskFrame] = field(default_factory=list)
    seed_kind: str = "test"  # "public": derived from a commitment and public numbers
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
