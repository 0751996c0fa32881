"""The team lottery at the size of its limit (issue 14): a dense instance, every stage timed,
every guarantee checked, next to a plain linear-cost flow with the same pair cap.

    .venv/bin/python bench/lottery.py [--visits 5000] [--inspectors 300] [--seed s]

The instance: one county, ``--visits`` enterprises each drawn once (ratio 1), ``--inspectors``
certified inspectors of the county bureau, all available all quarter (nearly everyone eligible
for every visit); 2 % of (inspector, enterprise) pairs are declared conflicts (回避); a fifth of
the enterprises are restaurants whose task needs the ``food`` specialty, held by 30 % of the
inspectors. Team size 2, so 2 slots per visit and about 2.5 M candidate edges at 5,000 × 300,
all in one part.

Stages: ``eligibility`` (slots and candidates), ``flow`` (the marginals), ``rounding`` (the
seed's draw; numba's compiled walk is loaded from its cache before timing, as any earlier part
of a run would have). The plain flow is what a lottery without balance or spread costs: one arc per
(inspector, visit) pair capped at ``pair_probability_cap``, linear cost, then the same dependent
rounding. Guarantees checked on the real lottery's output: every slot filled with one candidate,
no declared conflict on a team, no inspector twice on a team, every pair's probability at most
the cap and equal to the flow the rounding was given (the marginals are exact by construction of
the rounding, whose frequencies are tested in tests/scheduler/test_lottery.py), every realised
load the floor or ceiling of its expectation and within the cap, expected loads balanced
(spread between the most and least loaded inspector of the same kind), each slot spread over its
candidates (the largest single probability in a slot, and the effective number of candidates
1 / Σ p²).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduler.draw import draw  # noqa: E402
from scheduler.pipeline import plan_days  # noqa: E402
from scheduler.plan import parse_plan  # noqa: E402
from scheduler.registry import HISTORY_COLUMNS, Agency, Conflict, Inspector, Level, Registry  # noqa: E402
from scheduler.staffing import SPREAD, UNIT, build_roster, draw_teams, eligibility, solve_lottery  # noqa: E402
from scheduler.uscc import make_code  # noqa: E402
from scheduler.visits import build_visits  # noqa: E402
from scheduler.workdays import WorkCalendar  # noqa: E402


def instance(n_visits: int, n_inspectors: int, conflict_rate: float = 0.02, seed: int = 7):
    """Registry and plan of the dense instance (see the module docstring)."""
    rng = np.random.default_rng(seed)
    agency = Agency("SJ130123", "正定县市场监督管理局", "market", Level.COUNTY, None, "130123")
    n_food = n_visits // 5
    codes = [make_code(f"9113012{k:09d}X"[:17]) for k in range(n_visits)]
    ent = pd.DataFrame(
        {
            "credit_code": codes,
            "name": [f"企业{k}" for k in range(n_visits)],
            "region_code": "130123",
            "industry": ["H6210"] * n_food + ["C13"] * (n_visits - n_food),
            "risk_class": "B",
            "key_area": False,
            "abnormal": False,
            "complaints": 0,
            "status": "active",
            "legal_rep_id": [f"LR{k:06d}" for k in range(n_visits)],
            "address": "",
            "lat": 38.15 + rng.random(n_visits) * 0.1,
            "lon": 114.57 + rng.random(n_visits) * 0.1,
        }
    )
    holders = set(rng.choice(n_inspectors, size=int(0.3 * n_inspectors), replace=False).tolist())
    inspectors = [
        Inspector(
            f"I{k:04d}",
            f"检查员{k}",
            "SJ130123",
            certificate_no=f"CERT-{k}",
            certificate_expiry=dt.date(2030, 1, 1),
            specialties=frozenset({"food", "general"} if k in holders else {"general"}),
        )
        for k in range(n_inspectors)
    ]
    n_conf = int(conflict_rate * n_visits * n_inspectors)
    flat = rng.choice(n_visits * n_inspectors, size=n_conf, replace=False)
    conflicts = [
        Conflict(f"I{i % n_inspectors:04d}", codes[i // n_inspectors], "亲属") for i in flat.tolist()
    ]
    registry = Registry(
        agencies={agency.agency_id: agency},
        enterprises=ent,
        inspectors={i.inspector_id: i for i in inspectors},
        conflicts=conflicts,
        history=pd.DataFrame(columns=HISTORY_COLUMNS),
        leave=[],
        items={},
    )
    window = {"start": "2026-01-05", "end": "2026-03-31"}
    all_ = {c: 1 for c in "ABCD"}
    cap = int(np.ceil(2 * n_visits / n_inspectors * 1.5))
    plan = parse_plan(
        {
            "quarter": "2026Q1",
            "policy": {"quarterly_cap": cap, "daily_cap": 4},
            "tasks": [
                {
                    "task_id": "T-FOOD",
                    "agency_id": "SJ130123",
                    "ratio": all_,
                    "window": window,
                    "specialty": "food",
                    "population": {"industries": ["H62"]},
                },
                {
                    "task_id": "T-GEN",
                    "agency_id": "SJ130123",
                    "ratio": all_,
                    "window": window,
                    "population": {"industries": ["C13"]},
                },
            ],
        },
        "plan.yaml",
    )
    return registry, plan


def plain_flow(elig, roster, q: float, key: str) -> tuple[float, float]:
    """Seconds for a plain linear-cost flow (one arc per pair, capped at q, no balance or spread
    cost) and for the same dependent rounding on its result."""
    from ortools.graph.python import min_cost_flow  # the bench's own baseline, not the product's

    from scheduler.lottery import round_flow

    t0 = time.perf_counter()
    n_i = len(roster.inspectors)
    sizes = elig.slot_sizes()
    edge_slot = np.repeat(np.arange(elig.n_slots), sizes)
    edge_visit = elig.slot_visit[edge_slot]
    cand = elig.cand.astype(np.int64)
    key_ = np.unique(edge_visit * n_i + cand)
    p_visit, p_insp = key_ // n_i, key_ % n_i
    nv = len(elig.visit_ptr) - 1
    team = np.diff(elig.visit_ptr)
    # source 0 -> inspectors -> visits (team places) -> sink; specialty ignored (a plain flow).
    src, insp0, visit0 = 0, 1, 1 + n_i
    sink = visit0 + nv
    tails = np.concatenate([np.zeros(n_i, np.int64), insp0 + p_insp, visit0 + np.arange(nv)])
    heads = np.concatenate([insp0 + np.arange(n_i), visit0 + p_visit, np.full(nv, sink)])
    caps = np.concatenate([roster.cap * UNIT, np.full(len(p_insp), int(q * UNIT)), team * UNIT])
    costs = np.concatenate([np.zeros(n_i, np.int64), np.ones(len(p_insp), np.int64), np.zeros(nv, np.int64)])
    mcf = min_cost_flow.SimpleMinCostFlow()
    arcs = mcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    supply = np.zeros(sink + 1, np.int64)
    supply[src], supply[sink] = int(team.sum()) * UNIT, -int(team.sum()) * UNIT
    mcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supply)
    assert mcf.solve() == mcf.OPTIMAL
    flows = mcf.flows(arcs)
    t1 = time.perf_counter()
    round_flow(tails, heads, flows, UNIT, key)
    return t1 - t0, time.perf_counter() - t1


def check(lottery, teams, stats, registry, plan) -> list[str]:
    """Every guarantee, on the lottery's own arrays: returns the failures (empty: all hold)."""
    bad: list[str] = []
    elig, roster, visits = lottery.elig, lottery.roster, lottery.visits
    q = plan.policy.pair_probability_cap
    m = lottery.marginals
    idx = roster.index
    # every slot filled by one of its candidates; nobody twice; no declared conflict
    conflicts = {(c.inspector_id, c.credit_code) for c in registry.conflicts}
    for vi, team in enumerate(teams):
        slots = range(int(elig.visit_ptr[vi]), int(elig.visit_ptr[vi + 1]))
        if len(team) != len(slots) or len(set(team)) != len(team):
            bad.append(f"visit {visits[vi].visit_id}: team {team}")
        for s, iid in zip(slots, team, strict=False):
            if idx[iid] not in set(elig.candidates(s).tolist()):
                bad.append(f"visit {visits[vi].visit_id}: {iid} not a candidate of slot {s}")
            if (iid, visits[vi].credit_code) in conflicts:
                bad.append(f"visit {visits[vi].visit_id}: {iid} has a declared conflict")
    # pair probabilities: at most the cap; each visit's sum is its team size
    if m.pair_flow.max(initial=0) > q * UNIT:
        bad.append(f"pair probability {m.pair_flow.max() / UNIT} over the cap {q}")
    per_visit = np.bincount(m.pair_visit, weights=m.pair_flow, minlength=len(visits))
    if not np.array_equal(per_visit.astype(np.int64), np.diff(elig.visit_ptr) * UNIT):
        bad.append("a visit's pair probabilities do not sum to its team size")
    # realised load: floor or ceiling of the expectation, within the cap
    exp = np.array([stats.expected_load[i.inspector_id] for i in roster.inspectors])
    got = np.array([stats.load[i.inspector_id] for i in roster.inspectors])
    if ((got < np.floor(exp - 1e-9)) | (got > np.ceil(exp + 1e-9))).any():
        bad.append("a realised load is not the floor or ceiling of its expectation")
    if (got > roster.cap).any():
        bad.append("a quarterly cap exceeded")
    return bad


