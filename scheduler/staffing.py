"""Who may go where, and the lottery that decides who goes (第二个随机).

Eligibility of an inspector for a visit (Wulong notice 2021: two certified
officers; Hebei opinion 2016: recusal; contract):
- works for an allowed agency: the lead and joint agencies of the visit's
  tasks; with ``staffing: local`` also same-department agencies below them
  whose jurisdiction holds the enterprise;
- holds a certificate (执法证) and is not auxiliary staff (辅助人员);
- no conflict of interest (回避): declared, former employer, a relative whose
  id equals the legal representative's;
- rotation: did not inspect this enterprise within ``lookback_days``;
- available (certificate valid and not on leave) on enough working days of
  the visit's window that any team of ``k`` such members shares a day: each
  misses fewer than ``W / k`` of the ``W`` days, so together they miss fewer
  than ``W`` (stage 3 then always finds a common day).

Each visit has slots: one per department on the team (lead first, which also
takes the task's specialty when it can), then free slots up to
``team_size``. Marginals come from :mod:`solver.marginals`; the teams are
drawn from them by :func:`scheduler.lottery.round_flow`.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from scheduler.draw import recent_history
from scheduler.errors import InfeasibleError
from scheduler.lottery import round_flow
from scheduler.plan import Plan
from scheduler.registry import Inspector, Registry
from scheduler.result import StaffingStats, Visit
from scheduler.tickets import subseed
from solver.marginals import MarginalProblem, Marginals, pairs_of, solve_marginals

UNIT = 10_000  # one visit = UNIT flow units; probabilities in steps of 1/UNIT
SEGMENT = UNIT // 4  # load-balancing cost steps of a quarter visit
# Each slot's probability is spread over its candidates: up to SPREAD / |candidates| per
# candidate at no cost, more at a small cost that never outweighs load balance.
SPREAD = 2


@dataclass
class Slot:
    """One place on a visit's team."""

    visit: int
    department: str | None  # None: any department of the visit
    specialty: str | None
    candidates: list[int] = field(default_factory=list)


@dataclass
class Roster:
    """Inspectors in id order with their availability over the plan's working days."""

    inspectors: list[Inspector]
    days: list[dt.date]
    available: np.ndarray  # (n_inspectors, n_days) bool
    cumulative: np.ndarray  # (n_inspectors, n_days + 1) prefix sums of available
    cap: np.ndarray  # quarterly capacity in visits
    daily_cap: np.ndarray
    index: dict[str, int]

    def mark_away(self, inspector_id: str, start: dt.date, end: dt.date | None = None) -> None:
        """The inspector is away (ill) from ``start`` to ``end`` (inclusive; open-ended if None)."""
        k = self.index[inspector_id]
        lo, hi = self.day_range(start, end or dt.date.max)
        self.available[k, lo:hi] = False
        np.cumsum(self.available[k], out=self.cumulative[k, 1:])

    def day_range(self, start: dt.date, end: dt.date) -> tuple[int, int]:
        """Indices [lo, hi) of the working days from start to end."""
        return bisect.bisect_left(self.days, start), bisect.bisect_right(self.days, end)


def build_roster(plan: Plan, registry: Registry, days: list[dt.date]) -> Roster:
    """Availability per working day: certificate valid that day and not on leave."""
    inspectors = [registry.inspectors[k] for k in sorted(registry.inspectors)]
    index = {ins.inspector_id: k for k, ins in enumerate(inspectors)}
    day_arr = np.array(days, dtype="datetime64[D]")
    available = np.zeros((len(inspectors), len(days)), dtype=bool)
    for k, ins in enumerate(inspectors):
        if not ins.certificate_no or ins.auxiliary:
            continue
        if ins.certificate_expiry is None:
            available[k] = True
        else:
            available[k] = day_arr <= np.datetime64(ins.certificate_expiry)
    for lv in registry.leave:
        k = index.get(lv.inspector_id)
        if k is not None:
            available[k] &= ~((day_arr >= np.datetime64(lv.start)) & (day_arr <= np.datetime64(lv.end)))
    cumulative = np.zeros((len(inspectors), len(days) + 1), dtype=np.int64)
    np.cumsum(available, axis=1, out=cumulative[:, 1:])

    pol = plan.policy
    daily = np.array([min(i.daily_cap, pol.daily_cap) if i.daily_cap is not None else pol.daily_cap for i in inspectors])
    cap = np.array(
        [min(i.quarterly_cap, pol.quarterly_cap) if i.quarterly_cap is not None else pol.quarterly_cap for i in inspectors],
        dtype=np.int64,
    )
    # Visits already done this quarter count against the cap.
    h = registry.history
    if not h.empty:
        inq = h[(h["date"] >= np.datetime64(plan.quarter_start)) & (h["date"] <= np.datetime64(plan.quarter_end))]
        done = Counter(i for ids in inq["inspector_ids"] for i in ids)
        for iid, n in done.items():
            if iid in index:
                cap[index[iid]] -= n
    cap = np.maximum(0, np.minimum(cap, daily * available.sum(axis=1)))
    return Roster(inspectors, days, available, cumulative, cap, daily, index)


