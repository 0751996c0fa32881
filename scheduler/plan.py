"""The quarterly plan file (YAML or JSON), as fixed by the interchange contract."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from scheduler.errors import InputError, Problem
from scheduler.forms import ACTIVE, ENTITY_FORMS, ENTITY_TYPES, POLICY_STATUSES, STATUS_FORMS, normal_text
from scheduler.messages import t as msg

RISK_CLASSES = ("A", "B", "C", "D")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")



# Who staffs a task's visits (contract, plan file):
# lead: inspectors of the lead and joint agencies only;
# local: also of same-department agencies below them whose jurisdiction holds the enterprise;
# delegated (属地实施): only the bureau where the enterprise is registered, i.e. the deepest
#   same-department agency at or below the lead (and each joint agency) that covers it.
STAFFING = ("lead", "local", "delegated")

@dataclass(frozen=True)
class Policy:
    """Plan-wide rules; every key optional in the file (contract defaults)."""

    lookback_days: int = 365
    max_visits_per_enterprise: int = 1
    team_size: int = 2
    quarterly_cap: int = 30
    daily_cap: int = 2
    rotation: bool = True
    pair_probability_cap: float = 0.5
    draw_statuses: tuple[str, ...] = ()
    """Registration statuses drawn besides the active (存续) family: 歇业 and/or 吊销，未注销;
    default neither (README)."""

    @property
    def drawn_statuses(self) -> frozenset[str]:
        """The status values (as imported) a task draws from."""
        return frozenset({ACTIVE, *self.draw_statuses})


@dataclass(frozen=True)
class Population:
    """Which enterprises a task draws from (intersected with the lead agency's jurisdiction)."""

    region_prefix: str = ""
    industries: tuple[str, ...] = ()
    risk_classes: tuple[str, ...] = RISK_CLASSES
    entity_types: tuple[str, ...] = ()  # 市场主体类型; empty: every type


@dataclass(frozen=True)
class Task:
    """One random-inspection task (抽查任务) of a lead agency."""

    task_id: str
    agency_id: str
    window_start: dt.date
    window_end: dt.date
    joint_agencies: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    specialty: str | None = None
    staffing: str = "lead"  # see STAFFING
    population: Population = field(default_factory=Population)
    ratio: dict[str, Decimal] | None = None
    count: int | dict[str, int] | None = None
    name: str = ""
    allow_empty: bool = False  # an empty frame is then not an error


@dataclass(frozen=True)
class Plan:
    """A quarterly plan: quarter, policy and tasks."""

    quarter: str
    policy: Policy
    tasks: tuple[Task, ...]
    file: Path | None = None
    plan_id: str = ""  # 抽查计划编号 (default: the quarter)
    name: str = ""  # 抽查计划名称

    @property
    def quarter_start(self) -> dt.date:
        return quarter_bounds(self.quarter)[0]

    @property
    def quarter_end(self) -> dt.date:
        return quarter_bounds(self.quarter)[1]

    def task(self, task_id: str) -> Task:
        for t in self.tasks:
            if t.task_id == task_id:
                return t
        raise KeyError(task_id)


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """``2026Q1`` -> (2026-01-01, 2026-03-31)."""
    m = _QUARTER.match(quarter)
    if not m:
        raise ValueError(msg("plan_quarter", value=quarter))
    year, q = int(m.group(1)), int(m.group(2))
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return start, end - dt.timedelta(days=1)


class _Reader:
    """Collects every problem of the plan file instead of stopping at the first."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def bad(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, None, path, message))

    def date(self, value: Any, path: str) -> dt.date | None:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.bad(path, msg("plan_not_date", value=value))
            return None

    def int_(self, value: Any, path: str, minimum: int = 0) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                    value = int(value)
                else:
                    raise ValueError
            except ValueError:
                self.bad(path, msg("plan_not_int", value=value))
                return None
        if value < minimum:
            self.bad(path, msg("plan_at_least", minimum=minimum, value=value))
            return None
        return value

    def str_list(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            return tuple(s.strip() for s in value.split(";") if s.strip())
        if not isinstance(value, list):
            self.bad(path, msg("plan_not_list", value=value))
            return ()
        return tuple(str(v).strip() for v in value)


POLICY_KEYS = {f for f in Policy.__dataclass_fields__}
TASK_KEYS = {
    "task_id",
    "agency_id",
    "joint_agencies",
    "items",
    "specialty",
    "staffing",
    "population",
    "ratio",
    "count",
    "window",
    "name",
    "description",
    "allow_empty",
}


class _PlanLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so a bad date is reported, not raised."""


_PlanLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_plan(path: str | Path) -> Plan:
    """Read and check a plan file's own structure (registry references are checked by
    :func:`check_plan_against_registry`). Raises :class:`InputError` naming every problem."""
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(name, None, None, msg("plan_unreadable", error=exc))) from exc
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, Loader=_PlanLoader)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(Problem(name, None, None, msg("plan_not_yaml", error=exc))) from exc
    return parse_plan(raw, name, path)


