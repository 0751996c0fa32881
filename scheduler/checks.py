"""An independent checker: does a finished plan obey every rule?

Written separately from the code that builds plans (it re-derives each rule
from the registry, plan and calendar), so the tests can run it on
registries the planner has never seen. Returns violations as sentences;
an empty list means every rule holds in every visit.

A province quarter has hundreds of thousands of visits. ``sample=k`` checks the rules of each
single visit (team, certificates, conflicts, rotation, leave, agencies, specialty, calendar,
window) on ``k`` of them, chosen by a rule anyone can re-derive from the visit ids alone: the
``k`` visits whose SHA-256 of the visit id (UTF-8) is smallest
(:func:`scheduler.hashing.smallest_digests`). The rules that add visits up — each inspector's
quarterly and daily caps, one visit per enterprise — are checked over every visit whatever the
sample. Looking at only the registry rows the checked visits need keeps a province's
millions of enterprises and history rows out of Python loops.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence

import pandas as pd

from scheduler.draw import lookback_start
from scheduler.hashing import smallest_digests
from scheduler.plan import Plan, Task
from scheduler.plan_run import Visit
from scheduler.registry import Inspector, Registry
from scheduler.tables import isin_text
from scheduler.workdays import WorkCalendar


def sample_visits(visits: Sequence[Visit], sample: int | None) -> list[int]:
    """Positions (in order) of the visits whose rules :func:`check_visits` checks one by one:
    all of them when ``sample`` is None, else the ``sample`` with the smallest SHA-256 of the
    visit id (the same visits whatever order the list is in)."""
    if sample is None:
        return list(range(len(visits)))
    return smallest_digests([v.visit_id for v in visits], sample)


def _rows(registry: Registry, codes: set[str], columns: Sequence[str]) -> dict[str, tuple]:
    """``credit code -> (columns…)`` for ``codes`` only (one scan of the enterprise table)."""
    ent = registry.enterprises
    if not codes or ent.empty:
        return {}
    sub = ent[isin_text(ent["credit_code"], codes)]
    return dict(
        zip(sub["credit_code"].tolist(), zip(*(sub[c].tolist() if c in sub.columns else [""] * len(sub) for c in columns), strict=True), strict=True)
    )


def _recent(plan: Plan, registry: Registry) -> pd.DataFrame:
    hist = registry.history
    if hist.empty:
        return hist
    start = pd.Timestamp(lookback_start(plan))
    return hist[(hist["date"] >= start) & (hist["date"] <= pd.Timestamp(plan.quarter_end))]


def _done_this_quarter(plan: Plan, registry: Registry) -> Counter:
    """Visits each inspector already made this quarter (history rows dated in the quarter)."""
    hist = registry.history
    if hist.empty:
        return Counter()
    inq = hist[
        (hist["date"] >= pd.Timestamp(plan.quarter_start)) & (hist["date"] <= pd.Timestamp(plan.quarter_end))
    ]
    return Counter(i for ids in inq["inspector_ids"] for i in ids)


def _allowed(registry: Registry, tasks: list[Task], region: str) -> dict[str, set[str]]:
    """Department -> agencies whose inspectors may staff a visit of ``tasks`` in ``region``."""
    allowed: dict[str, set[str]] = defaultdict(set)
    for t in tasks:
        for a in (t.agency_id, *t.joint_agencies):
            dept = registry.agencies[a].department
            if t.staffing == "delegated":  # the deepest same-department bureau holding the region
                home = a
                for b in registry.descendants(a):
                    ag = registry.agencies[b]
                    if (
                        ag.department == dept
                        and ag.covers(region)
                        and ag.level > registry.agencies[home].level
                    ):
                        home = b
                allowed[dept].add(home)
                continue
            allowed[dept].add(a)
            if t.staffing == "local":
                for b in registry.descendants(a):
                    if registry.agencies[b].department == dept and registry.agencies[b].covers(region):
                        allowed[dept].add(b)
    return allowed


def check_visits(
    plan: Plan,
    registry: Registry,
    visits: list[Visit],
    calendar: WorkCalendar | None = None,
    *,
    sample: int | None = None,
) -> list[str]:
    """Every staffing, conflict, availability, cap and calendar rule, visit by visit.

    ``sample``: check the rules of single visits on only that many visits (see the module's
    docstring: the smallest SHA-256 of the visit id); the quarterly cap (the smaller of the
    inspector's and the policy's, less visits already made this quarter), the daily cap and
    one visit per enterprise are checked over all visits anyway. Violations come visit by
    visit (in the list's order), then the caps, then the enterprises.
    """
    calendar = calendar or WorkCalendar()
    pol = plan.policy
    out: list[str] = []
    chosen = [visits[k] for k in sample_visits(visits, sample)]
    codes = {v.credit_code for v in chosen}
    enterprise = _rows(registry, codes, ("legal_rep_id", "region_code"))
    declared = {(c.inspector_id, c.credit_code) for c in registry.conflicts}
    recent = _recent(plan, registry)
    if not recent.empty:
        recent = recent[isin_text(recent["credit_code"], codes)]
    seen: dict[str, set[str]] = defaultdict(set)
    for c, ids in zip(recent["credit_code"], recent["inspector_ids"], strict=False):
        seen[c].update(ids)
    leave = defaultdict(list)
    for lv in registry.leave:
        leave[lv.inspector_id].append((lv.start, lv.end))
    tasks_by_id = {t.task_id: t for t in plan.tasks}
    workday: dict[dt.date, bool] = {}
    allowed_for: dict[tuple[tuple[str, ...], str], dict[str, set[str]]] = {}
    for v in chosen:
        tag = f"{v.visit_id} ({v.credit_code})"
        team = v.inspector_ids
        if v.date is None:
            out.append(f"{tag}: no date")
            continue
        if len(team) < pol.team_size:
            out.append(f"{tag}: team of {len(team)} < team_size {pol.team_size}")
        if len(set(team)) != len(team):
            out.append(f"{tag}: an inspector appears twice")
        if v.date not in workday:
            workday[v.date] = calendar.is_workday(v.date)
        if not workday[v.date]:
            out.append(f"{tag}: {v.date} is not a working day")
        unknown = [t for t in v.task_ids if t not in tasks_by_id]
        for t in unknown:
            out.append(f"{tag}: task {t} is not in the plan")
        tasks = [tasks_by_id[t] for t in v.task_ids if t in tasks_by_id]
        for task in tasks:
            if not task.window_start <= v.date <= task.window_end:
                out.append(f"{tag}: {v.date} outside task {task.task_id}'s window")
        if v.credit_code not in enterprise:
            out.append(f"{tag}: the enterprise is not in the registry")
            continue
        rep, region = enterprise[v.credit_code]
        key = (v.task_ids, region)
        if key not in allowed_for:
            allowed_for[key] = _allowed(registry, tasks, region)
        allowed = allowed_for[key]
        members: list[Inspector] = []
        for i in team:
            if i in registry.inspectors:
                members.append(registry.inspectors[i])
            else:
                out.append(f"{tag}: {i} is not on the inspector roster")
        for ins in members:
            who = f"{tag}: {ins.inspector_id}"
            if not ins.certificate_no:
                out.append(f"{who} has no certificate")
            if ins.auxiliary:
                out.append(f"{who} is auxiliary staff")
            if ins.certificate_expiry is not None and ins.certificate_expiry < v.date:
                out.append(f"{who}'s certificate expired {ins.certificate_expiry}, before {v.date}")
            if not any(ins.agency_id in a for a in allowed.values()):
                out.append(f"{who} of {ins.agency_id} is not of an allowed agency")
            if (ins.inspector_id, v.credit_code) in declared:
                out.append(f"{who} has a declared conflict")
            if v.credit_code in ins.former_employers:
                out.append(f"{who} worked for this enterprise")
            if rep and rep in ins.relatives_ids:
                out.append(f"{who} is a relative of the legal representative")
            if pol.rotation and ins.inspector_id in seen.get(v.credit_code, ()):
                out.append(f"{who} inspected it within the lookback (rotation)")
            if any(s <= v.date <= e for s, e in leave[ins.inspector_id]):
                out.append(f"{who} is on leave on {v.date}")
        depts = {registry.agencies[ins.agency_id].department for ins in members}
        for dept in allowed:
            if dept not in depts:
                out.append(f"{tag}: no member of department {dept}")
        for task in tasks:
            if task.specialty and not any(task.specialty in ins.specialties for ins in members):
                out.append(f"{tag}: nobody holds specialty {task.specialty} for task {task.task_id}")
    out += _caps(plan, registry, visits)
    visits_of = Counter(v.credit_code for v in visits)
    repeated = {code for code, n in visits_of.items() if n > 1}
    risk = _rows(registry, repeated, ("risk_class",))
    for code, n in visits_of.items():
        if n > 1 and (risk[code][0] if code in risk else None) != "D":
            out.append(f"{code}: {n} visits this quarter (one visit covers all its tasks)")
    return out


def _caps(plan: Plan, registry: Registry, visits: list[Visit]) -> list[str]:
    """The quarterly and daily caps of every inspector over every dated visit (first the
    quarterly, then the daily, each in the order the inspectors first appear)."""
    pol = plan.policy
    out: list[str] = []
    dated = [v for v in visits if v.date is not None]
    per_quarter = Counter(i for v in dated for i in v.inspector_ids)
    per_day = Counter((i, v.date) for v in dated for i in v.inspector_ids)
    done = _done_this_quarter(plan, registry)
    for iid, n in per_quarter.items():
        ins = registry.inspectors.get(iid)
        if ins is None:
            continue  # named where the visit is checked
        cap = (
            min(ins.quarterly_cap, pol.quarterly_cap) if ins.quarterly_cap is not None else pol.quarterly_cap
        )
        if done[iid]:
            if n + done[iid] > cap:
                out.append(f"{iid}: {n} visits this quarter + {done[iid]} already made > cap {cap}")
        elif n > cap:
            out.append(f"{iid}: {n} visits this quarter > cap {cap}")
    for (iid, day), n in per_day.items():
        ins = registry.inspectors.get(iid)
        if ins is None:
            continue
        cap = min(ins.daily_cap, pol.daily_cap) if ins.daily_cap is not None else pol.daily_cap
        if n > cap:
            out.append(f"{iid}: {n} visits on {day} > daily cap {cap}")
    return out


def check_selection(plan: Plan, registry: Registry, selection, *, sample: int | None = None) -> list[str]:
    """Population, dedup across levels, frequency cap and key-area rules, row by row.

    ``sample``: check only that many rows, those whose SHA-256 of ``task_id/credit_code`` is
    smallest (whether a higher task drew the enterprise too is still looked up among all rows).
    """
    selection = list(selection)
    if sample is not None:
        selection_all = selection
        selection = [
            selection[k]
            for k in smallest_digests([f"{s.task_id}/{s.credit_code}" for s in selection], sample)
        ]
    else:
        selection_all = selection
    out: list[str] = []
    columns = ("status", "region_code", "industry", "risk_class", "entity_type")
    ent = _rows(registry, {s.credit_code for s in selection}, columns)
    recent = _recent(plan, registry)
    codes = {s.credit_code for s in selection}
    if not recent.empty:
        recent = recent[isin_text(recent["credit_code"], codes)]
    inspected_by: dict[str, set[str]] = defaultdict(set)
    for c, a in zip(recent["credit_code"], recent["agency_id"], strict=False):
        inspected_by[c].add(a)
    visits_in_window = Counter(recent["credit_code"])
    drawn: dict[str, set[str]] = defaultdict(set)  # task -> codes
    for s in selection_all:
        drawn[s.task_id].add(s.credit_code)
    tasks_by_id = {t.task_id: t for t in plan.tasks}
    higher_of: dict[str, set[str]] = {}
    for s in selection:
        t = tasks_by_id.get(s.task_id) or plan.task(s.task_id)
        lead = registry.agencies[t.agency_id]
        tag = f"{s.task_id}/{s.credit_code}"
        if s.credit_code not in ent:
            out.append(f"{tag}: not in the registry")
            continue
        status, region, industry, risk, entity = ent[s.credit_code]
        if str(status) not in plan.policy.drawn_statuses:
            out.append(f"{tag}: registration status {status} is not drawn")
        if not lead.covers(region) or not str(region).startswith(t.population.region_prefix):
            out.append(f"{tag}: outside the task's region")
        if t.population.industries and not str(industry).startswith(tuple(t.population.industries)):
            out.append(f"{tag}: outside the task's industries")
        if risk not in t.population.risk_classes:
            out.append(f"{tag}: risk class not in the population")
        if t.population.entity_types and entity not in t.population.entity_types:
            out.append(f"{tag}: entity type not in the population")
        if t.task_id not in higher_of:
            higher_of[t.task_id] = set(registry.ancestors(t.agency_id))
        higher = higher_of[t.task_id]
        if inspected_by[s.credit_code] & higher:
            out.append(f"{tag}: a higher agency inspected it within the lookback")
        for other in plan.tasks:
            if other.agency_id in higher and s.credit_code in drawn[other.task_id]:
                out.append(f"{tag}: higher task {other.task_id} drew it too")
        if risk != "D" and visits_in_window[s.credit_code] >= plan.policy.max_visits_per_enterprise:
            out.append(
                f"{tag}: frequency cap reached ({visits_in_window[s.credit_code]} visits in the lookback)"
            )
    return out
