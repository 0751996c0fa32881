"""A province staffed ``local`` (the province's and cities' own staff may go anywhere in their
jurisdiction): its one pool is split by region, the shared inspectors' capacity divided first
by a small flow on aggregated demand; then every region part is solved and drawn on its own.
The threshold is lowered so a small province splits."""

from __future__ import annotations

import json

import numpy as np
import pytest

import scheduler.staffing as st
from data.generate import generate_registry
from scheduler.checks import check_visits
from scheduler.draw import draw
from scheduler.executor import make_executor
from scheduler.importer import load_registry
from scheduler.outputs import write_outputs
from scheduler.pipeline import plan_days, run_plan
from scheduler.plan import load_plan
from scheduler.visits import build_visits
from scheduler.workdays import WorkCalendar

SEED = "split-test"


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    d = generate_registry(
        tmp_path_factory.mktemp("local"),
        enterprises=12_000,
        inspectors=160,
        cities=2,
        counties_per_city=2,
        seed=5,
        province_staffing="local",
    )
    assert "staffing: local" in (d / "plan.yaml").read_text(encoding="utf-8")
    return d, d / "plan.yaml"


@pytest.fixture(scope="module")
def lotteries(province):
    """The same plan's lottery in one flow and split by region."""
    d, plan_file = province
    registry, plan = load_registry(d), load_plan(plan_file)
    _, selection, _ = draw(plan, registry, SEED)
    visits = build_visits(plan, registry, selection)
    roster = st.build_roster(plan, registry, plan_days(plan, WorkCalendar()))
    elig = st.eligibility(plan, registry, visits, roster)
    whole = st.solve_lottery(plan, registry, visits, roster, elig, split_above=10**12)
    split = st.solve_lottery(plan, registry, visits, roster, elig, split_above=0)
    return plan, registry, visits, roster, whole, split


def test_the_local_province_is_one_pool_until_split(lotteries):
    plan, registry, visits, roster, whole, split = lotteries
    assert len(split.parts) > len(whole.parts)
    regions, _ = st.visit_regions(registry, visits)
    seen: dict[int, int] = {}
    for p in split.parts:
        for i in p.inspectors.tolist():
            seen[i] = seen.get(i, 0) + 1
    shared = sum(1 for n in seen.values() if n > 1)
    assert shared > 0  # the province's and cities' staff are in several parts
    for p in split.parts:  # every part lies in one region
        assert len(np.unique(regions[p.visits])) == 1, p.label
    assert any(len(np.unique(regions[p.visits])) > 1 for p in whole.parts)


def test_split_keeps_every_guarantee(lotteries):
    plan, registry, visits, roster, _, split = lotteries
    q = plan.policy.pair_probability_cap
    m = split.marginals
    for p in split.parts:  # every pair under the cap, except at visits with too few candidates
        over = p.marginals.pair_flow > q * st.UNIT
        assert p.tight_visit[p.marginals.pair_visit[over]].all()
    per_visit = np.bincount(m.pair_visit, weights=m.pair_flow, minlength=len(visits))
    assert np.array_equal(per_visit.astype(np.int64), np.diff(split.elig.visit_ptr) * st.UNIT)
    # shares never exceed an inspector's capacity, summed over its parts
    total = np.zeros(len(roster.inspectors), dtype=np.int64)
    for p in split.parts:
        total[p.inspectors] += p.problem.caps
        assert (p.marginals.load <= p.problem.caps * st.UNIT).all()
    assert (total <= roster.cap).all()
    for seed in ("a", "b"):
        teams, stats = st.draw_teams(split, seed)
        assert all(len(t) == len(set(t)) >= plan.policy.team_size for t in teams)
        load = np.array([stats.load[i.inspector_id] for i in roster.inspectors])
        assert (load <= roster.cap).all()


