"""Writing a run's folder at scale: wall time and peak memory per kind of file, and the rule checker.

    .venv/bin/python bench/outputs.py REGISTRY_DIR [--plan PLAN] [--seed S] [--result FILE.pkl]
                                      [--visits N] [--check-sample 20000] [--workdir DIR] [--keep]

Runs the plan (or loads a pickled PlanResult from --result; one is written there after a run),
optionally grows it to --visits N synthetically (see :func:`scale_result`: measuring only, the
grown plan breaks rules), then writes the output folder once with ``write_outputs`` and prints,
per stage (lookup of the visited enterprises, selection.csv, visits.csv, publication.csv,
strata.csv, notices/, report.html, manifest hashes, move into place), the wall time, the time
per visit and the peak resident memory above what the process held when the stage began
(Linux: the peak is reset between stages through /proc/self/clear_refs). Then times
``check_visits`` on a deterministic sample (--check-sample, 0 for every visit) with every
per-inspector cap checked over all visits.

The lead engineer's province run: ``bench/outputs.py REGISTRY_10M --result r10m.pkl``.

Creating the 300,000 notice files is most of the time on disk, and it varies tenfold on this VM
(ext4 mounted with ``discard``): 15-40 µs a file on a quiet disk, 150 µs right after a large
folder was deleted (the previous run's, by this script without --keep). ``--workdir /dev/shm``
measures everything but the disk.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import pickle
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from scheduler.checks import check_visits
from scheduler.outputs import write_outputs
from scheduler.pipeline import run_plan
from scheduler.plan_run import PlanResult


def _status() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MiB."""
    cur = hwm = 0.0
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return cur, hwm


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def scale_result(result: PlanResult, n: int) -> PlanResult:
    """``result`` grown to ``n`` visits by copying its visits (ids ``<id>-R<k>``) onto other active
    enterprises of the registry (a fixed shuffle) with copies of the roster (``<id>-R<k>``,
    same agency, caps and loads), and the selection rows with them. For measuring the writers
    only: the copies ignore windows, populations and dedup."""
    base = result.visits
    if n <= len(base):
        return dataclasses.replace(result, visits=base[:n])
    reg, st = result.registry, result.staffing
    ent = reg.enterprises
    used = {v.credit_code for v in base}
    pool = ent.loc[(ent["status"] == "active") & ~ent["credit_code"].isin(used), "credit_code"].to_numpy()
    if len(pool) < n - len(base):
        raise SystemExit(f"the registry has {len(pool):,} unvisited enterprises; {n - len(base):,} needed")
    pool = pool[np.random.default_rng(0).permutation(len(pool))][: n - len(base)].tolist()
    codes = iter(pool)
    inspectors = dict(reg.inspectors)
    load, expected, capacity = dict(st.load), dict(st.expected_load), dict(st.capacity)
    by_code: dict[str, list] = {}
    for s in result.selection:
        by_code.setdefault(s.credit_code, []).append(s)
    visits, selection = list(base), list(result.selection)
    for r in range(1, math.ceil(n / len(base))):
        ids = {i: f"{i}-R{r}" for i in reg.inspectors}
        for i, new in ids.items():
            inspectors[new] = dataclasses.replace(reg.inspectors[i], inspector_id=new)
            for table, source in ((load, st.load), (expected, st.expected_load), (capacity, st.capacity)):
                if i in source:
                    table[new] = source[i]
        for v in base[: n - len(visits)]:
            code = next(codes)
            team = tuple(ids.get(i, i) for i in v.inspector_ids)
            visits.append(
                dataclasses.replace(v, visit_id=f"{v.visit_id}-R{r}", credit_code=code, inspector_ids=team)
            )
            selection += [dataclasses.replace(s, credit_code=code) for s in by_code.get(v.credit_code, ())]
    return dataclasses.replace(
        result,
        registry=dataclasses.replace(reg, inspectors=inspectors),
        visits=visits,
        selection=selection,
        staffing=dataclasses.replace(st, load=load, expected_load=expected, capacity=capacity),
    )


