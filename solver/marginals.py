"""Marginal probabilities of the assignment lottery, by min-cost flow.

The network (all amounts in units of ``unit``, one unit = probability
1/``unit``)::

    source -> inspector i            load of i: convex cost segments, total <= cap_i
    inspector i -> slot (v, s)       inspector fits only one slot of v
    inspector i -> pair (i, v)       inspector fits several slots of v; pair cap
    pair (i, v) -> slot (v, s)
    slot (v, s) -> sink              exactly one unit-sum per slot

A feasible flow is a fractional assignment: the flow on inspector -> visit is
the probability that the inspector is on the visit's team. The convex costs
spread expected loads evenly (the busiest inspector as light as possible);
the per-edge capacities (``pair_cap``, ``spread``) keep every pair's
probability low so the lottery drawn from these marginals (see
:mod:`scheduler.lottery`) is not predictable. Nothing here is random: these
are the probabilities the seed then realises.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from solver.status import SolveStatus


@dataclass(frozen=True)
class MarginalProblem:
    """Plain arrays describing the network (no OR-Tools objects).

    ``edge_inspector``, ``edge_slot``: one row per (inspector, slot) the
    inspector may fill; ``edge_cap``: that edge's capacity in units.
    ``slot_visit``: the visit of each slot. ``pair_cap``: capacity (units)
    of each (inspector, visit) pair, looked up by ``pair_key`` order (see
    :func:`pairs_of`). ``caps``: quarterly capacity of each inspector in
    visits. ``segment``: size (units) of one load-cost segment.
    ``edge_soft``: per edge, the flow beyond which each unit costs
    ``spread_penalty`` (spreading a slot over many inspectors is preferred,
    but never at the price of balance: a load segment costs
    ``load_weight * rank``, so the total is
    convex, close to the sum of squared loads).
    """

    n_inspectors: int
    n_slots: int
    slot_visit: np.ndarray
    edge_inspector: np.ndarray
    edge_slot: np.ndarray
    edge_cap: np.ndarray
    pair_cap: np.ndarray
    caps: np.ndarray
    unit: int
    segment: int
    edge_soft: np.ndarray | None = None
    spread_penalty: int = 1
    load_weight: int = 16


@dataclass(frozen=True)
class Marginals:
    """The solved flow. ``edge_flow`` per (inspector, slot) edge; ``pair_flow`` per pair."""

    status: SolveStatus
    edge_flow: np.ndarray
    pair_inspector: np.ndarray
    pair_visit: np.ndarray
    pair_flow: np.ndarray
    load: np.ndarray
    total_flow: int


def pairs_of(problem: MarginalProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (inspector, visit) pairs, sorted; and each edge's pair index."""
    visit = problem.slot_visit[problem.edge_slot]
    key = problem.edge_inspector.astype(np.int64) * (int(problem.slot_visit.max(initial=0)) + 1) + visit
    uniq, edge_pair = np.unique(key, return_inverse=True)
    nv = int(problem.slot_visit.max(initial=0)) + 1
    return uniq // nv, uniq % nv, edge_pair


