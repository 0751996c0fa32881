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


def population_mask(task: Task, registry: Registry) -> np.ndarray:
    """Active enterprises in the task's population."""
    ent = registry.enterprises
    lead = registry.agencies[task.agency_id]
    region = ent["region_code"]
    mask = (ent["status"].str.lower() == "active").to_numpy().copy()
    mask &= region.str.startswith(lead.prefix).to_numpy()
    if task.population.region_prefix:
        mask &= region.str.startswith(task.population.region_prefix).to_numpy()
    if task.population.industries:
        mask &= ent["industry"].str.startswith(tuple(task.population.industries)).to_numpy()
    mask &= ent["risk_class"].isin(task.population.risk_classes).to_numpy()
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

    capped = frequency_capped(plan, hist, positions, risk)

    drawn_by_agency: dict[str, set[str]] = {}
    strata: list[Stratum] = []
    selection: list[Selected] = []
    frames: list[TaskFrame] = []
    for task in task_order(plan, registry):
        mask = population_mask(task, registry)
        population = int(mask.sum())
        higher = set(registry.ancestors(task.agency_id))
        out_hist = np.zeros(len(ent), dtype=bool)
        if higher and not hist.empty:
            inspected = hist.loc[hist["agency_id"].isin(higher), "credit_code"].unique()
            idx = positions.reindex(inspected).dropna().to_numpy(dtype=np.int64)
            out_hist[idx] = True
        out_hist &= mask
        out_plan = np.zeros(len(ent), dtype=bool)
        earlier = set().union(*(drawn_by_agency.get(a, set()) for a in higher)) if higher else set()
        if earlier:
            idx = positions.reindex(sorted(earlier)).dropna().to_numpy(dtype=np.int64)
            out_plan[idx] = True
        out_plan &= mask & ~out_hist
        out_cap = capped & mask & ~out_hist & ~out_plan
        eligible = mask & ~out_hist & ~out_plan & ~out_cap
        frames.append(
            TaskFrame(
                task.task_id,
                population,
                int(out_hist.sum()),
                int(out_plan.sum()),
                int(out_cap.sum()),
                int(eligible.sum()),
            )
        )
        drawn: list[str] = []

        key_idx = np.flatnonzero(eligible & key)
        if len(key_idx):
            key_codes = sorted(codes[key_idx])
            key_tickets = tickets(seed, task.task_id, key_codes)
            n = len(key_codes)
            strata.append(Stratum(task.task_id, KEY_AREA, n, n, None))
            for code, t in zip(key_codes, key_tickets, strict=False):
                selection.append(Selected(task.task_id, code, KEY_AREA, n, n, 1.0, t))
            drawn.extend(key_codes)

        rest = eligible & ~key
        by_class = {c: np.flatnonzero(rest & (risk == c)) for c in task.population.risk_classes}
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
                drawn.append(str(class_codes[j]))
        drawn_by_agency.setdefault(task.agency_id, set()).update(drawn)

    plan_order = {t.task_id: k for k, t in enumerate(plan.tasks)}
    selection.sort(key=lambda s: (plan_order[s.task_id], s.credit_code))
    strata.sort(key=lambda s: (plan_order[s.task_id], s.stratum != KEY_AREA, s.stratum))
    frames.sort(key=lambda f: plan_order[f.task_id])
    return strata, selection, frames