class Stages:
    """Receives ``write_outputs``' stage names; times each and records its peak memory."""

    def __init__(self):
        self.rows: list[tuple[str, float, float]] = []
        self.name: str | None = None
        self.exact_peak = _reset_peak()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        if self.name is not None:
            _, hwm = _status()
            self.rows.append((self.name, now - self.t, hwm - self.base))
        self.name = None if name == "done" else name
        if self.name is not None:
            _reset_peak()
            self.base, _ = _status()
            self.t = time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("registry", type=Path)
    ap.add_argument("--plan", type=Path, help="default: REGISTRY/plan.yaml")
    ap.add_argument("--seed", default="bench")
    ap.add_argument(
        "--result", type=Path, help="a pickled PlanResult: loaded if it exists, else written after the run"
    )
    ap.add_argument(
        "--visits", type=int, help="grow the plan to this many visits (synthetic, measuring only)"
    )
    ap.add_argument(
        "--check-sample", type=int, default=20_000, help="visits checked one by one (0: all); -1: skip"
    )
    ap.add_argument("--workdir", type=Path, default=Path(".bench"), help="where the output folder is written")
    ap.add_argument(
        "--keep", action="store_true", help="keep the output folder (else removed: slow for 300k files)"
    )
    args = ap.parse_args()
    plan_file = args.plan or args.registry / "plan.yaml"

    t = time.perf_counter()
    if args.result and args.result.exists():
        with open(args.result, "rb") as fh:
            result = pickle.load(fh)
        print(f"loaded {args.result} in {time.perf_counter() - t:.1f}s")
    else:
        result = run_plan(args.registry, plan_file, args.seed)
        print(
            f"run_plan in {time.perf_counter() - t:.1f}s: "
            + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
        )
        if args.result:
            with open(args.result, "wb") as fh:
                pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
    if args.visits:
        t = time.perf_counter()
        result = scale_result(result, args.visits)
        print(f"grown to {len(result.visits):,} visits (synthetic) in {time.perf_counter() - t:.1f}s")
    n = len(result.visits)
    print(
        f"{len(result.registry.enterprises):,} enterprises, {len(result.registry.inspectors):,} inspectors, "
        f"{n:,} visits, {len(result.selection):,} selected, {len(result.plan.tasks)} tasks"
    )

    args.workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="outputs-", dir=args.workdir))
    stages = Stages()
    rss0, _ = _status()
    t = time.perf_counter()
    out = write_outputs(result, tmp / "out", args.registry, plan_file, on_stage=stages)
    total = time.perf_counter() - t
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    note = "" if stages.exact_peak else "  (no /proc/self/clear_refs: peaks are the process's so far)"
    print(
        f"\nwrite_outputs: {n:,} visits, {size / 2**20:,.0f} MiB written, report {(out / 'report.html').stat().st_size / 2**20:.1f} MiB{note}"
    )
    print(f"{'stage':<12}{'wall s':>9}{'µs/visit':>10}{'peak +MiB':>11}")
    for name, wall, peak in stages.rows:
        print(f"{name:<12}{wall:>9.2f}{wall / max(n, 1) * 1e6:>10.1f}{peak:>11.0f}")
    print(
        f"{'total':<12}{total:>9.2f}{total / max(n, 1) * 1e6:>10.1f}{max(r[2] for r in stages.rows):>11.0f}"
    )
    print(f"process RSS before writing {rss0:,.0f} MiB")
    if args.keep:
        print(f"kept {out}")
    else:
        t = time.perf_counter()
        shutil.rmtree(tmp)
        print(f"(removed the folder in {time.perf_counter() - t:.1f}s)")

    if args.check_sample >= 0:
        sample = args.check_sample or None
        t = time.perf_counter()
        problems = check_visits(result.plan, result.registry, result.visits, sample=sample)
        wall = time.perf_counter() - t
        what = f"{min(sample, n):,} sampled visits" if sample else f"all {n:,} visits"
        print(f"\ncheck_visits ({what}, caps over all {n:,}): {wall:.1f}s, {len(problems):,} violations")
        for line in problems[:5]:
            print(f"  e.g. {line}")


if __name__ == "__main__":
    main()
