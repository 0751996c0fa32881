"""Marginal probabilities of the assignment lottery, by min-cost flow.

All amounts are in units of ``unit`` (one unit = probability 1/``unit``). The network::

    source -> inspector i           load of i: convex cost segments, total <= cap_i
    inspector i -> group (v, g)     one arc per (inspector, visit) pair: the pair cap
    group (v, g) -> parent group    a place of a wider group filled from a narrower one
    group (v, g) -> sink            exactly the group's number of places

A visit's places (slots) with the same candidates form one *group*. When the candidate sets
of a visit's slots are nested or disjoint (laminar: the specialty slot's holders inside the
lead department inside everyone allowed; one department's slot beside another's), the
groups form a forest and each pair enters at the narrowest group that holds the inspector,
so the pair is one arc and its capacity is the pair cap: no node per pair, no arc per slot.
A flow then fills every slot (bottom-up, see :func:`assign_slots`). A visit whose sets
overlap otherwise (two specialties, some inspectors holding both) keeps one node per slot and
a node per pair that fits several of them (``inspector -> pair -> slot``).

The convex load costs spread expected loads evenly (the busiest inspector as light as
possible). Each pair carries, at no cost, up to its fair share of the slots it fits
(``edge_soft`` summed over them), more only at ``spread_penalty`` a unit, which never
outweighs a load step (``load_weight``): so a visit's probability is spread over its
candidates unless balance needs otherwise. Nothing here is random: these are the
probabilities the seed then realises (:mod:`scheduler.lottery`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from solver.status import SolveStatus

MAX_SLOTS = 62  # places on one visit (a bit each in an int64 mask)


@dataclass(frozen=True)
class MarginalProblem:
    """Plain arrays describing the lottery (no OR-Tools objects).

    ``edge_inspector``, ``edge_slot``: one row per (inspector, slot) the inspector may fill,
    sorted by slot; slots of a visit are consecutive. ``slot_visit``: the visit of each slot.
    ``visit_cap``: per visit, the capacity (units) of each of its (inspector, visit) pairs.
    ``caps``: quarterly capacity of each inspector in visits. ``segment``: size (units) of one
    load-cost segment, costing ``load_weight * rank``. ``edge_soft``: per edge, the share of
    its slot a candidate carries at no cost (a pair: the sum over the slots it fits).
    """

    n_inspectors: int
    n_slots: int
    slot_visit: np.ndarray
    edge_inspector: np.ndarray
    edge_slot: np.ndarray
    visit_cap: np.ndarray
    caps: np.ndarray
    unit: int
    segment: int
    edge_soft: np.ndarray | None = None
    spread_penalty: int = 1
    load_weight: int = 16
    base_load: np.ndarray | None = None  # per inspector, visits planned elsewhere (segments start there)


@dataclass(frozen=True)
class Marginals:
    """The solved flow: per pair (``pair_inspector``, ``pair_visit``, sorted) its flow, per
    inspector the load; ``via_flow`` per edge that goes through a pair node and ``up_flow``
    per group with a parent (what :func:`assign_slots` and the rounding need)."""

    status: SolveStatus
    pair_inspector: np.ndarray
    pair_visit: np.ndarray
    pair_flow: np.ndarray
    load: np.ndarray
    total_flow: int
    via_flow: np.ndarray
    up_flow: np.ndarray


@dataclass(frozen=True)
class Network:
    """The network of a problem in arrays, built the same way for solving and for rounding.

    Nodes: source 0, inspectors ``1..n``, then groups, then pair nodes, then the sink.
    ``slot_group``: per slot, its group (a group is named by its first slot). ``group_slots``
    (groups ascending) with ``group_parent`` (-1: a root) and ``group_demand`` (places).
    ``pair_node``: per pair, the node its arc enters (a group or a pair node).
    ``via``: edges entering their slot's group from a pair node (visits that are not laminar).
    """

    pair_inspector: np.ndarray
    pair_visit: np.ndarray
    edge_pair: np.ndarray
    pair_node: np.ndarray
    pair_multi: np.ndarray  # pair enters a pair node
    group_slot: np.ndarray  # first slot of each group
    group_parent: np.ndarray  # index into group_slot, -1 for a root
    group_demand: np.ndarray
    slot_group: np.ndarray  # index into group_slot
    via: np.ndarray
    group0: int
    pairnode0: int
    sink: int


def _pairs(problem: MarginalProblem) -> tuple[np.ndarray, ...]:
    """Pairs sorted by visit then inspector: (inspector, visit, edge_pair, edge order by pair,
    start of each pair in that order). Sorting, not hashing: edges come nearly sorted."""
    n_i = max(problem.n_inspectors, 1)
    key = problem.slot_visit[problem.edge_slot].astype(np.int64) * n_i + problem.edge_inspector
    order = np.argsort(key, kind="stable")
    k_sorted = key[order]
    new = np.r_[True, k_sorted[1:] != k_sorted[:-1]] if len(key) else np.zeros(0, bool)
    starts = np.flatnonzero(new)
    uniq = k_sorted[starts]
    edge_pair = np.empty(len(key), dtype=np.int64)
    edge_pair[order] = np.cumsum(new) - 1
    return (uniq % n_i).astype(np.int32), (uniq // n_i).astype(np.int32), edge_pair, order, starts


def pairs_of(problem: MarginalProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (inspector, visit) pairs, sorted by visit then inspector; each edge's pair."""
    p_insp, p_visit, edge_pair, _, _ = _pairs(problem)
    return p_insp, p_visit, edge_pair


