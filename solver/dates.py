"""Visit dates (stage 3; nothing random is decided here).

Teams are already drawn; this places each visit on a working day of its
window on which every member is available, keeps every inspector within the
daily cap, and brings an inspector's same-day visits close together (pairs of
nearby visits sharing an inspector on one day).

A greedy pass (most constrained visit first; a day next to a nearby visit of
the same inspector, else the least loaded) places nearly every plan. Where it
leaves a visit unplaced, or when asked to polish, a CP-SAT model (day
variables, one cumulative per inspector for the daily cap, rewarded
same-day pairs) takes the greedy schedule as its hint and repairs it.
Measured on county plans the CP-SAT polish did not improve the greedy's
same-day pairs within seconds, so it is not run by default.

Reproducible by construction: one worker, a fixed random seed and a
deterministic time limit (never wall-clock time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from solver.status import SolveStatus

NEAR_KM = 5.0  # visits closer than this are worth putting on one day
NEIGHBOURS = 2  # per visit and inspector, the nearest this many count


@dataclass(frozen=True)
class DateProblem:
    """Plain data: allowed day indices per visit, members, caps, coordinates (km)."""

    n_days: int
    visit_days: list[np.ndarray]
    visit_members: list[list[int]]
    daily_cap: np.ndarray
    xy: np.ndarray  # (n_visits, 2), NaN where unknown

    def __post_init__(self) -> None:
        for v, days in enumerate(self.visit_days):
            if len(days) == 0:
                raise ValueError(f"visit {v}: no allowed day")
            if days.min() < 0 or days.max() >= self.n_days:
                raise ValueError(f"visit {v}: day index out of range 0..{self.n_days - 1}")
        if len(self.visit_members) != len(self.visit_days):
            raise ValueError("visit_members and visit_days differ in length")


@dataclass
class DateResult:
    """Day index per visit (-1 where none), the status and the number of same-day nearby pairs."""

    status: SolveStatus
    days: list[int]
    together: int = 0
    stats: dict[str, float] = field(default_factory=dict)


@dataclass
class Variables:
    day: list[cp_model.IntVar]
    interval: list[cp_model.IntervalVar]
    together: dict[tuple[int, int], cp_model.IntVar]


def near_pairs(problem: DateProblem) -> list[tuple[int, int]]:
    """Pairs of visits sharing an inspector, each among the other's nearest, within NEAR_KM."""
    by_insp: dict[int, list[int]] = {}
    for v, members in enumerate(problem.visit_members):
        for i in members:
            by_insp.setdefault(i, []).append(v)
    pairs: set[tuple[int, int]] = set()
    masks: dict[int, int] = {}

    def days_mask(v: int) -> int:  # allowed days as bits: two visits can meet iff masks share one
        if v not in masks:
            masks[v] = sum(1 << int(d) for d in problem.visit_days[v])
        return masks[v]

    for i in sorted(by_insp):
        vs = np.array(by_insp[i])
        pts = problem.xy[vs]
        ok = ~np.isnan(pts).any(axis=1)
        vs, pts = vs[ok], pts[ok]
        if len(vs) < 2:
            continue
        d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2))
        np.fill_diagonal(d, np.inf)
        nearest = np.argsort(d, axis=1, kind="stable")[:, :NEIGHBOURS]
        for a in range(len(vs)):
            for b in nearest[a]:
                if d[a, b] <= NEAR_KM:
                    v, w = int(vs[a]), int(vs[b])
                    if days_mask(v) & days_mask(w):
                        pairs.add((min(v, w), max(v, w)))
    return sorted(pairs)