@dataclass
class Eligibility:
    """Slots of every visit and the reasons candidates were excluded (for diagnoses)."""

    slots: list[Slot]
    visit_slots: list[list[int]]
    excluded: list[Counter]  # per visit: reason -> count
    allowed: list[dict[str, set[str]]]  # per visit: department -> agencies


EXCLUSION_TEXT = {
    "certificate": "no certificate or auxiliary",
    "conflict": "declared conflict",
    "former_employer": "former employer",
    "relative": "relative of the legal representative",
    "rotation": "inspected it within the lookback (rotation)",
    "availability": "on leave or certificate expiring in the window",
    "cap": "no capacity left this quarter",
}


def allowed_agencies(plan: Plan, registry: Registry, visit: Visit, region_code: str) -> dict[str, set[str]]:
    """Department -> agencies whose inspectors may staff the visit."""
    out: dict[str, set[str]] = defaultdict(set)
    for tid in visit.task_ids:
        task = plan.task(tid)
        for a in (task.agency_id, *task.joint_agencies):
            if task.staffing == "delegated":
                out[registry.agencies[a].department].add(registry.local_agency(a, region_code))
                continue
            out[registry.agencies[a].department].add(a)
            if task.staffing == "local":
                for b in registry.descendants(a):
                    ag = registry.agencies[b]
                    if ag.department == registry.agencies[a].department and ag.covers(region_code):
                        out[ag.department].add(b)
    return out


def slot_layout(
    plan: Plan, registry: Registry, visit: Visit, allowed: dict[str, set[str]], eligible: list[Inspector]
) -> list[tuple[str | None, str | None]]:
    """(department, specialty) of each team place: one per department (lead first); each task's
    specialty goes to its lead department's place when someone eligible there holds it, else to
    another department's that has a holder; free places (any department) up to ``team_size``."""

    def has_holder(dept: str, spec: str) -> bool:
        return any(i.agency_id in allowed[dept] and spec in i.specialties for i in eligible)

    layout: list[list] = [[d, None] for d in visit.departments]
    for tid in visit.task_ids:
        task = plan.task(tid)
        if not task.specialty or any(s[1] == task.specialty for s in layout):
            continue
        lead_dept = registry.agencies[task.agency_id].department
        depts = [lead_dept] + [d for d in visit.departments if d != lead_dept]
        dept = next((d for d in depts if has_holder(d, task.specialty)), lead_dept)
        free = next((s for s in layout if s[0] == dept and s[1] is None), None)
        if free is not None:
            free[1] = task.specialty
        else:
            layout.append([dept, task.specialty])
    while len(layout) < plan.policy.team_size:
        layout.append([None, None])
    return [(d, sp) for d, sp in layout]


