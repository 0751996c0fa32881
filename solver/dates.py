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

try:  # numba compiles the greedy's loop; without it the same code runs as plain Python.
    from numba import njit
except ImportError:  # pragma: no cover
    njit = None  # type: ignore[assignment]

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
    stats: dict[str, object] = field(default_factory=dict)


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


def _greedy_core(n_days, vd_ptr, vd, vm_ptr, vm, daily_cap, pr_ptr, pr, order):  # noqa: C901 - one tight loop
    n_insp = len(daily_cap)
    load = np.zeros((n_insp, n_days), dtype=np.int64)
    total = np.zeros(n_days, dtype=np.int64)
    days = np.full(len(vd_ptr) - 1, -1, dtype=np.int64)
    near = np.zeros(n_days, dtype=np.bool_)
    for v in order:
        for k in range(pr_ptr[v], pr_ptr[v + 1]):
            if days[pr[k]] >= 0:
                near[days[pr[k]]] = True
        best = -1
        b0 = b1 = b2 = 0
        for k in range(vd_ptr[v], vd_ptr[v + 1]):
            d = vd[k]
            ok = True
            busiest = 0
            for j in range(vm_ptr[v], vm_ptr[v + 1]):
                i = vm[j]
                if load[i, d] >= daily_cap[i]:
                    ok = False
                    break
                if load[i, d] > busiest:
                    busiest = load[i, d]
            if not ok:
                continue
            s0 = 0 if near[d] else 1
            # the smallest (next to a partner, busiest member's load, day's total, day)
            if (
                best < 0
                or s0 < b0
                or (s0 == b0 and busiest < b1)
                or (s0 == b0 and busiest == b1 and total[d] < b2)
                or (s0 == b0 and busiest == b1 and total[d] == b2 and d < best)
            ):
                best, b0, b1, b2 = d, s0, busiest, total[d]
        for k in range(pr_ptr[v], pr_ptr[v + 1]):
            if days[pr[k]] >= 0:
                near[days[pr[k]]] = False
        if best >= 0:
            days[v] = best
            total[best] += 1
            for j in range(vm_ptr[v], vm_ptr[v + 1]):
                load[vm[j], best] += 1
    return days


_greedy_compiled = njit(cache=True)(_greedy_core) if njit is not None else None


def _csr(rows: list) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    flat = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows]) if rows else np.zeros(0, np.int64)
    return ptr, flat.astype(np.int64)


def greedy_dates(
    problem: DateProblem, pairs: list[tuple[int, int]] | None = None, compiled: bool = True
) -> list[int]:
    """A feasible-if-possible schedule: most constrained visit first, least loaded day,
    next to a nearby visit of the same inspector when one is there. (Compiled with numba
    when it is installed; the plain-Python run of the same code gives the same days.)"""
    n = len(problem.visit_days)
    if n == 0:
        return []
    partners: list[list[int]] = [[] for _ in range(n)]
    for v, w in near_pairs(problem) if pairs is None else pairs:
        partners[v].append(w)
        partners[w].append(v)
    vd_ptr, vd = _csr(problem.visit_days)
    vm_ptr, vm = _csr(problem.visit_members)
    pr_ptr, pr = _csr(partners)
    lengths = np.diff(vd_ptr)
    order = np.lexsort((np.arange(n), lengths))
    core = _greedy_compiled if (compiled and _greedy_compiled is not None) else _greedy_core
    days = core(
        np.int64(problem.n_days),
        vd_ptr,
        vd,
        vm_ptr,
        vm,
        np.asarray(problem.daily_cap, dtype=np.int64),
        pr_ptr,
        pr,
        order,
    )
    return [int(d) for d in days]


def build_model(
    problem: DateProblem, hint: list[int], pairs: list[tuple[int, int]] | None = None
) -> tuple[cp_model.CpModel, Variables]:
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
    for v, w in near_pairs(problem) if pairs is None else pairs:
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
    if not problem.visit_days:
        return DateResult(SolveStatus.OPTIMAL, [])
    pairs = near_pairs(problem)
    hint = greedy_dates(problem, pairs)
    if not polish and min(hint) >= 0:
        together = sum(1 for v, w in pairs if hint[v] == hint[w])
        return DateResult(SolveStatus.FEASIBLE, hint, together, {"method": "greedy", "pairs": len(pairs)})
    model, var = build_model(problem, hint, pairs)
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
    stats: dict[str, object] = {
        "method": "cp-sat", "deterministic_time": solver.deterministic_time, "pairs": len(var.together)
    }
    return DateResult(status, days, together, stats)