_last: tuple[weakref.ref, Network] | None = None  # the last problem's network (solved, then rounded)


def network(problem: MarginalProblem) -> Network:
    """Groups, forest and pair arcs of the problem (see the module docstring). The last
    problem's network is kept while the problem lives: rounding it in the same process right
    after solving it does not build it again."""
    global _last
    if _last is not None and _last[0]() is problem:
        return _last[1]
    net = _network(problem)
    _last = (weakref.ref(problem), net)
    return net


def _network(problem: MarginalProblem) -> Network:
    p_insp, p_visit, edge_pair, by_pair, starts = _pairs(problem)
    n_pairs, n_slots = len(p_insp), problem.n_slots
    sv = problem.slot_visit
    first = np.zeros(n_slots, dtype=np.int64)  # first slot of each slot's visit
    if n_slots:
        v_start = np.flatnonzero(np.r_[True, sv[1:] != sv[:-1]])
        first = np.repeat(v_start, np.diff(np.r_[v_start, n_slots]))
    pos = np.arange(n_slots) - first
    k_max = int(pos.max(initial=-1)) + 1
    if k_max > MAX_SLOTS:
        raise ValueError(f"a visit has {k_max} places; at most {MAX_SLOTS}")
    mask = np.zeros(n_pairs, dtype=np.int64)
    if n_pairs:
        mask = np.bitwise_or.reduceat(np.left_shift(1, pos[problem.edge_slot])[by_pair], starts)
    size = np.bincount(problem.edge_slot, minlength=n_slots)
    # co[s, b]: candidates of slot s that also fit the visit's slot at position b
    edge_mask = mask[edge_pair]
    co = np.zeros((n_slots, max(k_max, 1)), dtype=np.int64)
    for b in range(k_max):
        co[:, b] = np.bincount(problem.edge_slot[(edge_mask >> b) & 1 == 1], minlength=n_slots)
    other = first[:, None] + np.arange(max(k_max, 1))[None, :]
    valid = (other < n_slots) & (pos[:, None] < k_max)
    other = np.minimum(other, max(n_slots - 1, 0))
    valid &= sv[other] == sv[:, None] if n_slots else valid
    size_o = size[other]
    meet = valid & (co > 0)
    nested = (co == size[:, None]) | (co == size_o)
    bad_slot = (meet & ~nested).any(axis=1)
    laminar_visit = np.ones(int(sv.max(initial=-1)) + 1, dtype=bool)
    laminar_visit[sv[bad_slot]] = False
    lam = laminar_visit[sv] if n_slots else np.zeros(0, bool)
    # group of a slot: the first slot of its visit with the same candidates
    same = meet & (co == size[:, None]) & (co == size_o)
    rep_pos = np.where(same, np.arange(max(k_max, 1))[None, :], MAX_SLOTS).min(axis=1)
    rep = np.where(lam, first + np.minimum(rep_pos, pos), np.arange(n_slots))
    # parent: the narrowest strict superset's first slot
    sup = meet & (co == size[:, None]) & (size_o > size[:, None]) & lam[:, None]
    key = np.where(sup, size_o * (MAX_SLOTS + 1) + np.arange(max(k_max, 1))[None, :], np.iinfo(np.int64).max)
    best = key.min(axis=1) if n_slots else np.zeros(0, np.int64)
    has_parent = best != np.iinfo(np.int64).max
    parent_slot = np.where(has_parent, first + best % (MAX_SLOTS + 1), -1)
    parent_slot = np.where(has_parent, rep[np.maximum(parent_slot, 0)], -1)
    group_slot = np.unique(rep)
    slot_group = np.searchsorted(group_slot, rep)
    group_demand = np.bincount(slot_group, minlength=len(group_slot))
    gp = parent_slot[group_slot]
    group_parent = np.where(gp >= 0, np.searchsorted(group_slot, np.maximum(gp, 0)), -1)
    # each pair's entry: laminar visits, the narrowest group holding the inspector
    pair_lam = laminar_visit[p_visit] if n_pairs else np.zeros(0, bool)
    e_key = size[problem.edge_slot] * (MAX_SLOTS + 1) + pos[problem.edge_slot]
    entry_slot = np.zeros(0, np.int64)
    if n_pairs:
        best_key = np.minimum.reduceat(e_key[by_pair], starts)
        entry_slot = first[problem.edge_slot[by_pair[starts]]] + best_key % (MAX_SLOTS + 1)
    n_multi_slots = np.bincount(edge_pair, minlength=n_pairs)
    multi = ~pair_lam & (n_multi_slots > 1)
    n_i = problem.n_inspectors
    group0 = 1 + n_i
    pairnode0 = group0 + len(group_slot)
    pair_node = group0 + slot_group[entry_slot] if n_pairs else np.zeros(0, np.int64)
    pair_node = np.where(multi, pairnode0 + np.cumsum(multi) - 1, pair_node)
    via = np.flatnonzero(multi[edge_pair])
    return Network(
        pair_inspector=p_insp,
        pair_visit=p_visit,
        edge_pair=edge_pair,
        pair_node=pair_node.astype(np.int64),
        pair_multi=multi,
        group_slot=group_slot,
        group_parent=group_parent.astype(np.int64),
        group_demand=group_demand,
        slot_group=slot_group,
        via=via,
        group0=group0,
        pairnode0=pairnode0,
        sink=pairnode0 + int(multi.sum()),
    )


