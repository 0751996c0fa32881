"""Province-scale benchmark (issue 6): wall time and peak memory per stage at 1M, 3M, 10M
enterprises, next to a single-machine greedy baseline.

    .venv/bin/python bench/province.py [--sizes 1m,3m,10m] [--staffing delegated,local]
        [--infeasible 10m] [--executor processes:2] [--workdir .bench] [--no-baseline]

For each size and staffing a province-shaped registry is generated once (Parquet, cached under
--workdir: ~66k enterprises and ~67 inspectors per county, ~15 counties per 1M enterprises;
province and city tasks carried out by the county bureaus, ``staffing: delegated``, or staffed
``local``: the province's and cities' own staff may go anywhere in their jurisdiction, so the
pool is split by region, see the README). ``--infeasible`` runs the ``local`` plan of those
sizes with every joint task drawing its whole population (far more visits than its ecology
staff can make) and reports how long exit 3 took, with what memory, and its first reasons.
The stage holding the peak memory is named. Then the whole job runs
in a fresh process exactly as ``randinspect plan`` runs it (``run_plan`` + ``write_outputs``).
A sampler thread reads the memory of that process and its worker processes every 50 ms, so
each stage's peak includes OR-Tools' C++ memory and the workers': resident memory summed (an
upper bound, shared pages counted per process), or with ``--pss`` the proportional set size
(exact, but reading it slows the run by a quarter or so).

After the run, the suite's own rule checker (``scheduler.checks``) checks a deterministic sample
of visits plus every inspector's quarterly and daily caps. The baseline is a greedy that a
careful platform could write: per visit, the least-loaded eligible inspectors (same
eligibility as ours, so it breaks no rule), deterministic, so every pairing is predictable
(pair probability 1); its wall time is what the lottery is measured against.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

SIZES = {
    # name: enterprises, cities, counties per city, inspectors
    "1m": (1_000_000, 2, 8, 1_000),
    "3m": (3_000_000, 5, 9, 3_000),
    "10m": (10_000_000, 15, 10, 10_000),
}
ROOT = Path(__file__).resolve().parents[1]


class Sampler(threading.Thread):
    """Peak memory (this process + its children, PSS) per stage, sampled every 50 ms."""

    def __init__(self, pss: bool = False):
        super().__init__(daemon=True)
        self.pss = pss
        import psutil

        self.proc = psutil.Process()
        self.stage = "start"
        self.peaks: dict[str, int] = {}
        self.stop = threading.Event()

    def rss(self) -> int:
        """Resident memory summed over the process tree (an upper bound: pages a forked worker
        shares with the parent count twice); with ``pss`` the proportional set size instead,
        exact but slow enough to slow the run down (it reads /proc/PID/smaps)."""
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_full_info().pss if self.pss else p.memory_info().rss
            except Exception:  # a worker that just ended
                pass
        return total

    def run(self) -> None:
        while not self.stop.is_set():
            r = self.rss()
            self.peaks[self.stage] = max(self.peaks.get(self.stage, 0), r)
            time.sleep(0.05)


def one(
    registry: Path,
    plan: Path,
    seed: str,
    executor: str,
    sample: int,
    pss: bool = False,
    baseline: bool = True,
) -> dict:
    """Run the whole job once in this process; per-stage wall time and peak RSS."""
    import numpy as np

    from scheduler.executor import make_executor
    from scheduler.outputs import write_outputs
    from scheduler.pipeline import plan_days, run_plan
    from scheduler.staffing import build_roster, eligibility

    out = registry.parent / f"{registry.name}-out"
    shutil.rmtree(out, ignore_errors=True)  # removing an earlier run's 300k files is not the plan's time
    sampler = Sampler(pss)
    sampler.start()
    marks: list[tuple[str, float]] = []

    def progress(stage: str, fraction: float) -> None:
        marks.append((stage, time.perf_counter()))
        sampler.stage = stage

    from scheduler.errors import InfeasibleError

    ex = make_executor(executor)
    t0 = time.perf_counter()
    try:
        result = run_plan(registry, plan, seed, progress=progress, executor=ex)
    except InfeasibleError as exc:  # exit 3: how long it took to say so, and with what memory
        t_end = time.perf_counter()
        sampler.stop.set()
        stamps = marks + [("end", t_end)]
        stages = {
            name: {"seconds": round(t_next - t, 2), "peak_gib": round(sampler.peaks.get(name, 0) / 2**30, 2)}
            for (name, t), (_, t_next) in zip(stamps, stamps[1:], strict=False)
        }
        return {
            "infeasible": True,
            "reasons": exc.reasons if hasattr(exc, "reasons") else str(exc).splitlines(),
            "stages": stages,
            "plan_seconds": round(t_end - t0, 1),
            "peak_gib": round(max(sampler.peaks.values()) / 2**30, 2),
            "peak_stage": max(sampler.peaks, key=sampler.peaks.get),
            "executor": executor,
        }
    finally:
        ex.close()
    t_run = time.perf_counter()
    sampler.stage = "outputs"
    write_outputs(result, out, registry, plan)
    t_out = time.perf_counter()

    sampler.stage = "check"
    from scheduler import checks

    kwargs = {"sample": sample} if "sample" in checks.check_visits.__code__.co_varnames else {}
    violations = checks.check_visits(result.plan, result.registry, result.visits, **kwargs)
    t_check = time.perf_counter()

    if not baseline:
        sampler.stop.set()
        t_base, short = 0.0, -1
    else:
        t_base, short = _baseline(result, registry, sampler, build_roster, eligibility, plan_days, np)
    t_check_end = t_check
    stamps = marks + [("outputs", t_run), ("check", t_out), ("end", t_check_end)]
    stages = {}
    for (name, t), (_, t_next) in zip(stamps, stamps[1:], strict=False):
        stages[name] = {
            "seconds": round(t_next - t, 2),
            "peak_gib": round(sampler.peaks.get(name, 0) / 2**30, 2),
        }
    plan_peaks = {k: v for k, v in sampler.peaks.items() if k not in ("check", "baseline")}
    stats = result.staffing
    return {
        "enterprises": len(result.registry.enterprises),
        "inspectors": len(result.registry.inspectors),
        "visits": len(result.visits),
        "selected": len(result.selection),
        "stages": stages,
        "total_seconds": round(t_check - t0, 1),
        "plan_seconds": round(t_out - t0, 1),
        "peak_gib": round(max(plan_peaks.values()) / 2**30, 2),
        "peak_stage": max(plan_peaks, key=plan_peaks.get),
        "max_pair_probability": stats.max_pair_probability,
        "pairs_over_cap": stats.pairs_over_cap,
        "checked_visits": min(sample, len(result.visits)) if kwargs else len(result.visits),
        "violations": len(violations),
        "violation_examples": violations[:5],
        "baseline_seconds": round(t_base, 1),
        "baseline_unfilled_places": short,
        "executor": executor,
    }


def _baseline(result, registry, sampler, build_roster, eligibility, plan_days, np):
    """The greedy a careful platform could write (see the module docstring): seconds, and
    the places it could not fill."""
    sampler.stage = "baseline"
    roster = build_roster(result.plan, result.registry, plan_days(result.plan, _calendar(registry)))
    t_b = time.perf_counter()
    elig = eligibility(result.plan, result.registry, result.visits, roster)
    load = np.zeros(len(roster.inspectors), dtype=np.int64)
    cap = roster.cap.copy()
    short = 0
    for v in range(len(result.visits)):
        team: list[int] = []
        for k in range(int(elig.visit_ptr[v]), int(elig.visit_ptr[v + 1])):
            c = elig.candidates(k)
            c = c[(load[c] < cap[c]) & ~np.isin(c, team)]
            if len(c) == 0:
                short += 1
                continue
            pick = int(c[np.argmin(load[c])])
            team.append(pick)
            load[pick] += 1
    t_base = time.perf_counter() - t_b
    sampler.stop.set()
    return t_base, short


def _calendar(registry: Path):
    from scheduler.workdays import WorkCalendar, load_calendar

    cal = registry / "calendar.csv"
    return load_calendar(cal) if cal.exists() else WorkCalendar()


def generate(
    name: str, workdir: Path, quarterly_cap: int, tightness: float, staffing: str = "delegated"
) -> tuple[Path, dict]:
    """The size's registry (cached); generation time and peak RSS when made now."""
    n, cities, per_city, inspectors = SIZES[name]
    suffix = "" if staffing == "delegated" else f"-{staffing}"
    folder = workdir / f"province-{name}-q{quarterly_cap}-t{tightness}{suffix}"
    if (folder / "plan.yaml").exists():
        return folder, {}
    cmd = [
        sys.executable, "-m", "data.generate", str(folder),
        "--enterprises", str(n), "--cities", str(cities), "--counties-per-city", str(per_city),
        "--inspectors", str(inspectors), "--format", "parquet",
        "--quarterly-cap", str(quarterly_cap), "--tightness", str(tightness),
        "--province-staffing", staffing,
    ]  # fmt: skip
    t = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"generation failed: {done.stderr}")
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return folder, {"seconds": round(time.perf_counter() - t, 1), "peak_gib": round(peak_kb / 2**20, 2)}