def parse_plan(raw: Any, name: str = "plan", path: Path | None = None) -> Plan:
    r = _Reader(name)
    if not isinstance(raw, dict):
        raise InputError(Problem(name, None, None, msg("plan_not_mapping")))
    quarter = str(raw.get("quarter", "")).strip()
    q_start = q_end = None
    try:
        q_start, q_end = quarter_bounds(quarter)
    except ValueError as exc:
        r.bad("quarter", str(exc))

    pol_raw = raw.get("policy") or {}
    pol_kwargs: dict[str, Any] = {}
    if not isinstance(pol_raw, dict):
        r.bad("policy", msg("plan_expected_mapping"))
        pol_raw = {}
    for key, value in pol_raw.items():
        p = f"policy.{key}"
        if key not in POLICY_KEYS:
            r.bad(p, msg("plan_unknown_policy_key", known=", ".join(sorted(POLICY_KEYS))))
        elif key == "rotation":
            if not isinstance(value, bool):
                r.bad(p, msg("plan_not_bool", value=value))
            else:
                pol_kwargs[key] = value
        elif key == "draw_statuses":
            chosen = []
            for v in r.str_list(value, p):
                status = STATUS_FORMS.get(normal_text(v))
                if status not in POLICY_STATUSES:
                    r.bad(p, msg("policy_draw_status", value=v, known="、".join(POLICY_STATUSES)))
                elif status not in chosen:
                    chosen.append(status)
            pol_kwargs[key] = tuple(chosen)
        elif key == "pair_probability_cap":
            try:
                cap = float(value)
                if not 0 < cap <= 1:
                    raise ValueError
                pol_kwargs[key] = cap
            except (TypeError, ValueError):
                r.bad(p, msg("plan_not_probability", value=value))
        else:
            minimum = 0 if key == "lookback_days" else 1
            if key == "team_size":
                minimum = 2
            whole = r.int_(value, p, minimum)
            if whole is not None:
                pol_kwargs[key] = whole
    policy = Policy(**pol_kwargs)

    tasks: list[Task] = []
    raw_tasks = raw.get("tasks")
    if not isinstance(raw_tasks, list) or not raw_tasks:
        r.bad("tasks", msg("plan_no_tasks"))
        raw_tasks = []
    seen: set[str] = set()
    for k, t in enumerate(raw_tasks):
        base = f"tasks[{k}]"
        if not isinstance(t, dict):
            r.bad(base, msg("plan_expected_mapping"))
            continue
        tid = str(t.get("task_id", "")).strip()
        if tid:
            base = f"tasks[{k}] ({tid})"
        for key in t:
            if key not in TASK_KEYS:
                r.bad(f"{base}.{key}", msg("plan_unknown_task_key", known=", ".join(sorted(TASK_KEYS))))
        if not tid:
            r.bad(f"{base}.task_id", msg("plan_missing"))
        elif tid in seen:
            r.bad(f"{base}.task_id", msg("plan_duplicate_task", task=tid))
        elif "|" in tid:
            r.bad(f"{base}.task_id", msg("plan_task_pipe"))
        seen.add(tid)
        agency = str(t.get("agency_id", "")).strip()
        if not agency:
            r.bad(f"{base}.agency_id", msg("plan_missing"))
        staffing = str(t.get("staffing", "lead")).strip()
        if staffing not in STAFFING:
            r.bad(f"{base}.staffing", msg("plan_staffing", value=staffing))
        window = t.get("window") or {}
        if not isinstance(window, dict):
            r.bad(f"{base}.window", msg("plan_window_form"))
            window = {}
        ws = r.date(window["start"], f"{base}.window.start") if "start" in window else q_start
        we = r.date(window["end"], f"{base}.window.end") if "end" in window else q_end
        if ws and we and ws > we:
            r.bad(f"{base}.window", msg("plan_window_reversed", start=ws, end=we))
        pop_raw = t.get("population") or {}
        if not isinstance(pop_raw, dict):
            r.bad(f"{base}.population", msg("plan_expected_mapping"))
            pop_raw = {}
        rc = r.str_list(pop_raw.get("risk_classes", list(RISK_CLASSES)), f"{base}.population.risk_classes")
        for c in rc:
            if c not in RISK_CLASSES:
                r.bad(f"{base}.population.risk_classes", msg("plan_risk_class_got", value=c))
        prefix = str(pop_raw.get("region_prefix", "") or "").strip()
        if prefix and not prefix.isdigit():
            r.bad(f"{base}.population.region_prefix", msg("plan_digits", value=prefix))
        entity_types = []
        for e in r.str_list(pop_raw.get("entity_types"), f"{base}.population.entity_types"):
            kind = ENTITY_FORMS.get(normal_text(e))
            if kind is None:
                r.bad(f"{base}.population.entity_types", msg("plan_entity_type", value=e, known="、".join(ENTITY_TYPES)))
            elif kind not in entity_types:
                entity_types.append(kind)
        for key in pop_raw:
            if key not in ("region_prefix", "industries", "risk_classes", "entity_types"):
                r.bad(f"{base}.population.{key}", msg("plan_population_key"))
        population = Population(
            region_prefix=prefix,
            industries=r.str_list(pop_raw.get("industries"), f"{base}.population.industries"),
            risk_classes=rc,
            entity_types=tuple(entity_types),
        )
        allow_empty = t.get("allow_empty", False)
        if not isinstance(allow_empty, bool):
            r.bad(f"{base}.allow_empty", f"expected true or false, got {allow_empty!r}")
            allow_empty = False
        ratio = None
        count: int | dict[str, int] | None = None
        if "ratio" in t and "count" in t:
            r.bad(base, msg("plan_ratio_and_count"))
        if "ratio" in t:
            ratio = {}
            if not isinstance(t["ratio"], dict):
                r.bad(f"{base}.ratio", msg("plan_ratio_form"))
            else:
                for c, v in t["ratio"].items():
                    c = str(c)
                    if c not in RISK_CLASSES:
                        r.bad(f"{base}.ratio.{c}", msg("plan_risk_class"))
                        continue
                    try:
                        d = Decimal(str(v))
                        if not Decimal(0) <= d <= Decimal(1):
                            raise InvalidOperation
                        ratio[c] = d
                    except InvalidOperation:
                        r.bad(f"{base}.ratio.{c}", msg("plan_not_fraction", value=v))
        elif "count" in t:
            cv = t["count"]
            if isinstance(cv, dict):
                count = {}
                for c, v in cv.items():
                    c = str(c)
                    if c not in RISK_CLASSES:
                        r.bad(f"{base}.count.{c}", msg("plan_risk_class"))
                        continue
                    iv = r.int_(v, f"{base}.count.{c}")
                    if iv is not None:
                        count[c] = iv
            else:
                count = r.int_(cv, f"{base}.count")
        else:
            r.bad(base, msg("plan_needs_size"))
        specialty = t.get("specialty")
        tasks.append(
            Task(
                task_id=tid,
                agency_id=agency,
                window_start=ws or dt.date.min,
                window_end=we or dt.date.min,
                joint_agencies=r.str_list(t.get("joint_agencies"), f"{base}.joint_agencies"),
                items=r.str_list(t.get("items"), f"{base}.items"),
                specialty=str(specialty).strip() if specialty else None,
                staffing=staffing,
                population=population,
                ratio=ratio,
                count=count,
                name=str(t.get("name") or "").strip(),
                allow_empty=allow_empty,
            )
        )
    if r.problems:
        raise InputError(r.problems)
    return Plan(
        quarter=quarter,
        policy=policy,
        tasks=tuple(tasks),
        file=path,
        plan_id=str(raw.get("plan_id") or "").strip(),
        name=str(raw.get("name") or "").strip(),
    )


