"""The ``randinspect`` command line (contract: demo, plan, verify; plus generate).

Exit status: 0 done; 1 verify found a difference; 2 bad input (file, row and
column named); 3 infeasible (task, rule and numbers named).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from scheduler.errors import InfeasibleError, InputError
from scheduler.outputs import compare_outputs, read_manifest, sha256_file, write_outputs
from scheduler.pipeline import run_plan

DEMO_SEED = "randinspect-demo-2026Q1"


def sample_dir() -> Path:
    """The bundled sample county."""
    import data

    return Path(data.__file__).resolve().parent / "sample_county"


def _summary(result, out: Path, seconds: float) -> str:
    s = result.staffing
    loads = [n for i, n in s.load.items() if s.capacity.get(i, 0) > 0 and n > 0]
    lines = [
        f"quarter {result.plan.quarter}, seed {result.seed!r}",
        f"{len(result.selection)} enterprises drawn in {len(result.strata)} strata of {len(result.plan.tasks)} tasks",
        f"{len(result.visits)} visits, teams drawn by lottery: max pair probability "
        f"{s.max_pair_probability:.3f} (cap {s.pair_probability_cap}), inspector loads {min(loads, default=0)}–{max(loads, default=0)}",
        "stages: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()) + f"; total {seconds:.2f}s",
    ]
    lines += [f"warning: {w}" for w in result.warnings]
    lines += [
        f"outputs in {out}:",
        f"  {out / 'selection.csv'}",
        f"  {out / 'visits.csv'}",
        f"  {out / 'publication.csv'}",
        f"  {out / 'notices'}/ ({len(result.visits)} notices)",
        f"  {out / 'report.html'}",
        f"  {out / 'manifest.json'}",
    ]
    return "\n".join(lines)


def cmd_plan(registry: Path, plan_file: Path, seed: str, out: Path, calendar: Path | None) -> int:
    t = time.perf_counter()
    result = run_plan(registry, plan_file, seed, calendar_file=calendar)
    write_outputs(result, out, registry, plan_file)
    print(_summary(result, out.resolve(), time.perf_counter() - t))
    return 0


def cmd_verify(out: Path) -> int:
    manifest = read_manifest(out)
    problems = []
    for table, info in sorted(manifest["inputs"].items()):
        p = Path(info["path"])
        if not p.exists():
            problems.append(f"input {table}: {p} is missing")
        elif sha256_file(p) != info["sha256"]:
            problems.append(f"input {table}: {p} changed since the run")
    plan_path = Path(manifest["plan"]["path"])
    if not plan_path.exists() or sha256_file(plan_path) != manifest["plan"]["sha256"]:
        problems.append(f"plan {plan_path} is missing or changed since the run")
    problems += [f"in {out}: {d}" for d in compare_outputs(manifest["outputs"], Path(out))]
    if not any(p.startswith("input") or p.startswith("plan") for p in problems):
        calendar = manifest["inputs"].get("calendar", {}).get("path")
        result = run_plan(manifest["registry_dir"], plan_path, manifest["seed"], calendar_file=calendar)
        with tempfile.TemporaryDirectory() as tmp:
            rerun = write_outputs(result, Path(tmp) / "rerun", manifest["registry_dir"], plan_path)
            problems += [f"re-run: {d}" for d in compare_outputs(manifest["outputs"], rerun)]
    if problems:
        print("NOT VERIFIED", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(f"verified: re-running seed {manifest['seed']!r} reproduces all {len(manifest['outputs'])} output files byte for byte")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="randinspect", description="双随机、一公开 inspection planning")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the whole job on the bundled sample county")
    demo.add_argument("--out", type=Path, default=Path("randinspect-demo"))
    plan = sub.add_parser("plan", help="draw, staff and schedule a quarterly plan")
    plan.add_argument("registry", type=Path)
    plan.add_argument("plan_file", type=Path)
    plan.add_argument("--seed", required=True)
    plan.add_argument("--out", type=Path, required=True)
    plan.add_argument("--calendar", type=Path, help="working-day calendar file for years the package lacks")
    verify = sub.add_parser("verify", help="re-run from the manifest; exit 0 only if identical")
    verify.add_argument("out", type=Path)
    gen = sub.add_parser("generate", help="write a synthetic registry and plan")
    gen.add_argument("out", type=Path)
    gen.add_argument("--enterprises", type=int, default=50_000)
    gen.add_argument("--inspectors", type=int, default=240)
    gen.add_argument("--cities", type=int, default=1)
    gen.add_argument("--counties-per-city", type=int, default=1)
    gen.add_argument("--quarter", default="2026Q1")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--tightness", type=float, default=0.7)
    gen.add_argument("--format", choices=["csv", "xlsx", "parquet"], default="csv")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            return cmd_plan(sample_dir(), sample_dir() / "plan.yaml", DEMO_SEED, args.out, None)
        if args.command == "plan":
            return cmd_plan(args.registry, args.plan_file, args.seed, args.out, args.calendar)
        if args.command == "verify":
            return cmd_verify(args.out)
        if args.command == "generate":
            from data.generate import generate_registry

            path = generate_registry(
                args.out,
                enterprises=args.enterprises,
                inspectors=args.inspectors,
                cities=args.cities,
                counties_per_city=args.counties_per_city,
                quarter=args.quarter,
                seed=args.seed,
                tightness=args.tightness,
                fmt=args.format,
            )
            print(f"registry and plan written to {path}")
            return 0
    except InputError as exc:
        print(f"bad input ({len(exc.problems)} problems):\n{exc.render()}", file=sys.stderr)
        return 2
    except InfeasibleError as exc:
        print("infeasible plan:\n" + "\n".join(exc.reasons), file=sys.stderr)
        return 3
    except FileNotFoundError as exc:
        print(f"bad input: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