def eligibility(plan: Plan, registry: Registry, visits: list[Visit], roster: Roster) -> Eligibility:
    """Candidates for every slot of every visit, after every exclusion rule."""
    ent = registry.enterprises.set_index("credit_code")
    legal = ent["legal_rep_id"]
    region = ent["region_code"]
    declared = {(c.inspector_id, c.credit_code) for c in registry.conflicts}
    seen: dict[str, set[str]] = defaultdict(set)
    if plan.policy.rotation:
        hist = recent_history(plan, registry)
        for code, ids in zip(hist["credit_code"], hist["inspector_ids"], strict=False):
            seen[code].update(ids)
    by_agency: dict[str, list[int]] = defaultdict(list)
    for k, ins in enumerate(roster.inspectors):
        by_agency[ins.agency_id].append(k)

    slots: list[Slot] = []
    visit_slots: list[list[int]] = []
    excluded: list[Counter] = []
    allowed_all: list[dict[str, set[str]]] = []
    team_size = plan.policy.team_size
    for vi, v in enumerate(visits):
        code = v.credit_code
        allowed = allowed_agencies(plan, registry, v, region[code])
        allowed_all.append(allowed)
        # The most slots the layout below can make: one per department plus one per further specialty.
        k = max(team_size, len(v.departments) + max(0, len(v.specialties) - 1))
        lo, hi = roster.day_range(v.window_start, v.window_end)
        width = hi - lo
        rep = legal[code]
        reasons: Counter = Counter()
        eligible: list[int] = []
        for dept_agencies in allowed.values():
            for a in sorted(dept_agencies):
                for i in by_agency.get(a, ()):
                    ins = roster.inspectors[i]
                    if not ins.certificate_no or ins.auxiliary:
                        reasons["certificate"] += 1
                    elif (ins.inspector_id, code) in declared:
                        reasons["conflict"] += 1
                    elif code in ins.former_employers:
                        reasons["former_employer"] += 1
                    elif rep and rep in ins.relatives_ids:
                        reasons["relative"] += 1
                    elif ins.inspector_id in seen.get(code, ()):
                        reasons["rotation"] += 1
                    elif (width - (roster.cumulative[i, hi] - roster.cumulative[i, lo])) * k >= width:
                        reasons["availability"] += 1
                    elif roster.cap[i] <= 0:
                        reasons["cap"] += 1
                    else:
                        eligible.append(i)
        eligible.sort()
        excluded.append(reasons)
        layout = slot_layout(plan, registry, v, allowed, [roster.inspectors[i] for i in eligible])
        assert len(layout) <= k, (v.visit_id, layout, k)
        ids: list[int] = []
        for dept, spec in layout:
            agencies = allowed[dept] if dept else set().union(*allowed.values())
            cands = [
                i
                for i in eligible
                if roster.inspectors[i].agency_id in agencies
                and (spec is None or spec in roster.inspectors[i].specialties)
            ]
            ids.append(len(slots))
            slots.append(Slot(vi, dept, spec, cands))
        visit_slots.append(ids)
    return Eligibility(slots, visit_slots, excluded, allowed_all)


def _describe_slot(slot: Slot) -> str:
    article = "an" if slot.specialty and slot.specialty[0] in "aeiou" else "a"
    what = f"{article} {slot.specialty} inspector" if slot.specialty else "an inspector"
    return f"{what} of department {slot.department}" if slot.department else what


def diagnose(plan: Plan, registry: Registry, visits: list[Visit], roster: Roster, elig: Eligibility, routed: float) -> list[str]:
    """Say which task, which rule and the numbers that make staffing impossible."""
    reasons: list[str] = []
    empty: dict[tuple, list[Slot]] = defaultdict(list)
    for s in elig.slots:
        if not s.candidates:
            empty[("/".join(visits[s.visit].task_ids), s.department, s.specialty)].append(s)
    for (tasks, _, _), members in sorted(empty.items(), key=lambda kv: str(kv[0])):
        v = visits[members[0].visit]
        first = members[0]
        why = [f"{n} {EXCLUSION_TEXT[r]}" for r, n in sorted(elig.excluded[first.visit].items())]
        others = set().union(*(elig.slots[k].candidates for k in elig.visit_slots[first.visit]))
        if first.specialty:
            why.append(f"{len(others)} eligible but without {first.specialty}")
        what = f"{len(members)} visits need" if len(members) > 1 else "1 visit needs"
        reasons.append(
            f"{tasks}: {what} {_describe_slot(first)} between {v.window_start} and {v.window_end}; "
            f"0 are eligible (e.g. visit {v.visit_id}, {v.credit_code}: "
            + (", ".join(why) if why else "nobody works for the allowed agencies")
            + ")"
        )
    if reasons:
        return reasons
    # Aggregate demand per (task, department, specialty) against the eligible pool's capacity.
    groups: dict[tuple, list[Slot]] = defaultdict(list)
    for s in elig.slots:
        groups[(visits[s.visit].task_ids[0], s.department, s.specialty)].append(s)
    for (tid, _dept, _spec), members in sorted(groups.items(), key=lambda kv: str(kv[0])):
        pool = sorted(set().union(*(m.candidates for m in members)))
        capacity = int(roster.cap[pool].sum())
        if len(members) > capacity:
            task = plan.task(tid)
            reasons.append(
                f"{tid}: {len(members)} visits need {_describe_slot(members[0])} between "
                f"{task.window_start} and {task.window_end}; {len(pool)} "
                f"{'is' if len(pool) == 1 else 'are'} eligible after conflicts and leave, capacity {capacity}"
            )
    need = len(elig.slots)
    if not reasons:
        reasons.append(
            f"staffing: {need} team places to fill (team_size {plan.policy.team_size}), but the quarterly "
            f"and daily caps allow at most {routed:.1f} of them to be filled"
        )
    return reasons