def test_split_costs_little_balance(lotteries):
    """Expected loads split against one flow: the busiest inspector at most one visit busier,
    and within every agency the spread at most one visit wider."""
    _, _, _, roster, whole, split = lotteries
    w, s = whole.marginals.load / st.UNIT, split.marginals.load / st.UNIT
    assert s.max() <= w.max() + 1
    agency = np.array([i.agency_id for i in roster.inspectors])
    for a in np.unique(agency):
        m = agency == a
        assert np.ptp(s[m]) <= np.ptp(w[m]) + 1, a


def test_split_rules_hold_and_bytes_do_not_depend_on_the_executor(province, tmp_path, monkeypatch):
    d, plan_file = province
    monkeypatch.setattr(st, "SPLIT_ABOVE", 0)
    hashes = []
    for spec in ("local", "processes:2"):
        ex = make_executor(spec)
        try:
            result = run_plan(d, plan_file, SEED, executor=ex)
        finally:
            ex.close()
        registry, plan = load_registry(d), load_plan(plan_file)
        assert check_visits(plan, registry, result.visits) == []  # slots, conflicts, caps, dates
        st_ = result.staffing  # pairs over the cap only where too few candidates, and named
        assert st_.max_pair_probability <= plan.policy.pair_probability_cap or st_.visits_over_cap
        out = tmp_path / spec.replace(":", "_")
        write_outputs(result, out, d, plan_file)
        hashes.append(json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"])
    assert hashes[0] == hashes[1]


def test_a_shared_inspector_short_for_two_regions_is_found_by_the_split_before_any_flow(monkeypatch):
    """Y (province staff, food and special equipment, 8 visits) is needed by county 130123's
    food visits (with X, 5) and county 130124's special-equipment visits (with Z, 5): each
    task alone counts 13 holders' visits for 10 places, but Y cannot give 10 to both."""
    monkeypatch.setenv("RANDINSPECT_LANG", "en")  # pins the English text
    from scheduler.errors import InfeasibleError
    from tests import factories as f

    monkeypatch.setattr(st, "solve_part", lambda *a: (_ for _ in ()).throw(AssertionError("flow built")))
    x = f.inspector("X", "SJ130123", specialties=frozenset({"food"}), quarterly_cap=5)
    y = f.inspector("Y", "SJ130000", specialties=frozenset({"food", "special_equipment"}), quarterly_cap=8)
    z = f.inspector("Z", "SJ130124", specialties=frozenset({"special_equipment"}), quarterly_cap=5)
    general = [
        f.inspector(f"G{k}", "SJ130123" if k < 5 else "SJ130124", specialties=frozenset()) for k in range(10)
    ]
    reg = f.registry(20, [x, y, z, *general])
    reg.enterprises["industry"] = ["H6210"] * 10 + ["C13"] * 10
    reg.enterprises.loc[10:, "region_code"] = "130124"
    win = {"start": "2026-01-05", "end": "2026-03-31"}
    all_ = {"A": 1, "B": 1, "C": 1, "D": 1}
    base = {"agency_id": "SJ130000", "staffing": "local", "ratio": all_, "window": win}
    plan = f.plan(
        [
            {**base, "task_id": "P-F", "specialty": "food", "population": {"industries": ["H62"]}},
            {
                **base,
                "task_id": "P-S",
                "specialty": "special_equipment",
                "population": {"industries": ["C13"]},
            },
        ]
    )
    _, selection, _ = draw(plan, reg, "s")
    visits = build_visits(plan, reg, selection)
    roster = st.build_roster(plan, reg, plan_days(plan, WorkCalendar()))
    elig = st.eligibility(plan, reg, visits, roster)
    assert st.count_shortages(plan, visits, roster, elig) == []  # each task alone has enough
    with pytest.raises(InfeasibleError) as err:
        st.solve_lottery(plan, reg, visits, roster, elig, split_above=0)
    msg = str(err.value)
    assert (
        "visits in region 130123 need a food inspector" in msg
        or "visits in region 130124 need a special" in msg
    )
    assert "the inspectors they share with other regions can give them at most" in msg