def infeasible_plan(folder: Path) -> Path:
    """The folder's plan with every joint task drawing its whole population (ratio 1 in every
    risk class): far more visits than the joint department's staff can make."""
    import yaml

    plan = yaml.safe_load((folder / "plan.yaml").read_text(encoding="utf-8"))
    joint = 0
    for task in plan["tasks"]:
        if task.get("joint_agencies"):
            task.pop("count", None)
            task["ratio"] = {c: 1 for c in "ABCD"}
            joint += 1
    if not joint:
        raise SystemExit(f"{folder}: the plan has no joint task to make infeasible")
    out = folder / "plan-infeasible.yaml"
    out.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1m,3m,10m")
    ap.add_argument("--executor", default="processes:2")
    ap.add_argument("--quarterly-cap", type=int, default=110)
    ap.add_argument("--tightness", type=float, default=0.78)
    ap.add_argument("--seed", default="province-bench")
    ap.add_argument("--sample", type=int, default=20_000, help="visits the rule checker checks one by one")
    ap.add_argument("--workdir", type=Path, default=ROOT / ".bench")
    ap.add_argument("--pss", action="store_true", help="measure proportional set size (exact, slower)")
    ap.add_argument("--staffing", default="delegated,local", help="province and city tasks: local, delegated")
    ap.add_argument(
        "--infeasible", default="", help="sizes (e.g. 10m) to run with every joint task infeasible"
    )
    ap.add_argument("--no-baseline", action="store_true", help="skip the greedy baseline")
    ap.add_argument("--one", nargs=2, metavar=("REGISTRY", "PLAN"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        res = one(
            Path(args.one[0]), Path(args.one[1]), args.seed, args.executor, args.sample, args.pss,
            not args.no_baseline,
        )  # fmt: skip
        print("RESULT " + json.dumps(res, ensure_ascii=False))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    runs = [(n, st, False) for n in args.sizes.split(",") for st in args.staffing.split(",")]
    runs += [(n, "local", True) for n in args.infeasible.split(",") if n]
    for name, staffing, infeasible in runs:
        folder, gen = generate(name, args.workdir, args.quarterly_cap, args.tightness, staffing)
        plan = infeasible_plan(folder) if infeasible else folder / "plan.yaml"
        cmd = [sys.executable, __file__, "--one", str(folder), str(plan), "--seed", args.seed,
               "--executor", args.executor, "--sample", str(args.sample)] + (["--pss"] if args.pss else [])  # fmt: skip
        cmd += ["--no-baseline"] if args.no_baseline or infeasible else []
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ})
        line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
        label = f"{name} {staffing}" + (" INFEASIBLE (joint tasks ratio 1)" if infeasible else "")
        if done.returncode != 0 or line is None:
            print(f"{label}: failed (exit {done.returncode})\n{done.stderr[-3000:]}")
            continue
        res = json.loads(line.removeprefix("RESULT "))
        res["generate"] = gen
        if res.get("infeasible"):
            print(f"\n== {label}: exit 3 after {res['plan_seconds']} s, peak {res['peak_gib']} GiB "
                  f"(in {res['peak_stage']}), executor {res['executor']}")  # fmt: skip
            for stage, st_ in res["stages"].items():
                print(f"   {stage:<10}{st_['seconds']:>9.1f}{st_['peak_gib']:>10.2f}")
            print(f"   {len(res['reasons'])} reasons, first: {res['reasons'][:3]}")
            continue
        rows.append((label, res))
        print(f"\n== {label}: {res['enterprises']:,} enterprises, {res['inspectors']:,} inspectors, "
              f"{res['visits']:,} visits ({res['selected']:,} drawn), executor {res['executor']}")  # fmt: skip
        if gen:
            print(f"   generate: {gen['seconds']} s, peak {gen['peak_gib']} GiB")
        print(f"   {'stage':<10}{'wall s':>9}{'peak GiB':>10}")
        for stage, st_ in res["stages"].items():
            print(f"   {stage:<10}{st_['seconds']:>9.1f}{st_['peak_gib']:>10.2f}")
        print(
            f"   plan (import..outputs) {res['plan_seconds']} s, peak {res['peak_gib']} GiB, in stage {res['peak_stage']}"
        )
        print(
            f"   max pair probability {res['max_pair_probability']:.3f} ({res['pairs_over_cap']} pairs over the cap)"
        )
        print(f"   rule checker: {res['violations']} violations in {res['checked_visits']:,} sampled visits "
              f"plus every inspector's caps")  # fmt: skip
        for v in res["violation_examples"]:
            print(f"     e.g. {v}")
        if res["baseline_unfilled_places"] >= 0:
            print(f"   greedy baseline (least-loaded eligible, pair probability 1): staffing {res['baseline_seconds']} s, "
                  f"{res['baseline_unfilled_places']} places it could not fill")  # fmt: skip
    if len(rows) > 1:
        base_name, base = rows[0]
        print(f"\ngrowth relative to {base_name} (enterprises x, plan time x, peak memory x):")
        for name, r in rows[1:]:
            print(f"   {name}: {r['enterprises'] / base['enterprises']:.1f}x enterprises, "
                  f"{r['visits'] / base['visits']:.1f}x visits, {r['plan_seconds'] / base['plan_seconds']:.1f}x time, "
                  f"{r['peak_gib'] / base['peak_gib']:.1f}x memory")  # fmt: skip


if __name__ == "__main__":
    main()