def check_plan_against_registry(plan: Plan, registry) -> None:
    """A task naming an unknown agency or item, or a joint agency of the lead's own
    department, is bad input (exit 2)."""
    name = plan.file.name if plan.file else "plan"
    problems: list[Problem] = []
    for k, t in enumerate(plan.tasks):
        base = f"tasks[{k}] ({t.task_id})"
        lead = registry.agencies.get(t.agency_id)
        if lead is None:
            problems.append(Problem(name, None, f"{base}.agency_id", msg("plan_unknown_agency", agency=t.agency_id)))
        departments = {lead.department} if lead else set()
        for j in t.joint_agencies:
            ja = registry.agencies.get(j)
            if ja is None:
                problems.append(Problem(name, None, f"{base}.joint_agencies", msg("plan_unknown_agency", agency=j)))
            elif ja.department in departments:
                problems.append(
                    Problem(
                        name,
                        None,
                        f"{base}.joint_agencies",
                        msg("plan_joint_same_department", agency=j, department=ja.department),
                    )
                )
            else:
                departments.add(ja.department)
        for item in t.items:
            if registry.items and item not in registry.items:
                problems.append(Problem(name, None, f"{base}.items", msg("plan_unknown_item", item=item)))
            elif not registry.items:
                problems.append(
                    Problem(name, None, f"{base}.items", msg("plan_no_items_table", item=item))
                )
        if lead and t.population.region_prefix:
            p, lp = t.population.region_prefix, lead.prefix
            if not (p.startswith(lp) or lp.startswith(p)):
                problems.append(
                    Problem(
                        name,
                        None,
                        f"{base}.population.region_prefix",
                        msg("plan_outside_jurisdiction", prefix=p, agency=t.agency_id, lead_prefix=lp),
                    )
                )
    if problems:
        raise InputError(problems)
