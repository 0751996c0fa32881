"""Dependent rounding: whole, conserving, and exact in its marginals."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.lottery import random_stream, round_flow

UNIT = 100
# source 0 -> inspectors 1..3 -> slots 4, 5 (each slot needs exactly one unit)
TAILS = [0, 0, 0, 1, 1, 2, 2, 3, 3]
HEADS = [1, 2, 3, 4, 5, 4, 5, 4, 5]
VALUES = [60, 70, 70, 30, 30, 40, 30, 30, 40]


def test_result_is_whole_and_conserves_flow():
    for s in range(200):
        r = round_flow(TAILS, HEADS, VALUES, UNIT, f"s{s}")
        assert all(v % UNIT == 0 for v in r)
        assert r[3] + r[5] + r[7] == UNIT and r[4] + r[6] + r[8] == UNIT
        for i, (a, b) in enumerate([(3, 4), (5, 6), (7, 8)]):
            assert r[i] == r[a] + r[b]
            assert r[i] in (0, UNIT)  # floor or ceiling of 0.6 / 0.7


def test_marginals_are_exact_within_sampling_error():
    n = 3000
    counts = Counter()
    for s in range(n):
        r = round_flow(TAILS, HEADS, VALUES, UNIT, f"m{s}")
        counts.update(e for e, v in enumerate(r) if v)
    for e, v in enumerate(VALUES):
        p = v / UNIT
        sd = math.sqrt(p * (1 - p) / n)
        assert abs(counts[e] / n - p) < 4.5 * sd, (e, counts[e] / n, p)


def test_same_stream_same_result():
    a = round_flow(TAILS, HEADS, VALUES, UNIT, "k")
    assert a == round_flow(TAILS, HEADS, VALUES, UNIT, "k")


def test_a_node_with_one_fractional_edge_is_refused():
    with pytest.raises(ValueError, match="node 0 has exactly one fractional edge"):
        round_flow([0, 1], [1, 2], [50, 100], UNIT, "k")


def test_compiled_and_plain_python_agree_exactly():
    for s in range(50):
        a = round_flow(TAILS, HEADS, VALUES, UNIT, f"c{s}", compiled=True)
        assert a == round_flow(TAILS, HEADS, VALUES, UNIT, f"c{s}", compiled=False)


def test_random_stream_is_splitmix64_of_the_key():
    import hashlib

    state = int.from_bytes(hashlib.sha256(b"k").digest()[:8], "big")
    mask = (1 << 64) - 1
    z = (state + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    z ^= z >> 31
    assert random_stream("k", 3)[0] == z >> 24


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 3), min_size=3, max_size=3), min_size=2, max_size=6), st.text(max_size=5)
)
def test_random_bipartite_assignments_round_to_valid_ones(weights, key):
    """Slots each spread one unit over three inspectors; rounding keeps one per slot."""
    n_slots = len(weights)
    tails, heads, values = [], [], []
    loads = [0, 0, 0]
    for s, w in enumerate(weights):
        w = [x + 1 for x in w]
        total = sum(w)
        shares = [UNIT * x // total for x in w]
        shares[0] += UNIT - sum(shares)
        for i, share in enumerate(shares):
            tails.append(1 + i)
            heads.append(4 + s)
            values.append(share)
            loads[i] += share
    tails = [0, 0, 0] + tails
    heads = [1, 2, 3] + heads
    values = loads + values
    r = round_flow(tails, heads, values, UNIT, key)
    for s in range(n_slots):
        assert sum(r[3 + 3 * s + i] for i in range(3)) == UNIT
    for i in range(3):
        assert r[i] in (loads[i] // UNIT * UNIT, -(-loads[i] // UNIT) * UNIT)


def dense_instance(n_visits=40, n_inspectors=12, seed=3):
    """The bench's dense instance, small: everyone eligible everywhere, 2 % declared conflicts,
    a fifth of the visits need ``food``, held by 30 % of the inspectors (nested slots)."""
    import numpy as np

    from scheduler.draw import draw
    from scheduler.pipeline import plan_days
    from scheduler.registry import Conflict
    from scheduler.staffing import build_roster
    from scheduler.visits import build_visits
    from scheduler.workdays import WorkCalendar
    from tests import factories as f

    rng = np.random.default_rng(seed)
    holders = set(rng.choice(n_inspectors, int(0.3 * n_inspectors), replace=False).tolist())
    ins = [
        f.inspector(f"I{k:02d}", specialties=frozenset({"food", "general"} if k in holders else {"general"}))
        for k in range(n_inspectors)
    ]
    codes = [f.code(k) for k in range(n_visits)]
    flat = rng.choice(n_visits * n_inspectors, int(0.02 * n_visits * n_inspectors), replace=False)
    conflicts = [Conflict(f"I{i % n_inspectors:02d}", codes[i // n_inspectors]) for i in flat.tolist()]
    reg = f.registry(n_visits, ins, conflicts=conflicts)
    reg.enterprises["industry"] = ["H6210"] * (n_visits // 5) + ["C13"] * (n_visits - n_visits // 5)
    win = {"start": "2026-01-05", "end": "2026-03-31"}
    all_ = {c: 1 for c in "ABCD"}
    p = f.plan(
        [
            {
                "task_id": "TF",
                "agency_id": "SJ130123",
                "ratio": all_,
                "window": win,
                "specialty": "food",
                "population": {"industries": ["H62"]},
            },
            {
                "task_id": "TG",
                "agency_id": "SJ130123",
                "ratio": all_,
                "window": win,
                "population": {"industries": ["C13"]},
            },
        ],
        quarterly_cap=12,
    )
    _, selection, _ = draw(p, reg, "s")
    visits = build_visits(p, reg, selection)
    roster = build_roster(p, reg, plan_days(p, WorkCalendar()))
    return p, reg, visits, roster, holders, {(c.inspector_id, c.credit_code) for c in conflicts}


def test_dense_instance_keeps_every_guarantee_and_draws_each_pair_with_its_marginal():
    import numpy as np

    from scheduler import fairness as fz
    from scheduler.staffing import UNIT

    p, reg, visits, roster, holders, conflicts = dense_instance()
    freq = fz.pair_frequencies(p, reg, visits, roster, [f"d{k}" for k in range(300)])
    t = freq.table
    assert t["marginal"].max() <= p.policy.pair_probability_cap
    # every visit's team: team_size members in every seed; its pairs' marginals sum to it
    assert (t.groupby("visit_id")["marginal"].sum().round(6) == p.policy.team_size).all()
    assert t["chosen"].sum() == len(visits) * p.policy.team_size * 300
    # no declared conflict is even a candidate
    code = {v.visit_id: v.credit_code for v in visits}
    assert not any((i, code[v]) in conflicts for i, v in zip(t["inspector_id"], t["visit_id"], strict=True))
    assert fz.pair_test(freq, 1e-3).passed
    # expected loads balanced among inspectors alike (holders / the others) within a quarter visit
    load = np.array([freq.stats.expected_load[i.inspector_id] for i in roster.inspectors])
    h = np.array([k in holders for k in range(len(load))])
    assert load[h].max() - load[h].min() <= 0.25 + 1e-9 and load[~h].max() - load[~h].min() <= 0.25 + 1e-9
    # realised loads on the floor or ceiling of their expectation, within the caps
    got = np.array([freq.stats.load[i.inspector_id] for i in roster.inspectors])
    assert ((got >= np.floor(load - 1e-9)) & (got <= np.ceil(load + 1e-9))).all()
    assert (got <= roster.cap).all()
    # spread: no pair above its free share, 2 / |candidates| of each slot it fits (rounded up)
    lot = fz.solve_lottery(p, reg, visits, roster)
    share: dict[tuple[int, int], int] = {}
    for k in range(lot.elig.n_slots):
        c = lot.elig.candidates(k)
        for i in c.tolist():
            key = (i, int(lot.elig.slot_visit[k]))
            share[key] = share.get(key, 0) + -(-2 * UNIT // len(c))
    m = lot.marginals
    for i, v, flow in zip(
        m.pair_inspector.tolist(), m.pair_visit.tolist(), m.pair_flow.tolist(), strict=True
    ):
        assert flow <= share[(i, v)], (i, v, flow, share[(i, v)])


def test_dense_instance_every_food_visit_gets_a_holder_in_its_specialty_slot():
    from scheduler.staffing import staff

    p, reg, visits, roster, holders, _ = dense_instance()
    for seed in ("a", "b", "c", "d"):
        teams, _ = staff(p, reg, visits, roster, seed)
        for v, team in zip(visits, teams, strict=True):
            if "TF" in v.task_ids:
                assert int(team[0][1:]) in holders, (v.visit_id, team)
            assert len(set(team)) == len(team) == 2
