"""The whole job: import, draw, merge into visits, draw teams, place dates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from scheduler.draw import draw
from scheduler.errors import InfeasibleError
from scheduler.executor import Executor, LocalExecutor, make_executor, map_packed
from scheduler.importer import load_registry
from scheduler.messages import t as msg
from scheduler.plan import Plan, check_plan_against_registry, load_plan
from scheduler.plan_run import PlanResult, Visit
from scheduler.registry import Registry
from scheduler.staffing import Roster, build_roster, staff, visit_components
from scheduler.tickets import subseed
from scheduler.visits import build_visits
from scheduler.workdays import WorkCalendar, load_calendar
from solver.dates import DateProblem, DateResult, solve_dates

DATES_DETERMINISTIC_TIME = 0.5  # CP-SAT repairs and polishes the greedy schedule; see README


def plan_days(plan: Plan, calendar: WorkCalendar) -> list[dt.date]:
    """Working days from the earliest window start to the latest window end."""
    start = min(t.window_start for t in plan.tasks)
    end = max(t.window_end for t in plan.tasks)
    return calendar.workdays(start, end)


def _xy_km(registry: Registry, visits: list[Visit]) -> np.ndarray:
    ent = registry.enterprises
    rows = registry.enterprise_rows([v.credit_code for v in visits])
    ok = rows >= 0
    lat = np.full(len(visits), np.nan)
    lon = np.full(len(visits), np.nan)
    lat[ok] = ent["lat"].iloc[rows[ok]].to_numpy(dtype=float, na_value=np.nan)
    lon[ok] = ent["lon"].iloc[rows[ok]].to_numpy(dtype=float, na_value=np.nan)
    mean_lat = np.nanmean(lat) if np.isfinite(lat).any() else 0.0
    return np.column_stack([lon * 111.32 * np.cos(np.radians(mean_lat)), lat * 110.57])


def date_parts(members: list[list[int]], n_inspectors: int) -> list[np.ndarray]:
    """Visits linked by a shared inspector, as groups of visit indices ordered by first visit:
    the date problem splits into these (no cap or pairing crosses them)."""
    n_visits = len(members)
    if n_visits == 0:
        return []
    vis = np.repeat(np.arange(n_visits), [len(m) for m in members])
    ins = np.fromiter((i for m in members for i in m), dtype=np.int64, count=len(vis))
    part = visit_components(n_inspectors, ins, vis, n_visits)
    order = np.argsort(part, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(part[order])) + 1)


def _solve_part_dates(problem: DateProblem, seed: int) -> DateResult:
    return solve_dates(problem, seed=seed, deterministic_time=DATES_DETERMINISTIC_TIME)


def schedule(
    visits: list[Visit],
    teams: list[tuple[str, ...]],
    roster: Roster,
    registry: Registry,
    seed: str,
    executor: Executor | None = None,
) -> list[Visit]:
    """Place every visit on a working day of its window when its whole team is available.

    Visits that share no inspector (directly or through others) are scheduled apart, part by
    part on ``executor``; each part's solver seed is ``subseed(seed, "dates", <its first visit
    id>)``, so the dates do not depend on the number of workers."""
    ex = executor or LocalExecutor()
    visit_days = []
    members = []
    for v, team in zip(visits, teams, strict=False):
        lo, hi = roster.day_range(v.window_start, v.window_end)
        idx = [roster.index[i] for i in team]
        common = roster.available[idx, lo:hi].all(axis=0)
        visit_days.append(lo + np.flatnonzero(common))
        members.append(idx)
    bad = [v for v, d in zip(visits, visit_days, strict=False) if len(d) == 0]
    if bad:
        raise InfeasibleError(
            [
                msg("dates_no_common_day", tasks="/".join(v.task_ids), visit=v.visit_id)
                for v in bad
            ]
        )
    xy = _xy_km(registry, visits)
    n_days = len(roster.days)
    jobs: list[tuple[DateProblem, int]] = []
    groups = date_parts(members, len(roster.inspectors))
    for g in groups:
        gl = g.tolist()
        ins = sorted({i for v in gl for i in members[v]})
        local = {i: k for k, i in enumerate(ins)}
        problem = DateProblem(
            n_days,
            [visit_days[v] for v in gl],
            [[local[i] for i in members[v]] for v in gl],
            roster.daily_cap[ins],
            xy[g],
        )
        jobs.append((problem, int(subseed(seed, "dates", visits[gl[0]].visit_id)[:8], 16)))
    # Consecutive parts in batches of about 2,000 visits.
    results = map_packed(ex, _solve_part_dates, jobs, [len(g) for g in groups], 2_000)
    days = np.full(len(visits), -1, dtype=np.int64)
    for g, r in zip(groups, results, strict=True):
        if not r.status.ok or min(r.days, default=0) < 0:
            raise InfeasibleError(
                msg("dates_no_schedule", status=r.status.value, visit=visits[int(g[0])].visit_id)
            )
        days[g] = r.days
    return [
        dataclasses.replace(v, date=roster.days[int(d)], inspector_ids=team)
        for v, d, team in zip(visits, days.tolist(), teams, strict=False)
    ]


def run_plan(
    registry_dir: str | Path,
    plan_file: str | Path,
    seed: str,
    calendar_file: str | Path | None = None,
    seed_kind: str = "test",
    progress: Callable[[str, float], None] | None = None,
    executor: Executor | str | None = None,
    mapping: str | Path | None = None,
) -> PlanResult:
    """Run the whole job in memory. Raises InputError (exit 2) or InfeasibleError (exit 3).

    ``progress(stage, fraction)`` is called as each stage starts (import, draw, staffing, dates).
    ``executor`` (an :class:`~scheduler.executor.Executor` or a spec such as ``"processes:2"`` or
    ``"dask://host:8786"``) runs the independent parts; the result does not depend on it.
    ``mapping`` is the registry's mapping file when it is not ``mapping.yaml`` in the folder."""
    if isinstance(executor, str) or executor is None:
        own = make_executor(executor)
        try:
            return run_plan(registry_dir, plan_file, seed, calendar_file, seed_kind, progress, own, mapping)
        finally:
            own.close()
    report = progress or (lambda stage, fraction: None)
    report("import", 0.0)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    registry = load_registry(registry_dir, mapping)
    plan = load_plan(plan_file)
    check_plan_against_registry(plan, registry)
    if calendar_file is None and (Path(registry_dir) / "calendar.csv").exists():
        calendar_file = Path(registry_dir) / "calendar.csv"
    calendar = load_calendar(calendar_file) if calendar_file else WorkCalendar()
    if calendar_file:
        registry.files["calendar"] = Path(calendar_file)
    days = plan_days(plan, calendar)
    timings["import"] = time.perf_counter() - t0

    report("draw", 0.15)
    t = time.perf_counter()
    strata, selection, frames = draw(plan, registry, seed, executor=executor)
    visits = build_visits(plan, registry, selection)
    timings["draw"] = time.perf_counter() - t

    report("staffing", 0.3)
    t = time.perf_counter()
    roster = build_roster(plan, registry, days)
    teams, stats = staff(plan, registry, visits, roster, seed, executor)
    timings["staffing"] = time.perf_counter() - t

    report("dates", 0.7)
    t = time.perf_counter()
    visits = schedule(visits, teams, roster, registry, seed, executor)
    timings["dates"] = time.perf_counter() - t

    warnings = []
    if stats.pairs_over_cap:
        warnings.append(
            msg("pairs_over_cap", n=stats.pairs_over_cap, cap=stats.pair_probability_cap,
              visits=", ".join(stats.visits_over_cap[:20]) + (" …" if len(stats.visits_over_cap) > 20 else ""),
              max_p=f"{stats.max_pair_probability:.3f}")
        )
    result = PlanResult(
        plan=plan,
        registry=registry,
        seed=seed,
        strata=strata,
        selection=selection,
        visits=visits,
        staffing=stats,
        workdays=days,
        frames=frames,
        seed_kind=seed_kind,
        warnings=warnings,
        timings=timings,
    )
    return result