def greedy_dates(problem: DateProblem) -> list[int]:
    """A feasible-if-possible schedule: most constrained visit first, least loaded day,
    next to a nearby visit of the same inspector when one is there."""
    n_insp = len(problem.daily_cap)
    load = np.zeros((n_insp, problem.n_days), dtype=np.int64)
    total = np.zeros(problem.n_days, dtype=np.int64)
    days = [-1] * len(problem.visit_days)
    partners: dict[int, set[int]] = {}
    for v, w in near_pairs(problem):
        partners.setdefault(v, set()).add(w)
        partners.setdefault(w, set()).add(v)
    order = sorted(range(len(problem.visit_days)), key=lambda v: (len(problem.visit_days[v]), v))
    for v in order:
        members = problem.visit_members[v]
        best, best_score = -1, None
        near_days = {days[w] for w in partners.get(v, ()) if days[w] >= 0}
        for d in problem.visit_days[v]:
            d = int(d)
            if any(load[i, d] >= problem.daily_cap[i] for i in members):
                continue
            score = (0 if d in near_days else 1, int(max(load[i, d] for i in members)), int(total[d]), d)
            if best_score is None or score < best_score:
                best, best_score = d, score
        if best >= 0:
            days[v] = best
            total[best] += 1
            for i in members:
                load[i, best] += 1
    return days


def build_model(problem: DateProblem, hint: list[int]) -> tuple[cp_model.CpModel, Variables]:
    """Variables, constraints (window, availability, daily caps) and objective (togetherness)."""
    model = cp_model.CpModel()
    day = [
        model.new_int_var_from_domain(cp_model.Domain.from_values([int(d) for d in days]), f"day_{v}")
        for v, days in enumerate(problem.visit_days)
    ]
    interval = [model.new_fixed_size_interval_var(day[v], 1, f"iv_{v}") for v in range(len(day))]
    by_insp: dict[int, list[int]] = {}
    for v, members in enumerate(problem.visit_members):
        for i in members:
            by_insp.setdefault(i, []).append(v)
    for i in sorted(by_insp):
        ivs = [interval[v] for v in by_insp[i]]
        cap = int(problem.daily_cap[i])
        if cap <= 1:
            model.add_no_overlap(ivs)
        elif len(ivs) > cap:
            model.add_cumulative(ivs, [1] * len(ivs), cap)
    together: dict[tuple[int, int], cp_model.IntVar] = {}
    for v, w in near_pairs(problem):
        z = model.new_bool_var(f"z_{v}_{w}")
        model.add(day[v] == day[w]).only_enforce_if(z)
        together[(v, w)] = z
    model.maximize(sum(together.values()))
    for v, d in enumerate(hint):
        if d >= 0:
            model.add_hint(day[v], d)
    for (v, w), z in together.items():
        model.add_hint(z, hint[v] >= 0 and hint[v] == hint[w])
    return model, Variables(day, interval, together)


def solve_dates(
    problem: DateProblem, seed: int = 0, deterministic_time: float = 5.0, polish: bool = False
) -> DateResult:
    """The greedy schedule when it places every visit (unless ``polish``); otherwise CP-SAT,
    hinted with it, repairs it. CP-SAT runs reproducibly: one worker, fixed seed, deterministic
    time limit."""
    hint = greedy_dates(problem)
    if not problem.visit_days:
        return DateResult(SolveStatus.OPTIMAL, [])
    if not polish and min(hint) >= 0:
        pairs = near_pairs(problem)
        together = sum(1 for v, w in pairs if hint[v] == hint[w])
        return DateResult(SolveStatus.FEASIBLE, hint, together, {"method": "greedy", "pairs": len(pairs)})
    model, var = build_model(problem, hint)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed % (2**31)
    solver.parameters.max_deterministic_time = deterministic_time
    solver.parameters.max_time_in_seconds = 600.0  # a safety net only; the deterministic limit binds first
    code = solver.solve(model)
    status = {
        cp_model.OPTIMAL: SolveStatus.OPTIMAL,
        cp_model.FEASIBLE: SolveStatus.FEASIBLE,
        cp_model.INFEASIBLE: SolveStatus.INFEASIBLE,
    }.get(code, SolveStatus.UNKNOWN)
    if not status.ok:
        return DateResult(status, hint)
    days = [int(solver.value(d)) for d in var.day]
    together = sum(int(solver.value(z)) for z in var.together.values())
    stats = {"method": "cp-sat", "deterministic_time": solver.deterministic_time, "pairs": len(var.together)}
    return DateResult(status, days, together, stats)
