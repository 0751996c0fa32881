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

Independent parts: the visits fall into pools that share no inspector (the
connected components of the eligibility graph: a county bureau's own tasks,
a joint task with its ecology bureau, ...). Each part's flow is solved and
rounded on its own, on any executor (:mod:`scheduler.executor`), its random
stream keyed ``subseed(seed, "teams", <the part's first visit id>)``: the
teams are the same bytes whatever the number of workers.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from scheduler.draw import recent_history
from scheduler.errors import InfeasibleError
from scheduler.executor import Executor, LocalExecutor, map_packed
from scheduler.lottery import round_flow_array
from scheduler.messages import t
from scheduler.plan import Plan
from scheduler.plan_run import StaffingStats, Visit
from scheduler.registry import Inspector, Registry
from scheduler.tickets import subseed
from solver.marginals import (
    MarginalProblem,
    Marginals,
    assign_slots,
    network,
    rounding_network,
    solve_marginals,
    split_capacity,
)
from solver.status import SolveStatus

UNIT = 10_000  # one visit = UNIT flow units; probabilities in steps of 1/UNIT
SEGMENT = UNIT // 4  # load-balancing cost steps of a quarter visit
# Each slot's probability is spread over its candidates: up to SPREAD / |candidates| per
# candidate at no cost, more at a small cost that never outweighs load balance.
SPREAD = 2
# A pool with more candidate edges than this that spans several regions (a province or city
# task staffed ``local``) is solved region by region, its shared inspectors' capacity split
# first (see find_parts, split_shared): one flow of that size takes minutes and gigabytes.
SPLIT_ABOVE = 1_000_000


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
        at = index.get(lv.inspector_id)
        if at is not None:
            available[at] &= ~((day_arr >= np.datetime64(lv.start)) & (day_arr <= np.datetime64(lv.end)))
    cumulative = np.zeros((len(inspectors), len(days) + 1), dtype=np.int64)
    np.cumsum(available, axis=1, out=cumulative[:, 1:])

    pol = plan.policy
    daily = np.array(
        [min(i.daily_cap, pol.daily_cap) if i.daily_cap is not None else pol.daily_cap for i in inspectors]
    )
    cap = np.array(
        [
            min(i.quarterly_cap, pol.quarterly_cap) if i.quarterly_cap is not None else pol.quarterly_cap
            for i in inspectors
        ],
        dtype=np.int64,
    )
    # Visits already done this quarter count against the cap.
    h = registry.history
    if not h.empty:
        inq = h[
            (h["date"] >= np.datetime64(plan.quarter_start)) & (h["date"] <= np.datetime64(plan.quarter_end))
        ]
        done = Counter(i for ids in inq["inspector_ids"] for i in ids)
        for iid, n in done.items():
            if iid in index:
                cap[index[iid]] -= n
    cap = np.maximum(0, np.minimum(cap, daily * available.sum(axis=1)))
    return Roster(inspectors, days, available, cumulative, cap, daily, index)


@dataclass
class Eligibility:
    """Slots of every visit and their candidates, as flat arrays (a province has ~10^7 pairs).

    Slot ``k`` belongs to visit ``slot_visit[k]``; its candidates (inspector indices,
    ascending) are ``cand[slot_ptr[k]:slot_ptr[k + 1]]``; visit ``v``'s slots are
    ``visit_ptr[v]`` to ``visit_ptr[v + 1]`` (slot order: the layout's). ``excluded`` and
    ``allowed`` are per visit (visits alike share one object).
    """

    slot_visit: np.ndarray
    slot_department: list[str | None]
    slot_specialty: list[str | None]
    slot_ptr: np.ndarray
    cand: np.ndarray
    visit_ptr: np.ndarray
    excluded: list[Counter]  # per visit: reason -> count
    allowed: list[dict[str, set[str]]]  # per visit: department -> agencies

    @property
    def n_slots(self) -> int:
        return len(self.slot_visit)

    def candidates(self, k: int) -> np.ndarray:
        """Candidate inspectors (indices) of slot ``k``."""
        return self.cand[self.slot_ptr[k] : self.slot_ptr[k + 1]]

    def slot_sizes(self) -> np.ndarray:
        return np.diff(self.slot_ptr)

    @property
    def visit_slots(self) -> list[list[int]]:
        """Per visit, its slot numbers."""
        return [
            list(range(int(a), int(b))) for a, b in zip(self.visit_ptr[:-1], self.visit_ptr[1:], strict=True)
        ]

    @property
    def slots(self) -> list[Slot]:
        """The slots as objects (for small uses: diagnoses, recusal)."""
        return [
            Slot(
                int(self.slot_visit[k]),
                self.slot_department[k],
                self.slot_specialty[k],
                self.candidates(k).tolist(),
            )
            for k in range(self.n_slots)
        ]


EXCLUSION_KEYS = ("certificate", "conflict", "former_employer", "relative", "rotation", "availability", "cap")
"""Why an inspector is not eligible for a visit; texts in :mod:`scheduler.messages` (``excluded_*``)."""
PAIR_REASONS = ("conflict", "former_employer", "relative", "rotation")  # checked in this order


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


def _layout(
    plan: Plan, registry: Registry, visit: Visit, has_holder: Callable[[str, str], bool]
) -> list[tuple[str | None, str | None]]:
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


def slot_layout(
    plan: Plan, registry: Registry, visit: Visit, allowed: dict[str, set[str]], eligible: list[Inspector]
) -> list[tuple[str | None, str | None]]:
    """(department, specialty) of each team place: one per department (lead first); each task's
    specialty goes to its lead department's place when someone eligible there holds it, else to
    another department's that has a holder; free places (any department) up to ``team_size``."""

    def has_holder(dept: str, spec: str) -> bool:
        return any(i.agency_id in allowed[dept] and spec in i.specialties for i in eligible)

    return _layout(plan, registry, visit, has_holder)


def _pair_exclusions(
    plan: Plan, registry: Registry, visits: list[Visit], codes: list[str], reps: list[str], roster: Roster
):
    """Per visit, the inspectors a pair rule excludes and the first rule that does (declared
    conflict, former employer, relative of the legal representative, rotation): sparse."""
    by_code: dict[str, list[int]] = defaultdict(list)
    for vi, code in enumerate(codes):
        by_code[code].append(vi)
    by_rep: dict[str, list[int]] = defaultdict(list)
    for vi, rep in enumerate(reps):
        if rep:
            by_rep[rep].append(vi)
    out: dict[int, dict[int, str]] = defaultdict(dict)
    index = roster.index
    for c in registry.conflicts:
        if c.inspector_id in index:
            for vi in by_code.get(c.credit_code, ()):
                out[vi].setdefault(index[c.inspector_id], "conflict")
    for k, ins in enumerate(roster.inspectors):
        for code in ins.former_employers:
            for vi in by_code.get(code, ()):
                out[vi].setdefault(k, "former_employer")
    for k, ins in enumerate(roster.inspectors):
        for rid in ins.relatives_ids:
            for vi in by_rep.get(rid, ()):
                out[vi].setdefault(k, "relative")
    if plan.policy.rotation:
        hist = recent_history(plan, registry)
        if not hist.empty:
            hist = hist[hist["credit_code"].isin(by_code)]
            for code, ids in zip(hist["credit_code"], hist["inspector_ids"], strict=False):
                for iid in ids:
                    if iid in index:
                        for vi in by_code[code]:
                            out[vi].setdefault(index[iid], "rotation")
    return out


@dataclass
class _Pool:
    """The candidate pool of a group of alike visits: who is in it and which rules they pass."""

    union: np.ndarray  # inspector indices, ascending
    dept_mask: dict[str, np.ndarray]
    c_ok: np.ndarray  # certified and not auxiliary
    avail_ok: np.ndarray
    cap_ok: np.ndarray
    k: int  # the most slots a visit of the group can have

    def slots(self, plan: Plan, registry: Registry, visit: Visit, elig: np.ndarray, has_spec) -> list[tuple]:
        """(department, specialty, candidates) of each place on the visit's team."""

        def has_holder(dept: str, spec: str) -> bool:
            return bool((elig & self.dept_mask[dept] & has_spec(spec)[self.union]).any())

        layout = _layout(plan, registry, visit, has_holder)
        assert len(layout) <= self.k, (visit.visit_id, layout, self.k)
        out = []
        for dept, spec in layout:
            m = elig.copy()
            if dept:
                m &= self.dept_mask[dept]
            if spec:
                m &= has_spec(spec)[self.union]
            out.append((dept, spec, self.union[m]))
        return out

    def reasons(self, pair_out: np.ndarray) -> Counter:
        """Exclusion counts, each inspector under the first rule that excludes them."""
        live = self.c_ok & ~pair_out
        r = Counter(
            {
                "certificate": int((~self.c_ok).sum()),
                "availability": int((live & ~self.avail_ok).sum()),
                "cap": int((live & self.avail_ok & ~self.cap_ok).sum()),
            }
        )
        return +r  # drop zero counts


def _count_groups(
    plan: Plan, registry: Registry, visits: list[Visit], roster: Roster, prepared: list[tuple], has_spec
) -> list[str]:
    """Counting before any per-visit work: per task, every visit needs ``team_size`` inspectors,
    one of each of the task's departments and one holding its specialty. Against each need,
    the capacity within the task's window of everyone in the visits' pools who could meet it
    (pools before the per-visit exclusions, so a shortage here is a shortage for certain)."""
    n_i = len(roster.inspectors)
    places: dict[tuple, int] = defaultdict(int)
    covered: dict[tuple, np.ndarray] = {}
    team_size = plan.policy.team_size

    def add(key: tuple, n: int, who: np.ndarray) -> None:
        places[key] += n
        if key not in covered:
            covered[key] = np.zeros(n_i, dtype=bool)
        covered[key][who] = True

    for members, _allowed, pool, base, _slots, _reasons, _ in prepared:
        v0 = visits[members[0]]
        n = len(members)
        for tid in v0.task_ids:
            task = plan.task(tid)
            add((tid, "*", None), n * team_size, pool.union[base])
            for a in (task.agency_id, *task.joint_agencies):
                d = registry.agencies[a].department
                if d in pool.dept_mask:
                    add((tid, d, None), n, pool.union[base & pool.dept_mask[d]])
            if task.specialty:
                add((tid, None, task.specialty), n, pool.union[base & has_spec(task.specialty)[pool.union]])
    reasons = []
    for (tid, dept, spec), need in sorted(places.items(), key=lambda kv: str(kv[0])):
        task = plan.task(tid)
        pool_i = np.flatnonzero(covered[(tid, dept, spec)])
        capacity = int(window_capacity(roster, task.window_start, task.window_end)[pool_i].sum())
        if need <= capacity or not len(pool_i):  # nobody at all: the empty-slot diagnosis says why
            continue
        key = "staffing_pool_places" if dept == "*" else "staffing_pool"
        reasons.append(
            t(key, task=tid, n=need, what=_describe_slot(spec, dept), start=task.window_start,
              end=task.window_end, pool=len(pool_i), capacity=capacity)
        )
    return reasons


def eligibility(
    plan: Plan, registry: Registry, visits: list[Visit], roster: Roster, count_first: bool = False
) -> Eligibility:
    """Candidates for every slot of every visit, after every exclusion rule. With
    ``count_first``, a shortage that counting over the visits' shared pools shows is reported
    (InfeasibleError) before the per-visit work (:func:`_count_groups`).

    Visits of the same tasks, window and (for ``local``/``delegated`` staffing) region share
    their candidate pool; only the sparse pair rules (conflicts, former employers, relatives,
    rotation) differ visit by visit, so the work is per group, not per (visit, inspector)."""
    ins_list = roster.inspectors
    cert_ok = np.array([bool(i.certificate_no) and not i.auxiliary for i in ins_list], dtype=bool)
    agency_names = sorted({i.agency_id for i in ins_list})
    agency_num = {a: k for k, a in enumerate(agency_names)}
    agency_of = np.array([agency_num[i.agency_id] for i in ins_list], dtype=np.int64)
    by_agency: dict[str, np.ndarray] = {a: np.flatnonzero(agency_of == k) for k, a in enumerate(agency_names)}
    spec_cache: dict[str, np.ndarray] = {}

    def has_spec(spec: str) -> np.ndarray:
        if spec not in spec_cache:
            spec_cache[spec] = np.array([spec in i.specialties for i in ins_list], dtype=bool)
        return spec_cache[spec]

    ent = registry.enterprises
    codes = [v.credit_code for v in visits]
    pos = registry.enterprise_rows(codes)
    if len(pos) and (pos < 0).any():
        raise ValueError(
            f"visit {visits[int(np.flatnonzero(pos < 0)[0])].visit_id}: enterprise not in the registry"
        )
    region = [str(x) for x in ent["region_code"].iloc[pos].tolist()] if len(pos) else []
    reps_raw = ent["legal_rep_id"].iloc[pos].tolist() if len(pos) else []
    reps = ["" if r is None or (isinstance(r, float) and np.isnan(r)) else str(r) for r in reps_raw]
    team_size = plan.policy.team_size

    slot_visit: list[int] = []
    slot_dept: list[str | None] = []
    slot_spec: list[str | None] = []
    sizes: list[int] = []
    cands: list[np.ndarray] = []
    visit_nslots = np.zeros(len(visits), dtype=np.int64)
    excluded: list[Counter] = [Counter()] * len(visits)
    allowed_all: list[dict[str, set[str]]] = [{}] * len(visits)

    groups: dict[tuple, list[int]] = {}
    for vi, v in enumerate(visits):
        regional = any(plan.task(t).staffing != "lead" for t in v.task_ids)
        key = (v.task_ids, region[vi] if regional else "", v.window_start, v.window_end)
        groups.setdefault(key, []).append(vi)

    prepared: list[tuple] = []
    for members in groups.values():
        v0 = visits[members[0]]
        allowed = allowed_agencies(plan, registry, v0, region[members[0]])
        pool_agencies = sorted(set().union(*allowed.values()))
        union = np.unique(
            np.concatenate(
                [by_agency.get(a, np.zeros(0, np.int64)) for a in pool_agencies] or [np.zeros(0, np.int64)]
            )
        )
        # The most slots the layout can make: one per department plus one per further specialty.
        k = max(team_size, len(v0.departments) + max(0, len(v0.specialties) - 1))
        lo, hi = roster.day_range(v0.window_start, v0.window_end)
        width = hi - lo
        c_ok = cert_ok[union]
        avail_ok = (width - (roster.cumulative[union, hi] - roster.cumulative[union, lo])) * k < width
        cap_ok = roster.cap[union] > 0
        base = c_ok & avail_ok & cap_ok
        union_agency = agency_of[union]
        dept_mask = {
            d: np.isin(union_agency, [agency_num[a] for a in ags if a in agency_num])
            for d, ags in allowed.items()
        }

        pool = _Pool(union, dept_mask, c_ok, avail_ok, cap_ok, k)
        no_pairs = np.zeros(len(union), dtype=bool)
        base_slots = pool.slots(plan, registry, v0, base, has_spec)
        base_reasons = pool.reasons(no_pairs)
        prepared.append((members, allowed, pool, base, base_slots, base_reasons, no_pairs))

    if count_first:
        shortages = _count_groups(plan, registry, visits, roster, prepared, has_spec)
        if shortages:
            raise InfeasibleError(shortages)
    pair_ex = _pair_exclusions(plan, registry, visits, codes, reps, roster)
    for members, allowed, pool, base, base_slots, base_reasons, no_pairs in prepared:
        union = pool.union
        for vi in members:
            ex = pair_ex.get(vi)
            slots_here, reasons = base_slots, base_reasons
            if ex:
                ids = np.array(sorted(ex), dtype=np.int64)
                at = np.searchsorted(union, ids)
                found = (
                    (at < len(union)) & (union[np.minimum(at, len(union) - 1)] == ids)
                    if len(union)
                    else ids < 0
                )
                found &= cert_ok[ids]
                if found.any():
                    pair_out = no_pairs.copy()
                    pair_out[at[found]] = True
                    reasons = pool.reasons(pair_out)
                    for i in ids[found]:
                        reasons[ex[int(i)]] += 1
                    slots_here = pool.slots(plan, registry, visits[vi], base & ~pair_out, has_spec)
            excluded[vi] = reasons
            allowed_all[vi] = allowed
            visit_nslots[vi] = len(slots_here)
            for dept, spec, c in slots_here:
                slot_visit.append(vi)
                slot_dept.append(dept)
                slot_spec.append(spec)
                sizes.append(len(c))
                cands.append(c)

    # Slots in visit order (each visit's slots in layout order).
    order = np.argsort(np.array(slot_visit, dtype=np.int64), kind="stable")
    sizes_a = np.array(sizes, dtype=np.int64)[order]
    slot_ptr = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(sizes_a, out=slot_ptr[1:])
    cand = (
        np.concatenate([cands[j] for j in order]).astype(np.int32)
        if len(order)
        else np.zeros(0, dtype=np.int32)
    )
    visit_ptr = np.zeros(len(visits) + 1, dtype=np.int64)
    np.cumsum(visit_nslots, out=visit_ptr[1:])
    return Eligibility(
        slot_visit=np.array(slot_visit, dtype=np.int64)[order],
        slot_department=[slot_dept[j] for j in order],
        slot_specialty=[slot_spec[j] for j in order],
        slot_ptr=slot_ptr,
        cand=cand,
        visit_ptr=visit_ptr,
        excluded=excluded,
        allowed=allowed_all,
    )


def _describe_slot(specialty: str | None, department: str | None) -> str:
    what = t("recusal_specialty", specialty=specialty) if specialty else t("recusal_any")
    return t("recusal_department", department=department, what=what) if department else what


def visit_regions(registry: Registry, visits: list[Visit]) -> tuple[np.ndarray, np.ndarray]:
    """Per visit, a number for the region (county code) its enterprise is registered in; and
    the codes by number."""
    rows = registry.enterprise_rows([v.credit_code for v in visits])
    if not len(rows):
        return np.zeros(0, np.int64), np.zeros(0, str)
    codes = registry.enterprises["region_code"].iloc[rows].astype(str).to_numpy()
    names, index = np.unique(codes, return_inverse=True)
    return index.astype(np.int64), names


def window_capacity(roster: Roster, start: dt.date, end: dt.date) -> np.ndarray:
    """Per inspector, the visits they can make between ``start`` and ``end``: their quarterly
    capacity, and no more than the daily cap times their available working days there."""
    lo, hi = roster.day_range(start, end)
    days = roster.cumulative[:, hi] - roster.cumulative[:, lo]
    return np.minimum(roster.cap, roster.daily_cap * days)


def count_shortages(
    plan: Plan, visits: list[Visit], roster: Roster, elig: Eligibility, share: np.ndarray | None = None
) -> list[str]:
    """Shortages that counting alone shows, before any flow: per task and kind of place
    (department and specialty, e.g. the lead's specialty place, the joining department's),
    and per task over all its places, the places to fill against the capacity, within the
    task's window, of every inspector eligible for any of them (Hall's condition on one side
    of the network: if it fails, no assignment exists). ``share``, when given, bounds each
    inspector's capacity per task (a shared inspector's split, see :func:`split_shared`).
    Each reason names the task, the rule and the numbers."""
    if elig.n_slots == 0:
        return []
    task_ids = sorted({tid for v in visits for tid in v.task_ids})
    t_num = {tid: k for k, tid in enumerate(task_ids)}
    kinds: dict[tuple, int] = {}
    slot_task = np.array(
        [t_num[visits[int(v)].task_ids[0]] for v in elig.slot_visit.tolist()], dtype=np.int64
    )
    slot_kind = np.empty(elig.n_slots, dtype=np.int64)
    for k, (ti, d, sp) in enumerate(
        zip(slot_task.tolist(), elig.slot_department, elig.slot_specialty, strict=True)
    ):
        slot_kind[k] = kinds.setdefault((ti, d, sp), len(kinds))
    groups = list(kinds) + [(ti, "*", None) for ti in range(len(task_ids))]
    slot_groups = [slot_kind, len(kinds) + slot_task]
    n_i = len(roster.inspectors)
    sizes = elig.slot_sizes()
    reasons: list[str] = []
    for g_of_slot in slot_groups:
        n_g = int(g_of_slot.max()) + 1
        places = np.bincount(g_of_slot, minlength=n_g)
        covered = np.zeros((n_g, n_i), dtype=bool)
        covered[np.repeat(g_of_slot, sizes), elig.cand] = True
        for g in np.flatnonzero(places).tolist():
            ti, dept, spec = groups[g]
            task = plan.task(task_ids[ti])
            pool = np.flatnonzero(covered[g])
            cap = window_capacity(roster, task.window_start, task.window_end)[pool]
            if share is not None:
                cap = np.minimum(cap, share[ti, pool])
            capacity = int(cap.sum())
            if places[g] <= capacity:
                continue
            key = "staffing_capacity_places" if dept == "*" else "staffing_capacity"
            reasons.append(
                t(key, task=task.task_id, n=int(places[g]), what=_describe_slot(spec, dept),
                  start=task.window_start, end=task.window_end, pool=len(pool), capacity=capacity)
            )
    return reasons


def diagnose(
    plan: Plan,
    registry: Registry,
    visits: list[Visit],
    roster: Roster,
    elig: Eligibility,
    failing: Sequence[tuple[str, int, float, list[str]]] = (),
) -> list[str]:
    """Say which task, which rule and the numbers that make staffing impossible: places no
    one may fill; then what counting shows (:func:`count_shortages`); else, per part whose
    flow failed (``failing``: its first visit, places, how many the caps let it fill, its
    tasks), the shortfall of that part alone."""
    reasons: list[str] = []
    sizes = elig.slot_sizes()
    empty: dict[tuple, list[int]] = defaultdict(list)
    for k in np.flatnonzero(sizes == 0).tolist():
        key = ("/".join(visits[elig.slot_visit[k]].task_ids), elig.slot_department[k], elig.slot_specialty[k])
        empty[key].append(k)
    for (tasks, dept, spec), members in sorted(empty.items(), key=lambda kv: str(kv[0])):
        vi = int(elig.slot_visit[members[0]])
        v = visits[vi]
        why = [t("excluded_n", n=n, why=t("excluded_" + r)) for r, n in sorted(elig.excluded[vi].items())]
        others = set(
            elig.cand[elig.slot_ptr[elig.visit_ptr[vi]] : elig.slot_ptr[elig.visit_ptr[vi + 1]]].tolist()
        )
        if spec:
            why.append(t("excluded_without", n=len(others), specialty=spec))
        reasons.append(
            t("staffing_none_eligible", tasks=tasks, n=len(members), what=_describe_slot(spec, dept),
              start=v.window_start, end=v.window_end, visit=v.visit_id, code=v.credit_code,
              why=t("list_sep").join(why) if why else t("excluded_no_agency"))
        )
    if reasons:
        return reasons
    reasons = count_shortages(plan, visits, roster, elig)
    if reasons:
        return reasons
    for label, places, fits, task_ids in failing:
        reasons.append(
            t("staffing_part_caps", tasks="/".join(task_ids), need=places, label=label,
              team_size=plan.policy.team_size, routed=f"{fits:.1f}")
        )
    return reasons


# ---------------------------------------------------------------------------
# Independent parts and the lottery
# ---------------------------------------------------------------------------


@dataclass
class Part:
    """One independent pool: visits whose candidates never meet another part's.

    Parts are the connected components of the (inspector, visit) eligibility graph, ordered by
    their first visit. Nothing links two parts (no shared inspector), so solving and rounding
    them apart is the same lottery as solving them together; each part's random stream is
    keyed by its ``label`` (its first visit's id), never by which worker ran it.
    """

    label: str
    visits: np.ndarray  # global visit indices, ascending
    slots: np.ndarray  # global slot indices, ascending
    inspectors: np.ndarray  # global inspector indices, ascending
    problem: MarginalProblem  # local indices (inspectors, slots, visits of this part)
    tight_visit: np.ndarray  # local visits that cannot keep the pair cap
    marginals: Marginals | None = None

    @property
    def solution(self) -> Marginals:
        """The part's marginals, once solved (:func:`solve_part`)."""
        if self.marginals is None:
            raise RuntimeError(f"part {self.label} is not solved yet")
        return self.marginals

    @property
    def size(self) -> int:
        return len(self.problem.edge_inspector)


def visit_components(
    n_inspectors: int, edge_inspector: np.ndarray, edge_visit: np.ndarray, n_visits: int
) -> np.ndarray:
    """Per visit, its connected component in the (inspector, visit) graph with the given
    edges, components numbered 0, 1, ... in the order of their first visit."""
    n = n_inspectors + n_visits
    graph = coo_matrix(
        (
            np.ones(len(edge_visit), dtype=np.int8),
            (np.asarray(edge_inspector, np.int64), n_inspectors + edge_visit),
        ),
        shape=(n, n),
    ).tocsr()
    _, label = connected_components(graph, directed=False)
    visit_label = label[n_inspectors:]
    first = np.full(label.max(initial=-1) + 1, n_visits, dtype=np.int64)
    np.minimum.at(first, visit_label, np.arange(n_visits))
    rank = np.argsort(np.argsort(first, kind="stable"), kind="stable")
    return rank[visit_label]


def _slot_edges(elig: Eligibility, slots: np.ndarray) -> np.ndarray:
    """Indices into ``elig.cand`` of the given slots' candidates, slot after slot."""
    sizes = elig.slot_sizes()[slots]
    starts = elig.slot_ptr[slots]
    offsets = np.zeros(len(slots), dtype=np.int64)
    offsets[1:] = np.cumsum(sizes[:-1])
    return np.repeat(starts - offsets, sizes) + np.arange(int(sizes.sum()))


def find_parts(
    elig: Eligibility,
    n_inspectors: int,
    visit_region: np.ndarray | None = None,
    split_above: int | None = None,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]]:
    """(visits, slots, inspectors, split) of each part, ordered by first visit.

    A part is a connected component of the eligibility graph; a component with more than
    ``split_above`` candidate edges whose visits lie in several regions (a province task
    staffed ``local``: the province's own staff may go anywhere) is cut into one part per
    region, ``split`` True: its shared inspectors appear in several parts, and their capacity
    is divided among them first (:func:`split_shared`)."""
    n_visits = len(elig.visit_ptr) - 1
    sizes = elig.slot_sizes()
    visit_part = visit_components(n_inspectors, elig.cand, np.repeat(elig.slot_visit, sizes), n_visits)
    n_comp = int(visit_part.max(initial=-1)) + 1
    split_comp = np.zeros(n_comp, dtype=bool)
    if visit_region is not None and split_above is not None and n_visits:
        edges = np.bincount(visit_part[elig.slot_visit], weights=sizes, minlength=n_comp)
        n_reg = int(visit_region.max()) + 1
        pairs = np.unique(visit_part * n_reg + visit_region)
        regions = np.bincount(pairs // n_reg, minlength=n_comp)
        split_comp = (edges > split_above) & (regions > 1)
        if split_comp.any():
            key = visit_part * (n_reg + 1) + np.where(split_comp[visit_part], visit_region + 1, 0)
            _, label = np.unique(key, return_inverse=True)
            first = np.full(int(label.max()) + 1, n_visits, dtype=np.int64)
            np.minimum.at(first, label, np.arange(n_visits))
            rank = np.argsort(np.argsort(first, kind="stable"), kind="stable")
            part_split = np.zeros(len(first), dtype=bool)
            part_split[rank[label]] = split_comp[visit_part]
            visit_part = rank[label]
        else:
            part_split = split_comp
    else:
        part_split = split_comp
    n_parts = int(visit_part.max(initial=-1)) + 1
    visit_order = np.argsort(visit_part, kind="stable")
    visit_bounds = np.searchsorted(visit_part[visit_order], np.arange(n_parts + 1))
    slot_part = visit_part[elig.slot_visit]
    slot_order = np.argsort(slot_part, kind="stable")
    slot_bounds = np.searchsorted(slot_part[slot_order], np.arange(n_parts + 1))
    out = []
    for p in range(n_parts):
        vs = visit_order[visit_bounds[p] : visit_bounds[p + 1]]
        ss = slot_order[slot_bounds[p] : slot_bounds[p + 1]]
        ins = np.unique(elig.cand[_slot_edges(elig, ss)]).astype(np.int64)
        out.append((vs, ss, ins, bool(part_split[p])))
    return out


def split_shared(
    plan: Plan,
    visits: list[Visit],
    roster: Roster,
    elig: Eligibility,
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]],
    part_region: list[str] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Each part's capacity per inspector (quarterly visits), the shared inspectors' divided
    among the split parts they are eligible in, and the shortages the split shows.

    Before the lottery and without the seed: a small flow on aggregated demand (per part and
    kind of place, not per visit) routes every place of the split parts to an inspector of
    that kind there, loads balanced by convex costs as in the lottery (within capacity; a
    place counted once per slot, at most each slot an inspector fits). Each inspector's share
    in a part is what the flow gives it there, plus its unused capacity divided over its
    parts in proportion to the places it fits there (largest remainder, ties to the earlier
    part): whole visits, summing to its capacity. With each share, the visits the flow gives
    the inspector in its other parts (``base``): the part's lottery costs its load from there
    on, so each part balances loads as if it saw the others."""
    caps = [roster.cap[ins].astype(np.int64) for _, _, ins, _ in parts]
    base = [np.zeros(len(ins), dtype=np.int64) for _, _, ins, _ in parts]
    split = [k for k, p in enumerate(parts) if p[3]]
    if not split:
        return caps, base, []
    kinds: dict[tuple, int] = {}
    slot_kind = np.array(
        [
            kinds.setdefault((d, sp), len(kinds))
            for d, sp in zip(elig.slot_department, elig.slot_specialty, strict=True)
        ],
        dtype=np.int64,
    )
    n_k = len(kinds)
    arc_i, arc_g, arc_n, demand = [], [], [], []
    for j, k in enumerate(split):
        _, ss, _, _ = parts[k]
        e = _slot_edges(elig, ss)
        sk = np.repeat(slot_kind[ss], elig.slot_sizes()[ss])
        key = elig.cand[e].astype(np.int64) * n_k + sk
        uk, n = np.unique(key, return_counts=True)
        arc_i.append(uk // n_k)
        arc_g.append(j * n_k + uk % n_k)
        arc_n.append(n)
        demand.append(np.bincount(slot_kind[ss], minlength=n_k))
    arc_i_a, arc_g_a, arc_n_a = np.concatenate(arc_i), np.concatenate(arc_g), np.concatenate(arc_n)
    group_demand = np.concatenate(demand)
    insp, local_i = np.unique(arc_i_a, return_inverse=True)
    result = split_capacity(roster.cap[insp], local_i, arc_g_a, arc_n_a, group_demand)
    if not result.ok:
        names = {v: k for k, v in kinds.items()}
        reasons = []
        for g in np.flatnonzero(result.routed < group_demand).tolist():
            k = split[g // n_k]
            dept, spec = names[g % n_k]
            vs = parts[k][0]
            tasks = sorted({t for v in vs.tolist() for t in visits[v].task_ids})
            pool = arc_i_a[arc_g_a == g]
            where = (
                t("staffing_where_region", region=part_region[k])
                if part_region
                else t("staffing_where_from", visit=visits[int(vs[0])].visit_id)
            )
            reasons.append(
                t("staffing_split", tasks="/".join(tasks), n=int(group_demand[g]), where=where,
                  what=_describe_slot(spec, dept), pool=len(pool), capacity=int(roster.cap[pool].sum()),
                  routed=int(result.routed[g]))
            )
        return caps, base, reasons
    # shares: the flow per (inspector, part), plus unused capacity in proportion to places
    part_of = arc_g_a // n_k
    key = local_i * len(split) + part_of
    uk, inv = np.unique(key, return_inverse=True)
    got = np.bincount(inv, weights=result.arc_flow, minlength=len(uk)).astype(np.int64)
    fits = np.bincount(inv, weights=arc_n_a, minlength=len(uk)).astype(np.int64)
    who = uk // len(split)
    left = roster.cap[insp][who] - np.bincount(who, weights=got, minlength=len(insp)).astype(np.int64)[who]
    total_fits = np.bincount(who, weights=fits, minlength=len(insp)).astype(np.int64)[who]
    exact = left * fits
    lo = exact // np.maximum(total_fits, 1)
    rem = exact - lo * np.maximum(total_fits, 1)
    extra = left - np.bincount(who, weights=lo, minlength=len(insp)).astype(np.int64)[who]
    order = np.lexsort((uk % len(split), -rem, who))  # per inspector: largest remainder first
    rank_in = np.arange(len(uk)) - np.searchsorted(who[order], who[order])
    bonus = np.zeros(len(uk), dtype=np.int64)
    bonus[order] = (rank_in < extra[order]).astype(np.int64)
    share = got + lo + bonus
    elsewhere = np.bincount(who, weights=got, minlength=len(insp)).astype(np.int64)[who] - got
    for j, k in enumerate(split):
        sel = np.flatnonzero(uk % len(split) == j)
        ins = parts[k][2]
        at = np.searchsorted(ins, insp[who[sel]])
        caps[k] = np.zeros(len(ins), dtype=np.int64)
        caps[k][at] = share[sel]
        base[k] = np.zeros(len(ins), dtype=np.int64)
        base[k][at] = elsewhere[sel]
    return caps, base, []


def _part_problem(
    elig: Eligibility,
    caps: np.ndarray,
    visits: np.ndarray,
    slots: np.ndarray,
    inspectors: np.ndarray,
    q_units: int,
):
    """The part's flow network in local indices, and which of its visits cannot keep the cap."""
    sizes = elig.slot_sizes()[slots]
    starts = elig.slot_ptr[slots]
    total = int(sizes.sum())
    offsets = np.zeros(len(slots), dtype=np.int64)
    offsets[1:] = np.cumsum(sizes[:-1])
    idx = np.repeat(starts - offsets, sizes) + np.arange(total)
    cand = elig.cand[idx].astype(np.int64)
    edge_insp = np.searchsorted(inspectors, cand).astype(np.int32)  # int32: a province has ~10^7 edges
    edge_slot = np.repeat(np.arange(len(slots), dtype=np.int32), sizes)
    slot_visit = np.searchsorted(visits, elig.slot_visit[slots])
    # A visit whose slots have fewer than 1/q candidates each, or whose team is more than
    # q times its candidates, cannot keep its pairs under the cap: those pairs are let go.
    tight = np.zeros(len(visits), dtype=bool)
    tight[slot_visit[sizes * q_units < UNIT]] = True
    n_slots = np.bincount(slot_visit, minlength=len(visits))
    widest = np.zeros(len(visits), dtype=np.int64)
    np.maximum.at(widest, slot_visit, sizes)
    maybe = np.flatnonzero(widest * q_units < n_slots * UNIT)  # the union may be too small
    if len(maybe):
        e = np.flatnonzero(np.isin(slot_visit[edge_slot], maybe))
        pair = np.unique(slot_visit[edge_slot[e]] * (len(inspectors) + 1) + edge_insp[e])
        union = np.bincount(pair // (len(inspectors) + 1), minlength=len(visits))
        tight[maybe] |= union[maybe] * q_units < n_slots[maybe] * UNIT
    problem = MarginalProblem(
        n_inspectors=len(inspectors),
        n_slots=len(slots),
        slot_visit=slot_visit,
        edge_inspector=edge_insp,
        edge_slot=edge_slot,
        visit_cap=np.where(tight, UNIT, q_units),
        caps=caps,
        unit=UNIT,
        segment=SEGMENT,
        edge_soft=np.minimum(UNIT, -(-SPREAD * UNIT // sizes[edge_slot])).astype(np.int32),
    )
    return problem, tight


def solve_part(
    problem: MarginalProblem, tight_visit: np.ndarray, q_units: int
) -> tuple[MarginalProblem, Marginals]:
    """Marginals of one part: every pair under the cap if the part allows it, else (second
    pass) with the cap let go where it must be, so a diagnosis can say how far it fell short."""
    for keep_cap in (True, False):
        visit_cap = np.where(tight_visit | (not keep_cap), UNIT, q_units)
        solved = dataclasses.replace(problem, visit_cap=visit_cap)
        result = solve_marginals(solved, measure_shortfall=not keep_cap)
        if result.status.ok:
            break
    return solved, result


def _packing(parts: list[Part], ex: Executor) -> tuple[list[int], int]:
    """Part sizes (edges) and the batch size that gives each worker a few batches."""
    sizes = [p.size for p in parts]
    return sizes, max(200_000, sum(sizes) // max(1, 4 * ex.workers))


@dataclass
class Lottery:
    """The assignment lottery before the seed: slots, candidates and marginal probabilities,
    part by part. ``problem`` / ``marginals`` assemble the whole network (pairs listed by
    ``marginals.pair_inspector`` / ``pair_visit``; ``pair_flow / UNIT`` is each pair's
    probability of being drawn)."""

    parts: list[Part]
    elig: Eligibility
    visits: list[Visit]
    roster: Roster
    cap: float

    @property
    def slots(self) -> list[Slot]:
        return self.elig.slots

    @cached_property
    def _whole(self) -> tuple[MarginalProblem, Marginals]:
        n_i = len(self.roster.inspectors)
        ei = [p.inspectors[p.problem.edge_inspector] for p in self.parts]
        es = [p.slots[p.problem.edge_slot] for p in self.parts]
        edge_insp = np.concatenate(ei) if ei else np.zeros(0, np.int64)
        edge_slot = np.concatenate(es) if es else np.zeros(0, np.int64)
        order = np.lexsort((edge_insp, edge_slot))
        n_key = max(n_i, 1)
        keys, flows = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        visit_cap = np.zeros(len(self.elig.visit_ptr) - 1, dtype=np.int64)
        load = np.zeros(n_i, dtype=np.int64)
        for p in self.parts:
            m = p.solution
            keys.append(p.visits[m.pair_visit] * n_key + p.inspectors[m.pair_inspector])
            visit_cap[p.visits] = p.problem.visit_cap
            flows.append(m.pair_flow)
            load[p.inspectors] += m.load
        key = np.concatenate(keys)
        by_key = np.argsort(key, kind="stable")
        problem = MarginalProblem(
            n_inspectors=n_i,
            n_slots=self.elig.n_slots,
            slot_visit=self.elig.slot_visit,
            edge_inspector=edge_insp[order],
            edge_slot=edge_slot[order],
            visit_cap=visit_cap,
            caps=self.roster.cap,
            unit=UNIT,
            segment=SEGMENT,
        )
        total = int(sum(p.solution.total_flow for p in self.parts))
        empty = np.zeros(0, np.int64)
        key = key[by_key]
        marginals = Marginals(
            SolveStatus.OPTIMAL,
            key % n_key,
            key // n_key,
            np.concatenate(flows)[by_key],
            load,
            total,
            empty,
            empty,
        )
        return problem, marginals

    @property
    def problem(self) -> MarginalProblem:
        return self._whole[0]

    @property
    def marginals(self) -> Marginals:
        return self._whole[1]

    def pair_probabilities(self) -> dict[tuple[str, str], float]:
        """(inspector_id, visit_id) -> probability, for pairs with a positive probability."""
        out: dict[tuple[str, str], float] = {}
        for p in self.parts:
            m = p.solution
            for i, v, f in zip(
                m.pair_inspector.tolist(), m.pair_visit.tolist(), m.pair_flow.tolist(), strict=True
            ):
                if f > 0:
                    out[
                        (
                            self.roster.inspectors[p.inspectors[i]].inspector_id,
                            self.visits[p.visits[v]].visit_id,
                        )
                    ] = f / UNIT
        return out


def staff(
    plan: Plan,
    registry: Registry,
    visits: list[Visit],
    roster: Roster,
    seed: str,
    executor: Executor | None = None,
) -> tuple[list[tuple[str, ...]], StaffingStats]:
    """Draw a team for every visit. Returns the teams (slot order) and the lottery's facts."""
    lottery = build_lottery(plan, registry, visits, roster, executor)
    return draw_teams(lottery, seed, executor)


def build_lottery(
    plan: Plan, registry: Registry, visits: list[Visit], roster: Roster, executor: Executor | None = None
) -> Lottery:
    """Eligibility, parts and marginal probabilities (no randomness: the seed is not used).
    The parts' flows are solved on ``executor`` (default: in this process)."""
    elig = eligibility(plan, registry, visits, roster, count_first=True)
    return solve_lottery(plan, registry, visits, roster, elig, executor)


def solve_lottery(
    plan: Plan,
    registry: Registry,
    visits: list[Visit],
    roster: Roster,
    elig: Eligibility,
    executor: Executor | None = None,
    split_above: int | None = None,
) -> Lottery:
    """Parts and marginal probabilities from the eligibility (no randomness). A pool of more
    than ``split_above`` candidate edges (default :data:`SPLIT_ABOVE`) spanning several
    regions is split by region, its shared inspectors' capacity divided first."""
    split_above = SPLIT_ABOVE if split_above is None else split_above
    ex = executor or LocalExecutor()
    if (elig.slot_sizes() == 0).any():
        raise InfeasibleError(diagnose(plan, registry, visits, roster, elig))
    shortages = count_shortages(plan, visits, roster, elig)
    if shortages:  # counting shows it: no flow is built
        raise InfeasibleError(shortages)
    q = plan.policy.pair_probability_cap
    q_units = int(q * UNIT)
    region, region_names = visit_regions(registry, visits)
    found = find_parts(elig, len(roster.inspectors), region, split_above)
    part_caps, part_base, shortages = split_shared(
        plan, visits, roster, elig, found, [str(region_names[region[int(p[0][0])]]) for p in found]
    )
    if shortages:  # the shared inspectors' split shows it: no lottery flow is built
        raise InfeasibleError(shortages)
    parts: list[Part] = []
    for (vs, ss, ins, split), caps, base in zip(found, part_caps, part_base, strict=True):
        problem, tight = _part_problem(elig, caps, vs, ss, ins, q_units)
        if split:
            problem = dataclasses.replace(problem, base_load=base)
        parts.append(Part(visits[int(vs[0])].visit_id, vs, ss, ins, problem, tight))
    solved = map_packed(
        ex, solve_part, [(p.problem, p.tight_visit, q_units) for p in parts], *_packing(parts, ex)
    )
    failing = []
    for part, (problem, marginals) in zip(parts, solved, strict=True):
        part.problem = problem
        part.marginals = marginals
        if not marginals.status.ok:
            tasks = sorted({t for v in part.visits.tolist() for t in visits[v].task_ids})
            failing.append((part.label, problem.n_slots, marginals.total_flow / UNIT, tasks))
    if failing:
        raise InfeasibleError(diagnose(plan, registry, visits, roster, elig, failing))
    return Lottery(parts, elig, visits, roster, q)


def round_part(problem: MarginalProblem, result: Marginals, key: str) -> np.ndarray:
    """Round one part's marginals to one assignment with the hash stream ``key``: per slot of
    the part, the inspector (part-local index) that fills it."""
    net = network(problem)
    tails, heads, values = rounding_network(problem, net, result)
    rounded = round_flow_array(tails, heads, values, UNIT, key)
    n_i, n_p = problem.n_inspectors, len(net.pair_inspector)
    pair_on = rounded[n_i : n_i + n_p] == UNIT
    via_on = rounded[n_i + n_p : n_i + n_p + len(net.via)] == UNIT
    return assign_slots(problem, net, pair_on, via_on)


def draw_teams(
    lottery: Lottery, seed: str, executor: Executor | None = None
) -> tuple[list[tuple[str, ...]], StaffingStats]:
    """Realise the lottery with the seed (see :mod:`scheduler.lottery`): part by part, each with
    the stream ``subseed(seed, "teams", part.label)``."""
    ex = executor or LocalExecutor()
    parts, elig, visits, roster, q = lottery.parts, lottery.elig, lottery.visits, lottery.roster, lottery.cap
    rounded = map_packed(
        ex,
        round_part,
        [(p.problem, p.marginals, subseed(seed, "teams", p.label)) for p in parts],
        *_packing(parts, ex),
    )
    team_of_slot = np.full(elig.n_slots, -1, dtype=np.int64)
    for p, slot_insp in zip(parts, rounded, strict=True):
        team_of_slot[p.slots] = np.where(slot_insp >= 0, p.inspectors[np.maximum(slot_insp, 0)], -1)
    if (team_of_slot < 0).any():
        raise AssertionError("lottery left a slot empty")
    ids = [ins.inspector_id for ins in roster.inspectors]
    teams: list[tuple[str, ...]] = []
    load = np.bincount(team_of_slot, minlength=len(ids))
    for vi in range(len(visits)):
        members = team_of_slot[elig.visit_ptr[vi] : elig.visit_ptr[vi + 1]].tolist()
        if len(set(members)) != len(members):
            raise AssertionError(f"visit {visits[vi].visit_id}: an inspector drawn twice")
        teams.append(tuple(ids[i] for i in members))
    expected = np.zeros(len(ids), dtype=np.int64)
    max_p = 0.0
    over = 0
    over_visits: set[str] = set()
    pairs = 0
    for p in parts:
        m = p.solution
        expected[p.inspectors] += m.load
        probs = m.pair_flow / UNIT
        pairs += len(probs)
        max_p = max(max_p, float(probs.max(initial=0.0)))
        bad = np.flatnonzero(probs > q + 1e-12)
        over += len(bad)
        over_visits.update(visits[int(p.visits[v])].visit_id for v in m.pair_visit[bad])
    stats = StaffingStats(
        max_pair_probability=max_p,
        pair_probability_cap=q,
        pairs_over_cap=over,
        expected_load={i: float(e) / UNIT for i, e in zip(ids, expected.tolist(), strict=True)},
        load={i: int(n) for i, n in zip(ids, load.tolist(), strict=True)},
        capacity={i: int(c) for i, c in zip(ids, roster.cap.tolist(), strict=True)},
        eligible_pairs=pairs,
        visits_over_cap=sorted(over_visits),
    )
    return teams, stats