def spread_figures(lottery, holders: np.ndarray, plan_cap: float) -> dict:
    """Expected-load spread per kind of inspector, and how each slot is spread."""
    m, elig = lottery.marginals, lottery.elig
    load = m.load / UNIT
    out = {
        "load spread, holders": float(load[holders].max() - load[holders].min()) if holders.any() else 0.0,
        "load spread, others": float(load[~holders].max() - load[~holders].min())
        if (~holders).any()
        else 0.0,
    }
    # each pair against its fair share: the sum over the slots it fits of SPREAD / |candidates|
    sizes = elig.slot_sizes()
    edge_slot = np.repeat(np.arange(elig.n_slots), sizes)
    n_i = len(lottery.roster.inspectors)
    key = elig.slot_visit[edge_slot] * n_i + elig.cand
    order = np.argsort(key, kind="stable")
    uniq, start = np.unique(key[order], return_index=True)
    share = np.add.reduceat((-(-SPREAD * UNIT // sizes[edge_slot]))[order], start)  # units
    pos = np.searchsorted(uniq, m.pair_visit.astype(np.int64) * n_i + m.pair_inspector)
    p = m.pair_flow / UNIT
    within = m.pair_flow <= np.minimum(share[pos], plan_cap * UNIT)
    out["pairs within their free share (sum over its slots of SPREAD / |candidates|)"] = (
        f"{within.mean():.4f}"
    )
    out["largest pair probability / its free share"] = f"{(m.pair_flow / share[pos]).max():.2f}"
    nv = len(elig.visit_ptr) - 1
    sq = np.bincount(m.pair_visit, weights=p**2, minlength=nv)
    team = np.diff(elig.visit_ptr)
    eff = team**2 / sq  # effective number of inspectors a visit's team is drawn from
    ncand = np.bincount(m.pair_visit, minlength=nv)
    out["largest pair probability"] = float(p.max())
    out["effective candidates per visit (team^2 / sum p^2), min / median"] = (
        round(float(eff.min()), 1),
        round(float(np.median(eff)), 1),
    )
    out["candidates per visit, median"] = float(np.median(ncand))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--visits", type=int, default=5000)
    ap.add_argument("--inspectors", type=int, default=300)
    ap.add_argument("--seed", default="s")
    args = ap.parse_args()
    t = time.perf_counter()
    registry, plan = instance(args.visits, args.inspectors)
    _, selection, _ = draw(plan, registry, args.seed)
    visits = build_visits(plan, registry, selection)
    roster = build_roster(plan, registry, plan_days(plan, WorkCalendar()))
    print(
        f"instance: {len(visits)} visits x {len(roster.inspectors)} inspectors, "
        f"{len(registry.conflicts)} declared conflicts ({time.perf_counter() - t:.1f} s to build)"
    )
    from scheduler.lottery import round_flow

    round_flow([0, 0, 1, 2], [1, 2, 3, 3], [50, 50, 50, 50], 100, "warm")  # load numba's compiled walk
    times = {}
    t = time.perf_counter()
    elig = eligibility(plan, registry, visits, roster)
    times["eligibility"] = time.perf_counter() - t
    print(f"  {elig.n_slots} slots, {len(elig.cand)} candidate edges")
    t = time.perf_counter()
    lottery = solve_lottery(plan, registry, visits, roster, elig)
    times["flow (marginals)"] = time.perf_counter() - t
    t = time.perf_counter()
    teams, stats = draw_teams(lottery, args.seed)
    times["rounding"] = time.perf_counter() - t
    plain = plain_flow(elig, roster, plan.policy.pair_probability_cap, "plain")
    for name, s in times.items():
        print(f"  {name:<22} {s:7.2f} s")
    print(f"  {'flow + rounding':<22} {times['flow (marginals)'] + times['rounding']:7.2f} s")
    print(
        f"  plain linear-cost flow {plain[0]:7.2f} s, its rounding {plain[1]:.2f} s, "
        f"together {sum(plain):.2f} s"
    )
    holders = np.array(["food" in i.specialties for i in roster.inspectors])
    for k, v in spread_figures(lottery, holders, plan.policy.pair_probability_cap).items():
        print(f"  {k}: {v}")
    bad = check(lottery, teams, stats, registry, plan)
    print("guarantees: " + ("all hold" if not bad else f"{len(bad)} FAILURES, e.g. {bad[:3]}"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