def solve_marginals(problem: MarginalProblem, measure_shortfall: bool = True) -> Marginals:
    """Solve the network; INFEASIBLE when the slots cannot all be filled fractionally (then,
    if ``measure_shortfall``, ``total_flow`` says how much can be routed at all)."""
    p_insp, p_visit, edge_pair = pairs_of(problem)
    n_pairs = len(p_insp)
    multi = np.bincount(edge_pair, minlength=n_pairs) > 1  # pairs needing their own node

    src = 0
    insp0 = 1
    slot0 = insp0 + problem.n_inspectors
    pair0 = slot0 + problem.n_slots
    pair_node = np.full(n_pairs, -1, dtype=np.int64)
    pair_node[multi] = pair0 + np.arange(int(multi.sum()))
    sink = pair0 + int(multi.sum())

    tails: list[np.ndarray] = []
    heads: list[np.ndarray] = []
    caps: list[np.ndarray] = []
    costs: list[np.ndarray] = []

    # source -> inspector: convex cost segments.
    seg = problem.segment
    n_seg = (problem.caps * problem.unit + seg - 1) // seg
    seg_insp = np.repeat(np.arange(problem.n_inspectors), n_seg)
    seg_rank = np.concatenate([np.arange(k) for k in n_seg]) if len(n_seg) else np.zeros(0, np.int64)
    seg_cap = np.full(len(seg_insp), seg, dtype=np.int64)
    ends = np.cumsum(n_seg)
    last_cap = problem.caps * problem.unit - (n_seg - 1) * seg
    seg_cap[ends[n_seg > 0] - 1] = last_cap[n_seg > 0]
    tails.append(np.full(len(seg_insp), src))
    heads.append(insp0 + seg_insp)
    caps.append(seg_cap)
    costs.append(problem.load_weight * (seg_rank + 1))

    # inspector -> slot for single-slot pairs; inspector -> pair -> slot otherwise.
    # Each candidate edge is two arcs: up to its soft cap for free, beyond at the spread penalty.
    single = ~multi[edge_pair]
    e_idx = np.flatnonzero(single)
    hard = problem.edge_cap.copy()
    hard[e_idx] = np.minimum(hard[e_idx], problem.pair_cap[edge_pair[e_idx]])
    soft = hard if problem.edge_soft is None else np.minimum(problem.edge_soft, hard)
    edge_tail = np.where(single, insp0 + problem.edge_inspector, pair_node[edge_pair])
    edge_head = slot0 + problem.edge_slot
    tails.append(edge_tail)
    heads.append(edge_head)
    caps.append(soft)
    costs.append(np.zeros(len(soft), dtype=np.int64))
    tails.append(edge_tail)
    heads.append(edge_head)
    caps.append(hard - soft)
    costs.append(np.full(len(soft), problem.spread_penalty, dtype=np.int64))
    m_idx = np.flatnonzero(multi)
    tails.append(insp0 + p_insp[m_idx])
    heads.append(pair_node[m_idx])
    caps.append(problem.pair_cap[m_idx])
    costs.append(np.zeros(len(m_idx), dtype=np.int64))
    # slot -> sink
    tails.append(slot0 + np.arange(problem.n_slots))
    heads.append(np.full(problem.n_slots, sink))
    caps.append(np.full(problem.n_slots, problem.unit))
    costs.append(np.zeros(problem.n_slots, dtype=np.int64))

    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(caps).astype(np.int64),
        np.concatenate(costs).astype(np.int64),
    )
    demand = problem.n_slots * problem.unit
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[src] = demand
    supplies[sink] = -demand
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL and not measure_shortfall:
        empty = np.zeros(0, dtype=np.int64)
        return Marginals(SolveStatus.INFEASIBLE, empty, empty, empty, empty, empty, 0)
    if status != flow.OPTIMAL:
        # Find how much can be routed at all, for the diagnosis.
        mf = min_cost_flow.SimpleMinCostFlow()
        mf.add_arcs_with_capacity_and_unit_cost(
            np.concatenate(tails).astype(np.int32),
            np.concatenate(heads).astype(np.int32),
            np.concatenate(caps).astype(np.int64),
            np.concatenate(costs).astype(np.int64),
        )
        mf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
        mf.solve_max_flow_with_min_cost()
        total = int(sum(mf.flow(int(a)) for a in range(mf.num_arcs()) if mf.head(a) == sink))
        empty = np.zeros(0, dtype=np.int64)
        return Marginals(SolveStatus.INFEASIBLE, empty, empty, empty, empty, empty, total)

    flows = flow.flows(arcs)
    sizes = [len(t) for t in tails]
    bounds = np.cumsum([0, *sizes])
    seg_flow = flows[bounds[0] : bounds[1]]
    load = np.bincount(seg_insp, weights=seg_flow, minlength=problem.n_inspectors).astype(np.int64)
    edge_flow = (flows[bounds[1] : bounds[2]] + flows[bounds[2] : bounds[3]]).astype(np.int64)
    pair_flow = np.bincount(edge_pair, weights=edge_flow, minlength=n_pairs).astype(np.int64)
    return Marginals(SolveStatus.OPTIMAL, edge_flow, p_insp, p_visit, pair_flow, load, demand)