@dataclass
class Lottery:
    """The assignment lottery before the seed: slots, candidates and marginal probabilities.

    ``marginals.pair_flow / UNIT`` is each (inspector, visit) pair's probability of being
    drawn (pairs listed by ``marginals.pair_inspector`` / ``pair_visit``).
    """

    problem: MarginalProblem
    marginals: Marginals
    slots: list[Slot]
    visits: list[Visit]
    roster: Roster
    cap: float

    def pair_probabilities(self) -> dict[tuple[str, str], float]:
        """(inspector_id, visit_id) -> probability, for pairs with a positive probability."""
        m = self.marginals
        return {
            (self.roster.inspectors[i].inspector_id, self.visits[v].visit_id): f / UNIT
            for i, v, f in zip(m.pair_inspector.tolist(), m.pair_visit.tolist(), m.pair_flow.tolist(), strict=True)
            if f > 0
        }


def staff(plan: Plan, registry: Registry, visits: list[Visit], roster: Roster, seed: str) -> tuple[list[tuple[str, ...]], StaffingStats]:
    """Draw a team for every visit. Returns the teams (slot order) and the lottery's facts."""
    lottery = build_lottery(plan, registry, visits, roster)
    return draw_teams(lottery, seed)


def draw_teams(lottery: Lottery, seed: str) -> tuple[list[tuple[str, ...]], StaffingStats]:
    """Realise the lottery with the seed (see :mod:`scheduler.lottery`)."""
    return _draw_teams(
        lottery.problem, lottery.marginals, lottery.visits, lottery.slots, lottery.roster, seed, lottery.cap
    )


