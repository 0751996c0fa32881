"""The min-cost-flow marginals: every slot filled, caps kept, loads balanced."""

from __future__ import annotations

import numpy as np

from solver.marginals import MarginalProblem, solve_marginals
from solver.status import SolveStatus

UNIT = 1000


def problem(n_insp=6, n_visits=9, caps=None, pair_cap=None, edge_cap=None):
    # two slots per visit, every inspector fits both
    slot_visit = np.repeat(np.arange(n_visits), 2)
    edge_inspector = np.tile(np.arange(n_insp), 2 * n_visits)
    edge_slot = np.repeat(np.arange(2 * n_visits), n_insp)
    n_pairs = n_insp * n_visits
    return MarginalProblem(
        n_inspectors=n_insp,
        n_slots=2 * n_visits,
        slot_visit=slot_visit,
        edge_inspector=edge_inspector,
        edge_slot=edge_slot,
        edge_cap=np.full(len(edge_slot), edge_cap or UNIT),
        pair_cap=np.full(n_pairs, pair_cap or UNIT),
        caps=np.array(caps or [10] * n_insp),
        unit=UNIT,
        segment=UNIT // 4,
    )


def test_slots_filled_caps_kept_loads_balanced():
    p = problem(pair_cap=UNIT // 2, edge_cap=UNIT // 3)
    m = solve_marginals(p)
    assert m.status is SolveStatus.OPTIMAL
    per_slot = np.bincount(p.edge_slot, weights=m.edge_flow, minlength=p.n_slots)
    assert (per_slot == UNIT).all()
    assert (m.pair_flow <= UNIT // 2).all()
    assert (m.edge_flow <= UNIT // 3 + 1).all()
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