def solve_marginals(problem: MarginalProblem, measure_shortfall: bool = True) -> Marginals:
    """Solve the network; INFEASIBLE when the slots cannot all be filled fractionally (then,
    if ``measure_shortfall``, ``total_flow`` says how much can be routed at all)."""
    net = network(problem)
    unit, n_i = problem.unit, problem.n_inspectors
    n_pairs = len(net.pair_inspector)
    edge_soft = (
        np.full(len(problem.edge_slot), unit, dtype=np.int64)
        if problem.edge_soft is None
        else problem.edge_soft
    )
    tails: list[np.ndarray] = []
    heads: list[np.ndarray] = []
    caps: list[np.ndarray] = []
    costs: list[np.ndarray] = []

    def arcs(t, h, c, k) -> None:
        tails.append(np.asarray(t, np.int64))
        heads.append(np.asarray(h, np.int64))
        caps.append(np.asarray(c, np.int64))
        costs.append(np.broadcast_to(np.asarray(k, np.int64), (len(tails[-1]),)))

    # source -> inspector: convex cost segments.
    seg = problem.segment
    total_cap = problem.caps.astype(np.int64) * unit
    n_seg = (total_cap + seg - 1) // seg
    seg_insp = np.repeat(np.arange(n_i), n_seg)
    ends = np.cumsum(n_seg)
    seg_rank = np.arange(len(seg_insp)) - np.repeat(ends - n_seg, n_seg)
    seg_cap = np.full(len(seg_insp), seg, dtype=np.int64)
    last = n_seg > 0
    seg_cap[ends[last] - 1] = (total_cap - (n_seg - 1) * seg)[last]
    if problem.base_load is not None:  # an inspector loaded elsewhere costs from that load on
        seg_rank = seg_rank + np.repeat(problem.base_load.astype(np.int64) * unit // seg, n_seg)
    arcs(np.zeros(len(seg_insp)), 1 + seg_insp, seg_cap, problem.load_weight * (seg_rank + 1))
    # inspector -> group: a pair's free share, then the rest of its cap at the spread penalty.
    direct = ~net.pair_multi
    pair_soft = np.bincount(net.edge_pair, weights=edge_soft, minlength=n_pairs).astype(np.int64)
    pair_cap = problem.visit_cap[net.pair_visit].astype(np.int64)
    pair_soft = np.minimum(pair_soft, pair_cap)
    d = np.flatnonzero(direct)
    arcs(1 + net.pair_inspector[d], net.pair_node[d], pair_soft[d], 0)
    arcs(1 + net.pair_inspector[d], net.pair_node[d], pair_cap[d] - pair_soft[d], problem.spread_penalty)
    # inspector -> pair node -> slot's group (visits that are not laminar)
    m = np.flatnonzero(net.pair_multi)
    arcs(1 + net.pair_inspector[m], net.pair_node[m], pair_cap[m], 0)
    v = net.via
    v_tail = net.pair_node[net.edge_pair[v]]
    v_head = net.group0 + net.slot_group[problem.edge_slot[v]]
    v_soft = np.minimum(edge_soft[v], unit)
    arcs(v_tail, v_head, v_soft, 0)
    arcs(v_tail, v_head, unit - v_soft, problem.spread_penalty)
    # group -> parent, group -> sink
    g_up = np.flatnonzero(net.group_parent >= 0)
    visit_places = np.bincount(problem.slot_visit, minlength=int(problem.slot_visit.max(initial=-1)) + 1)
    g_visit = problem.slot_visit[net.group_slot]
    arcs(net.group0 + g_up, net.group0 + net.group_parent[g_up], visit_places[g_visit[g_up]] * unit, 0)
    n_g = len(net.group_slot)
    arcs(net.group0 + np.arange(n_g), np.full(n_g, net.sink), net.group_demand * unit, 0)

    all_t, all_h = np.concatenate(tails).astype(np.int32), np.concatenate(heads).astype(np.int32)
    all_c, all_k = np.concatenate(caps), np.concatenate(costs)
    demand = problem.n_slots * unit
    supplies = np.zeros(net.sink + 1, dtype=np.int64)
    supplies[0] = demand
    supplies[net.sink] = -demand
    empty = np.zeros(0, dtype=np.int64)

    def solver() -> min_cost_flow.SimpleMinCostFlow:
        f = min_cost_flow.SimpleMinCostFlow()
        f.add_arcs_with_capacity_and_unit_cost(all_t, all_h, all_c, all_k)
        f.set_nodes_supplies(np.arange(net.sink + 1, dtype=np.int32), supplies)
        return f

    flow = solver()
    status = flow.solve()
    if status != flow.OPTIMAL:
        total = 0
        if measure_shortfall:  # how much can be routed at all, for the diagnosis
            mf = solver()
            mf.solve_max_flow_with_min_cost()
            flows = mf.flows(np.arange(mf.num_arcs()))
            total = int(flows[all_h == net.sink].sum())
        return Marginals(SolveStatus.INFEASIBLE, empty, empty, empty, empty, total, empty, empty)
    flows = flow.flows(np.arange(flow.num_arcs()))
    bounds = np.cumsum([0, *(len(t) for t in tails)])
    part = [flows[bounds[k] : bounds[k + 1]] for k in range(len(tails))]
    load = np.bincount(seg_insp, weights=part[0], minlength=n_i).astype(np.int64)
    pair_flow = np.zeros(n_pairs, dtype=np.int32)  # at most one visit: unit fits 32 bits
    pair_flow[d] = part[1] + part[2]
    pair_flow[m] = part[3]
    via_flow = (part[4] + part[5]).astype(np.int64)
    return Marginals(
        SolveStatus.OPTIMAL,
        net.pair_inspector,
        net.pair_visit,
        pair_flow,
        load,
        demand,
        via_flow,
        part[6].astype(np.int64),
    )


def rounding_network(
    problem: MarginalProblem, net: Network, result: Marginals
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tails, heads, values) of the network to round: source -> inspector (load), pair arcs,
    pair node -> slot group, group -> parent. Group -> sink arcs are whole and left out."""
    n_i = problem.n_inspectors
    v = net.via
    g_up = np.flatnonzero(net.group_parent >= 0)
    tails = np.concatenate(
        [np.zeros(n_i, np.int64), 1 + net.pair_inspector, net.pair_node[net.edge_pair[v]], net.group0 + g_up]
    )
    heads = np.concatenate(
        [
            1 + np.arange(n_i),
            net.pair_node,
            net.group0 + net.slot_group[problem.edge_slot[v]],
            net.group0 + net.group_parent[g_up],
        ]
    )
    values = np.concatenate([result.load, result.pair_flow, result.via_flow, result.up_flow])
    return tails, heads, values


def assign_slots(
    problem: MarginalProblem, net: Network, pair_on: np.ndarray, via_on: np.ndarray
) -> np.ndarray:
    """Per slot, the inspector (local index) filling it, from a whole flow: ``pair_on`` per
    pair, ``via_on`` per edge of ``net.via``. In a group forest each group keeps, of the
    inspectors entering it directly or passed up from narrower groups, the ones of lowest
    index for its own places and passes the others up (all of them fit the wider group)."""
    slot_insp = np.full(problem.n_slots, -1, dtype=np.int64)
    chosen = np.flatnonzero(pair_on & ~net.pair_multi)
    group = net.pair_node[chosen] - net.group0
    insp = net.pair_inspector[chosen]
    v_on = net.via[via_on]
    slot_insp[problem.edge_slot[v_on]] = problem.edge_inspector[v_on]
    n_g = len(net.group_slot)
    # slots of each group, in slot order
    s_order = np.argsort(net.slot_group, kind="stable")
    g_ptr = np.searchsorted(net.slot_group[s_order], np.arange(n_g + 1))
    o = np.lexsort((insp, group))
    group, insp = group[o], insp[o]
    c_ptr = np.searchsorted(group, np.arange(n_g + 1))
    # groups of forests with more than one group are filled bottom-up, one visit at a time
    in_tree = np.zeros(n_g, dtype=bool)
    in_tree[net.group_parent >= 0] = True
    in_tree[net.group_parent[net.group_parent >= 0]] = True
    simple = np.flatnonzero(~in_tree)
    counts = c_ptr[simple + 1] - c_ptr[simple]
    if not np.array_equal(counts, net.group_demand[simple]):
        raise AssertionError("a group got a different number of inspectors than its places")
    idx = np.repeat(c_ptr[simple], counts) + (
        np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    slot_insp[s_order[np.repeat(g_ptr[simple], counts) + (idx - np.repeat(c_ptr[simple], counts))]] = insp[
        idx
    ]
    tree = np.flatnonzero(in_tree)
    if len(tree):
        g_visit = problem.slot_visit[net.group_slot]
        # groups of a visit: children have fewer candidates than their parents; fill narrow first
        size = np.bincount(problem.edge_slot, minlength=problem.n_slots)[net.group_slot]
        t_order = tree[np.lexsort((-tree, size[tree], g_visit[tree]))]
        carried: dict[int, list[int]] = {}
        for g in t_order.tolist():
            pool = sorted(insp[c_ptr[g] : c_ptr[g + 1]].tolist() + carried.pop(g, []))
            d = int(net.group_demand[g])
            for s, i in zip(s_order[g_ptr[g] : g_ptr[g + 1]].tolist(), pool[:d], strict=True):
                slot_insp[s] = i
            if net.group_parent[g] >= 0:
                carried.setdefault(int(net.group_parent[g]), []).extend(pool[d:])
            elif len(pool) != d:
                raise AssertionError("a group got a different number of inspectors than its places")
    return slot_insp


@dataclass(frozen=True)
class Split:
    """A split of capacity over groups of demand: ``arc_flow`` per arc (whole visits),
    ``routed`` per group (equal to its demand when ``ok``)."""

    ok: bool
    arc_flow: np.ndarray
    routed: np.ndarray


def split_capacity(
    caps: np.ndarray,
    arc_inspector: np.ndarray,
    arc_group: np.ndarray,
    arc_cap: np.ndarray,
    group_demand: np.ndarray,
    load_weight: int = 1,
) -> Split:
    """The small flow that divides inspectors' capacity among groups of demand, in whole
    visits: source -> inspector (convex cost per visit of load, so loads come out balanced
    as the full lottery would balance them) -> group (at most ``arc_cap``) -> sink (the
    group's demand). When the demand cannot all be routed, the flow routes as much as it can
    (``ok`` False) and ``routed`` says how much reached each group."""
    caps = np.asarray(caps, dtype=np.int64)
    n_i, n_g = len(caps), len(group_demand)
    seg_insp = np.repeat(np.arange(n_i), caps)
    seg_rank = np.arange(len(seg_insp)) - np.repeat(np.cumsum(caps) - caps, caps)
    sink = 1 + n_i + n_g
    tails = np.concatenate([np.zeros(len(seg_insp), np.int64), 1 + arc_inspector, 1 + n_i + np.arange(n_g)])
    heads = np.concatenate([1 + seg_insp, 1 + n_i + arc_group, np.full(n_g, sink)])
    cap = np.concatenate([np.ones(len(seg_insp), np.int64), arc_cap, group_demand]).astype(np.int64)
    cost = np.concatenate([load_weight * (seg_rank + 1), np.zeros(len(arc_group) + n_g, np.int64)]).astype(
        np.int64
    )
    demand = int(np.sum(group_demand))
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[0], supplies[sink] = demand, -demand
    f = min_cost_flow.SimpleMinCostFlow()
    f.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32), cap, cost)
    f.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    ok = f.solve() == f.OPTIMAL
    if not ok:
        f = min_cost_flow.SimpleMinCostFlow()
        f.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32), cap, cost)
        f.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
        f.solve_max_flow_with_min_cost()
    flows = f.flows(np.arange(f.num_arcs()))
    arc_flow = flows[len(seg_insp) : len(seg_insp) + len(arc_group)].astype(np.int64)
    routed = flows[len(seg_insp) + len(arc_group) :].astype(np.int64)
    return Split(ok, arc_flow, routed)
