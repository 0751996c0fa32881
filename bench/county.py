"""County-scale benchmark: wall time and peak memory per stage, next to a greedy baseline.

    .venv/bin/python bench/county.py [--enterprises 50000] [--inspectors 240] [--tightness 0.7]

Generates a registry (cached under --workdir, default ./.bench), runs every stage of the plan and
prints a table. The baseline is what thin platforms do: shuffle, then hand out
round-robin pairs and dates; the suite's rule checker counts what it breaks.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from data.generate import generate_registry
from scheduler.checks import check_selection, check_visits
from scheduler.draw import draw
from scheduler.importer import load_registry
from scheduler.outputs import write_outputs
from scheduler.pipeline import plan_days, schedule
from scheduler.plan import check_plan_against_registry, load_plan
from scheduler.plan_run import PlanResult
from scheduler.staffing import build_roster, staff
from scheduler.visits import build_visits
from scheduler.workdays import WorkCalendar


class Stages:
    """Each stage run twice: once timed (no tracing), once under tracemalloc for its peak."""

    def __init__(self):
        self.rows = []

    def run(self, name, fn, *args):
        t = time.perf_counter()
        fn(*args)
        wall = time.perf_counter() - t
        tracemalloc.start()
        out = fn(*args)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.rows.append((name, wall, peak / 2**20))
        return out

    def print(self, title):
        print(f"\n{title}")
        print(f"{'stage':<12}{'wall s':>10}{'peak MiB':>12}")
        for name, wall, peak in self.rows:
            print(f"{name:<12}{wall:>10.2f}{peak:>12.1f}")
        print(f"{'total':<12}{sum(r[1] for r in self.rows):>10.2f}")


def baseline(plan, registry, visits, days):
    """Round-robin pairs within the lead agency, dates in turn: no rule is looked at."""
    by_agency = {}
    for ins in sorted(registry.inspectors.values(), key=lambda i: i.inspector_id):
        by_agency.setdefault(ins.agency_id, []).append(ins.inspector_id)
    out, turn = [], Counter()
    import dataclasses

    for k, v in enumerate(visits):
        staff_ids = by_agency[v.lead_agency_id]
        a = turn[v.lead_agency_id]
        team = (staff_ids[a % len(staff_ids)], staff_ids[(a + 1) % len(staff_ids)])
        turn[v.lead_agency_id] += 2
        window = [d for d in days if v.window_start <= d <= v.window_end]
        out.append(dataclasses.replace(v, inspector_ids=team, date=window[k % len(window)]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--enterprises", type=int, default=50_000)
    ap.add_argument("--inspectors", type=int, default=240)
    ap.add_argument("--tightness", type=float, default=0.7)
    ap.add_argument("--seed", default="bench")
    ap.add_argument("--workdir", default=".bench", help="where registries are cached and outputs written")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    folder = work / f"registry-{args.enterprises}-{args.inspectors}-{args.tightness}"
    if not (folder / "plan.yaml").exists():
        t = time.perf_counter()
        generate_registry(folder, enterprises=args.enterprises, inspectors=args.inspectors, tightness=args.tightness)
        print(f"generated {folder} in {time.perf_counter() - t:.1f}s")

    s = Stages()
    registry = s.run("import", load_registry, folder)
    plan = load_plan(folder / "plan.yaml")
    check_plan_against_registry(plan, registry)
    days = plan_days(plan, WorkCalendar())
    strata, selection, frames = s.run("draw", draw, plan, registry, args.seed)
    visits = s.run("visits", build_visits, plan, registry, selection)
    roster = s.run("roster", build_roster, plan, registry, days)
    teams, stats = s.run("staffing", staff, plan, registry, visits, roster, args.seed)
    done = s.run("dates", schedule, visits, teams, roster, registry, args.seed)
    result = PlanResult(plan, registry, args.seed, strata, selection, done, stats, days, frames)
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        s.run("outputs", write_outputs, result, Path(tmp) / "out", folder, folder / "plan.yaml")
    # peak MiB: Python and numpy allocations traced by tracemalloc (OR-Tools' C++ memory is not traced;
    # the process's peak RSS below covers it).
    s.print(
        f"randinspect: {len(registry.enterprises):,} enterprises, {len(registry.inspectors)} inspectors, "
        f"{len(done):,} visits, {len(stats.load)} inspectors on the roster"
    )
    loads = [stats.load[i] for i in stats.load if stats.capacity[i] > 0]
    busy = sum(2 for _ in done) / max(1, sum(stats.capacity.values()))
    print(f"capacity used {busy:.0%}; max pair probability {stats.max_pair_probability:.3f}; loads {min(loads)}-{max(loads)}")
    full = roster.available.all(axis=1)
    by_agency: dict = {}
    for k, ins in enumerate(roster.inspectors):
        if full[k] and stats.capacity[ins.inspector_id] == plan.policy.quarterly_cap:
            by_agency.setdefault(ins.agency_id, []).append(stats.load[ins.inspector_id])
    spreads = {a: (min(v), max(v)) for a, v in sorted(by_agency.items())}
    print("fully available inspectors with the policy cap, per agency (min-max visits): "
          + ", ".join(f"{a} {lo}-{hi}" for a, (lo, hi) in spreads.items()))
    violations = check_visits(plan, registry, done) + check_selection(plan, registry, selection)
    print(f"rule violations: {len(violations)}")

    t = time.perf_counter()
    base = baseline(plan, registry, visits, days)
    wall = time.perf_counter() - t
    bad = check_visits(plan, registry, base)
    kinds = Counter(v.split(": ", 1)[-1].split(" ")[0] if ":" in v else v for v in bad)
    print(f"\nbaseline (shuffle + round-robin pairs): {wall:.2f}s, {len(bad)} rule violations")
    for line in bad[:8]:
        print(f"  e.g. {line}")
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    del kinds


if __name__ == "__main__":
    main()
