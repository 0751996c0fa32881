"""The min-cost-flow marginals: every slot filled, caps kept, loads balanced, slots spread;
a visit's nested slots share one node per pair (laminar groups), overlapping ones do not."""

from __future__ import annotations

import numpy as np

from solver.marginals import MarginalProblem, assign_slots, network, solve_marginals
from solver.status import SolveStatus

UNIT = 1000


def problem(n_insp=6, n_visits=9, caps=None, pair_cap=None, slot_cands=None, soft=None):
    """Visits with one slot per entry of ``slot_cands`` (candidate lists; default: two slots
    every inspector fits)."""
    slot_cands = slot_cands or [list(range(n_insp))] * 2
    k = len(slot_cands)
    slot_visit = np.repeat(np.arange(n_visits), k)
    edge_slot = np.concatenate([np.full(len(slot_cands[s % k]), s) for s in range(k * n_visits)])
    edge_inspector = np.concatenate([slot_cands[s % k] for s in range(k * n_visits)])
    sizes = np.bincount(edge_slot)
    return MarginalProblem(
        n_inspectors=n_insp,
        n_slots=k * n_visits,
        slot_visit=slot_visit,
        edge_inspector=edge_inspector,
        edge_slot=edge_slot,
        visit_cap=np.full(n_visits, pair_cap or UNIT),
        caps=np.array(caps or [10] * n_insp),
        unit=UNIT,
        segment=UNIT // 4,
        edge_soft=None if soft is None else -(-soft * UNIT // sizes[edge_slot]),
    )


def per_visit(p, m):
    return np.bincount(m.pair_visit, weights=m.pair_flow, minlength=int(p.slot_visit.max()) + 1)


def test_slots_filled_caps_kept_loads_balanced():
    p = problem(pair_cap=UNIT // 2)
    m = solve_marginals(p)
    assert m.status is SolveStatus.OPTIMAL
    assert (per_visit(p, m) == 2 * UNIT).all()
    assert (m.pair_flow <= UNIT // 2).all()
    assert m.load.max() - m.load.min() <= UNIT // 4  # 18 places over 6 inspectors: 3 each
    assert m.load.sum() == 18 * UNIT


def test_a_pair_never_exceeds_one_visit_even_when_it_fits_two_slots():
    m = solve_marginals(problem(n_insp=2, n_visits=1))
    assert m.status is SolveStatus.OPTIMAL
    assert (m.pair_flow == UNIT).all()


def test_not_enough_capacity_is_infeasible_and_says_how_much_fits():
    m = solve_marginals(problem(n_insp=3, n_visits=5, caps=[2, 2, 2]))
    assert m.status is SolveStatus.INFEASIBLE
    assert m.total_flow == 6 * UNIT


def test_nested_slots_form_one_node_per_pair_and_the_specialty_slot_gets_a_holder():
    # slot 0: holders 0, 1 (the specialty); slot 1: everyone. Laminar: pairs are single arcs.
    p = problem(n_insp=6, n_visits=6, pair_cap=UNIT // 2, slot_cands=[[0, 1], list(range(6))])
    net = network(p)
    assert not net.pair_multi.any()
    assert (net.group_parent[net.slot_group[0::2]] == net.slot_group[1::2]).all()
    m = solve_marginals(p)
    assert m.status is SolveStatus.OPTIMAL
    holders = np.isin(m.pair_inspector, [0, 1])
    assert (np.bincount(m.pair_visit[holders], weights=m.pair_flow[holders]) >= UNIT).all()
    # any whole flow of this network fills the slots: holder in slot 0
    pair_on = np.zeros(len(net.pair_inspector), bool)
    for v in range(6):
        pair_on[(net.pair_visit == v) & np.isin(net.pair_inspector, [v % 2, 2 + v % 4])] = True
    slot_insp = assign_slots(p, net, pair_on, np.zeros(len(net.via), bool))
    assert np.isin(slot_insp[0::2], [0, 1]).all() and (slot_insp[1::2] >= 2).all()


def test_identical_slots_share_one_group():
    net = network(problem(n_insp=4, n_visits=3))
    assert len(net.group_slot) == 3 and (net.group_demand == 2).all()


def test_overlapping_slots_keep_a_node_per_pair_that_fits_both():
    # two specialties, inspector 1 holds both: not laminar
    p = problem(n_insp=4, n_visits=4, slot_cands=[[0, 1], [1, 2, 3]])
    net = network(p)
    assert net.pair_multi.sum() == 4  # inspector 1 on each visit
    m = solve_marginals(p)
    assert m.status is SolveStatus.OPTIMAL
    assert (per_visit(p, m) == 2 * UNIT).all() and (m.pair_flow <= UNIT).all()


def test_spread_each_pair_within_its_free_share_when_balance_allows():
    # 20 inspectors, 10 visits of 2 places: shares of 2 x 1/20 per slot are enough for all
    p = problem(n_insp=20, n_visits=10, pair_cap=UNIT // 2, soft=2)
    m = solve_marginals(p)
    share = 2 * (-(-2 * UNIT // 20))
    assert (m.pair_flow <= share).all()
    assert m.load.max() - m.load.min() <= UNIT // 4
    # without the spread arcs' costs the flow may pile a slot on few inspectors
    lumpy = solve_marginals(problem(n_insp=20, n_visits=10, pair_cap=UNIT // 2))
    assert lumpy.pair_flow.max() > share