def build_lottery(plan: Plan, registry: Registry, visits: list[Visit], roster: Roster) -> Lottery:
    """Eligibility, slots and marginal probabilities (no randomness: the seed is not used)."""
    elig = eligibility(plan, registry, visits, roster)
    slots = elig.slots
    if any(not s.candidates for s in slots):
        raise InfeasibleError(diagnose(plan, registry, visits, roster, elig, 0.0))
    q = plan.policy.pair_probability_cap
    q_units = int(q * UNIT)
    edge_insp = np.array([i for s in slots for i in s.candidates], dtype=np.int64)
    edge_slot = np.array([k for k, s in enumerate(slots) for _ in s.candidates], dtype=np.int64)
    slot_size = np.array([len(s.candidates) for s in slots], dtype=np.int64)
    slot_visit = np.array([s.visit for s in slots], dtype=np.int64)
    # A visit whose slots have fewer than 1/q candidates each, or whose team is more than
    # q times its candidates, cannot keep its pairs under the cap: those pairs are let go.
    tight_visit = np.zeros(len(visits), dtype=bool)
    tight_visit[slot_visit[slot_size * q_units < UNIT]] = True
    for vi, ids in enumerate(elig.visit_slots):
        union = set().union(*(slots[k].candidates for k in ids))
        if len(union) * q_units < len(ids) * UNIT:
            tight_visit[vi] = True

    result = problem = None
    for keep_cap in (True, False):
        problem = MarginalProblem(
            n_inspectors=len(roster.inspectors),
            n_slots=len(slots),
            slot_visit=slot_visit,
            edge_inspector=edge_insp,
            edge_slot=edge_slot,
            edge_cap=np.full(len(edge_insp), UNIT, dtype=np.int64),
            pair_cap=np.zeros(0, dtype=np.int64),
            caps=roster.cap,
            unit=UNIT,
            segment=SEGMENT,
            edge_soft=np.minimum(UNIT, -(-SPREAD * UNIT // slot_size[edge_slot])),
        )
        _, p_visit, _ = pairs_of(problem)
        pair_cap = np.where(tight_visit[p_visit] | (not keep_cap), UNIT, q_units)
        problem = dataclasses.replace(problem, pair_cap=pair_cap)
        result = solve_marginals(problem, measure_shortfall=not keep_cap)
        if result.status.ok:
            break
    if result is None or not result.status.ok:
        raise InfeasibleError(diagnose(plan, registry, visits, roster, elig, (result.total_flow if result else 0) / UNIT))
    return Lottery(problem, result, slots, visits, roster, q)


def _draw_teams(problem: MarginalProblem, result, visits: list[Visit], slots: list[Slot], roster: Roster, seed: str, q: float):
    """Round the marginals to one assignment with the seed's hash stream."""
    p_insp, p_visit, edge_pair = pairs_of(problem)
    multi = np.bincount(edge_pair, minlength=len(p_insp)) > 1
    n_i = problem.n_inspectors
    insp0, slot0 = 1, 1 + n_i
    pair0 = slot0 + problem.n_slots
    pair_node = np.full(len(p_insp), -1, dtype=np.int64)
    pair_node[multi] = pair0 + np.arange(int(multi.sum()))
    tails: list[int] = []
    heads: list[int] = []
    values: list[int] = []
    # source -> inspector
    tails += [0] * n_i
    heads += list(range(insp0, insp0 + n_i))
    values += result.load.tolist()
    single = ~multi[edge_pair]
    e_single = np.flatnonzero(single)
    first_edge = len(tails)
    tails += (insp0 + problem.edge_inspector[e_single]).tolist()
    heads += (slot0 + problem.edge_slot[e_single]).tolist()
    values += result.edge_flow[e_single].tolist()
    m_idx = np.flatnonzero(multi)
    tails += (insp0 + p_insp[m_idx]).tolist()
    heads += pair_node[m_idx].tolist()
    values += result.pair_flow[m_idx].tolist()
    e_multi = np.flatnonzero(~single)
    second_edge = len(tails)
    tails += pair_node[edge_pair[e_multi]].tolist()
    heads += (slot0 + problem.edge_slot[e_multi]).tolist()
    values += result.edge_flow[e_multi].tolist()

    rounded = round_flow(tails, heads, values, UNIT, subseed(seed, "teams"))
    chosen = np.zeros(len(problem.edge_inspector), dtype=bool)
    chosen[e_single] = np.array(rounded[first_edge : first_edge + len(e_single)]) == UNIT
    chosen[e_multi] = np.array(rounded[second_edge:]) == UNIT
    team_of_slot = np.full(problem.n_slots, -1, dtype=np.int64)
    team_of_slot[problem.edge_slot[chosen]] = problem.edge_inspector[chosen]
    if (team_of_slot < 0).any():
        raise AssertionError("lottery left a slot empty")
    teams: list[tuple[str, ...]] = []
    by_visit: dict[int, list[int]] = defaultdict(list)
    for k, s in enumerate(slots):
        by_visit[s.visit].append(int(team_of_slot[k]))
    load = Counter()
    for vi in range(len(visits)):
        members = by_visit[vi]
        if len(set(members)) != len(members):
            raise AssertionError(f"visit {visits[vi].visit_id}: an inspector drawn twice")
        teams.append(tuple(roster.inspectors[i].inspector_id for i in members))
        load.update(members)
    probs = result.pair_flow / UNIT
    over = np.flatnonzero(probs > q + 1e-12)
    over_visits = sorted({visits[int(v)].visit_id for v in result.pair_visit[over]})
    stats = StaffingStats(
        max_pair_probability=float(probs.max(initial=0.0)),
        pair_probability_cap=q,
        pairs_over_cap=int((probs > q + 1e-12).sum()),
        expected_load={ins.inspector_id: float(result.load[k]) / UNIT for k, ins in enumerate(roster.inspectors)},
        load={ins.inspector_id: int(load.get(k, 0)) for k, ins in enumerate(roster.inspectors)},
        capacity={ins.inspector_id: int(roster.cap[k]) for k, ins in enumerate(roster.inspectors)},
        eligible_pairs=len(p_insp),
        visits_over_cap=over_visits,
    )
    return teams, stats
