"""The random draw of enterprises (第一个随机), task by task, top level first.

Rules (Hebei provincial opinion 2016; Xingtai action 2023; contract):
- population: active enterprises in the lead agency's jurisdiction, the
  task's region prefix, industry prefixes and risk classes;
- dedup across levels: out if a higher agency of the same department
  inspected it within ``lookback_days`` or drew it earlier in this plan;
- frequency cap: out if history holds ``max_visits_per_enterprise`` visits
  within ``lookback_days`` (all departments; D-class exempt);
- key-area (重点领域) enterprises: all drawn;
- the rest, per risk-class stratum: ``round(ratio * N)`` (halves up) or a
  fixed count, the smallest keyed tickets (see :mod:`scheduler.tickets`).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from scheduler.plan import Plan, Task
from scheduler.registry import Registry
from scheduler.result import Selected, Stratum, TaskFrame
from scheduler.tickets import tickets

KEY_AREA = "key_area"


def lookback_start(plan: Plan) -> dt.date:
    """Start of the window for dedup, frequency cap and rotation (quarter start minus lookback)."""
    return plan.quarter_start - dt.timedelta(days=plan.policy.lookback_days)


def task_order(plan: Plan, registry: Registry) -> list[Task]:
    """Tasks top level first (province, city, county, township), then as in the plan."""
    indexed = list(enumerate(plan.tasks))
    indexed.sort(key=lambda kt: (registry.agencies[kt[1].agency_id].level, kt[0]))
    return [t for _, t in indexed]


def recent_history(plan: Plan, registry: Registry) -> pd.DataFrame:
    """History rows dated within the lookback window (up to the quarter's end)."""
    h = registry.history
    if h.empty:
        return h
    start = pd.Timestamp(lookback_start(plan))
    end = pd.Timestamp(plan.quarter_end)
    return h[(h["date"] >= start) & (h["date"] <= end)]


class EnterpriseIndex:
    """Enterprises sorted by region code, so a jurisdiction is a slice, not a scan (a province
    plan has hundreds of tasks over millions of rows)."""

    def __init__(self, registry: Registry):
        ent = registry.enterprises
        region = ent["region_code"].to_numpy().astype("U6")
        self.order = np.argsort(region, kind="stable")
        self.sorted_region = region[self.order]
        self.active = (ent["status"].str.lower() == "active").to_numpy()
        self.industry = ent["industry"].to_numpy().astype(str)
        self.risk = ent["risk_class"].to_numpy().astype(str)

    def rows(self, prefix: str) -> np.ndarray:
        """Row numbers (ascending) of the enterprises whose region code starts with ``prefix``."""
        lo = np.searchsorted(self.sorted_region, prefix, side="left")
        hi = np.searchsorted(self.sorted_region, prefix + "~", side="left")  # '~' sorts after digits
        return np.sort(self.order[lo:hi])


def population_rows(task: Task, registry: Registry, index: EnterpriseIndex) -> np.ndarray:
    """Row numbers of the active enterprises in the task's population."""
    lead = registry.agencies[task.agency_id]
    prefix = task.population.region_prefix
    # The narrower of the two prefixes (they are nested or the plan was refused).
    rows = index.rows(prefix if prefix.startswith(lead.prefix) else lead.prefix)
    if prefix and not prefix.startswith(lead.prefix) and not lead.prefix.startswith(prefix):
        return rows[:0]
    keep = index.active[rows] & np.isin(index.risk[rows], list(task.population.risk_classes))
    if task.population.industries:
        industry = index.industry[rows]
        keep &= np.any([np.char.startswith(industry, i) for i in task.population.industries], axis=0)
    return rows[keep]


def population_mask(task: Task, registry: Registry) -> np.ndarray:
    """Active enterprises in the task's population, as a mask over the registry's rows."""
    mask = np.zeros(len(registry.enterprises), dtype=bool)
    mask[population_rows(task, registry, EnterpriseIndex(registry))] = True
    return mask


def allocate(task: Task, sizes: dict[str, int]) -> dict[str, int]:
    """Sample size per risk-class stratum.

    ``ratio``: ``round(ratio * N)`` with halves rounded up (exact decimal
    arithmetic, so any language gets the same number). ``count`` as a whole
    number: split over the strata in proportion to their sizes by largest
    remainder (ties to the earlier class); as a mapping: per class, at most N.
    """
    if task.ratio is not None:
        return {
            c: min(n, int((task.ratio.get(c, Decimal(0)) * n).quantize(Decimal(1), ROUND_HALF_UP)))
            for c, n in sizes.items()
        }
    if isinstance(task.count, dict):
        return {c: min(n, task.count.get(c, 0)) for c, n in sizes.items()}
    total = sum(sizes.values())
    want = min(int(task.count or 0), total)
    if total == 0:
        return {c: 0 for c in sizes}
    base = {c: want * n // total for c, n in sizes.items()}
    rest = want - sum(base.values())
    order = sorted(sizes, key=lambda c: (-(want * sizes[c] % total), c))
    for c in order[:rest]:
        base[c] += 1
    return base


def frequency_capped(plan: Plan, hist: pd.DataFrame, positions: pd.Series, risk: np.ndarray) -> np.ndarray:
    """Frequency cap: enterprises with ``max_visits_per_enterprise`` visits in the lookback window
    (all departments together) are out; D-class is exempt. ``positions`` maps credit code to row."""
    capped = np.zeros(len(risk), dtype=bool)
    if not hist.empty:
        counts = hist["credit_code"].value_counts()
        over = counts[counts >= plan.policy.max_visits_per_enterprise].index
        capped[positions.reindex(over).dropna().to_numpy(dtype=np.int64)] = True
        capped &= risk != "D"
    return capped


def draw(plan: Plan, registry: Registry, seed: str) -> tuple[list[Stratum], list[Selected], list[TaskFrame]]:
    """Draw every task. Returns the strata, the selection rows and per-task counts."""
    ent = registry.enterprises
    codes = ent["credit_code"].to_numpy()
    risk = ent["risk_class"].to_numpy()
    key = ent["key_area"].to_numpy(dtype=bool)
    hist = recent_history(plan, registry)
    positions = pd.Series(np.arange(len(ent)), index=ent["credit_code"])
    index = EnterpriseIndex(registry)
    capped = frequency_capped(plan, hist, positions, risk)
    inspected_by: dict[str, np.ndarray] = {}
    if not hist.empty:
        for agency, group in hist.groupby("agency_id")["credit_code"]:
            inspected_by[agency] = positions.reindex(group.unique()).dropna().to_numpy(dtype=np.int64)

    drawn_by_agency: dict[str, list[np.ndarray]] = {}
    strata: list[Stratum] = []
    selection: list[Selected] = []
    frames: list[TaskFrame] = []
    empty = np.zeros(0, dtype=np.int64)
    for task in task_order(plan, registry):
        rows = population_rows(task, registry, index)
        higher = registry.ancestors(task.agency_id)
        seen = np.concatenate([inspected_by.get(a, empty) for a in higher] or [empty])
        out_hist = np.isin(rows, seen)
        earlier = np.concatenate([x for a in higher for x in drawn_by_agency.get(a, [])] or [empty])
        out_plan = np.isin(rows, earlier) & ~out_hist
        out_cap = capped[rows] & ~out_hist & ~out_plan
        eligible = rows[~(out_hist | out_plan | out_cap)]
        frames.append(
            TaskFrame(
                task.task_id,
                len(rows),
                int(out_hist.sum()),
                int(out_plan.sum()),
                int(out_cap.sum()),
                len(eligible),
            )
        )
        drawn: list[np.ndarray] = []

        key_idx = eligible[key[eligible]]
        if len(key_idx):
            key_codes = sorted(codes[key_idx])
            key_tickets = tickets(seed, task.task_id, key_codes)
            n = len(key_codes)
            strata.append(Stratum(task.task_id, KEY_AREA, n, n, None))
            for code, t in zip(key_codes, key_tickets, strict=True):
                selection.append(Selected(task.task_id, code, KEY_AREA, n, n, 1.0, t))
            drawn.append(key_idx)

        rest = eligible[~key[eligible]]
        rest_risk = risk[rest]
        by_class = {c: rest[rest_risk == c] for c in task.population.risk_classes}
        sizes = {c: len(v) for c, v in by_class.items()}
        wanted = allocate(task, sizes)
        for c in sorted(by_class):
            n_all, n = sizes[c], wanted[c]
            if n_all == 0:
                continue
            class_codes = codes[by_class[c]]
            class_tickets = np.array(tickets(seed, task.task_id, class_codes))
            order = np.lexsort((class_codes, class_tickets))[:n]
            threshold = str(class_tickets[order[-1]]) if n else None
            strata.append(Stratum(task.task_id, c, n_all, n, threshold))
            p = n / n_all
            for j in order:
                selection.append(Selected(task.task_id, str(class_codes[j]), c, n_all, n, p, str(class_tickets[j])))
            drawn.append(by_class[c][order])
        drawn_by_agency.setdefault(task.agency_id, []).extend(drawn)

    plan_order = {t.task_id: k for k, t in enumerate(plan.tasks)}
    selection.sort(key=lambda s: (plan_order[s.task_id], s.credit_code))
    strata.sort(key=lambda s: (plan_order[s.task_id], s.stratum != KEY_AREA, s.stratum))
    frames.sort(key=lambda f: plan_order[f.task_id])
    return strata, selection, frames
