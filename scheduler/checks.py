"""An independent checker: does a finished plan obey every rule?

Written separately from the code that builds plans (it re-derives each rule
from the registry, plan and calendar), so the tests can run it on
registries the planner has never seen. Returns violations as sentences;
an empty list means every rule holds in every visit.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pandas as pd

from scheduler.draw import lookback_start
from scheduler.plan import Plan
from scheduler.registry import Registry
from scheduler.result import Visit
from scheduler.workdays import WorkCalendar


def check_visits(plan: Plan, registry: Registry, visits: list[Visit], calendar: WorkCalendar | None = None) -> list[str]:
    """Every staffing, conflict, availability, cap and calendar rule, visit by visit."""
    calendar = calendar or WorkCalendar()
    pol = plan.policy
    out: list[str] = []
    ent = registry.enterprises.set_index("credit_code")
    declared = {(c.inspector_id, c.credit_code) for c in registry.conflicts}
    start = pd.Timestamp(lookback_start(plan))
    hist = registry.history
    recent = hist[(hist["date"] >= start) & (hist["date"] <= pd.Timestamp(plan.quarter_end))] if not hist.empty else hist
    seen: dict[str, set[str]] = defaultdict(set)
    for c, ids in zip(recent["credit_code"], recent["inspector_ids"], strict=False):
        seen[c].update(ids)
    leave = defaultdict(list)
    for lv in registry.leave:
        leave[lv.inspector_id].append((lv.start, lv.end))
    per_quarter: Counter = Counter()
    per_day: Counter = Counter()
    visits_of: Counter = Counter()
    for v in visits:
        tag = f"{v.visit_id} ({v.credit_code})"
        visits_of[v.credit_code] += 1
        team = v.inspector_ids
        if v.date is None:
            out.append(f"{tag}: no date")
            continue
        if len(team) < pol.team_size:
            out.append(f"{tag}: team of {len(team)} < team_size {pol.team_size}")
        if len(set(team)) != len(team):
            out.append(f"{tag}: an inspector appears twice")
        if not calendar.is_workday(v.date):
            out.append(f"{tag}: {v.date} is not a working day")
        tasks = [plan.task(t) for t in v.task_ids]
        for t in tasks:
            if not t.window_start <= v.date <= t.window_end:
                out.append(f"{tag}: {v.date} outside task {t.task_id}'s window")
        rep = ent.at[v.credit_code, "legal_rep_id"]
        region = ent.at[v.credit_code, "region_code"]
        allowed: dict[str, set[str]] = defaultdict(set)
        for t in tasks:
            for a in (t.agency_id, *t.joint_agencies):
                dept = registry.agencies[a].department
                if t.staffing == "delegated":  # the deepest same-department bureau holding the region
                    home = a
                    for b in registry.descendants(a):
                        ag = registry.agencies[b]
                        if ag.department == dept and ag.covers(region) and ag.level > registry.agencies[home].level:
                            home = b
                    allowed[dept].add(home)
                    continue
                allowed[dept].add(a)
                if t.staffing == "local":
                    for b in registry.descendants(a):
                        if registry.agencies[b].department == dept and registry.agencies[b].covers(region):
                            allowed[dept].add(b)
        members = [registry.inspectors[i] for i in team]
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
            per_quarter[ins.inspector_id] += 1
            per_day[(ins.inspector_id, v.date)] += 1
        depts = {registry.agencies[ins.agency_id].department for ins in members}
        for dept in allowed:
            if dept not in depts:
                out.append(f"{tag}: no member of department {dept}")
        for t in tasks:
            if t.specialty and not any(t.specialty in ins.specialties for ins in members):
                out.append(f"{tag}: nobody holds specialty {t.specialty} for task {t.task_id}")
    for iid, n in per_quarter.items():
        ins = registry.inspectors[iid]
        cap = min(ins.quarterly_cap, pol.quarterly_cap) if ins.quarterly_cap is not None else pol.quarterly_cap
        if n > cap:
            out.append(f"{iid}: {n} visits this quarter > cap {cap}")
    for (iid, day), n in per_day.items():
        ins = registry.inspectors[iid]
        cap = min(ins.daily_cap, pol.daily_cap) if ins.daily_cap is not None else pol.daily_cap
        if n > cap:
            out.append(f"{iid}: {n} visits on {day} > daily cap {cap}")
    for code, n in visits_of.items():
        if n > 1 and ent.at[code, "risk_class"] != "D":
            out.append(f"{code}: {n} visits this quarter (one visit covers all its tasks)")
    return out


def check_selection(plan: Plan, registry: Registry, selection) -> list[str]:
    """Population, dedup across levels, frequency cap and key-area rules, row by row."""
    out: list[str] = []
    ent = registry.enterprises.set_index("credit_code")
    start = pd.Timestamp(lookback_start(plan))
    hist = registry.history
    recent = hist[(hist["date"] >= start) & (hist["date"] <= pd.Timestamp(plan.quarter_end))] if not hist.empty else hist
    inspected_by: dict[str, set[str]] = defaultdict(set)
    for c, a in zip(recent["credit_code"], recent["agency_id"], strict=False):
        inspected_by[c].add(a)
    visits_in_window = Counter(recent["credit_code"])
    drawn: dict[str, set[str]] = defaultdict(set)  # task -> codes
    for s in selection:
        drawn[s.task_id].add(s.credit_code)
    for s in selection:
        t = plan.task(s.task_id)
        lead = registry.agencies[t.agency_id]
        row = ent.loc[s.credit_code]
        tag = f"{s.task_id}/{s.credit_code}"
        if str(row["status"]).lower() != "active":
            out.append(f"{tag}: not active")
        if not lead.covers(row["region_code"]) or not str(row["region_code"]).startswith(t.population.region_prefix):
            out.append(f"{tag}: outside the task's region")
        if t.population.industries and not str(row["industry"]).startswith(tuple(t.population.industries)):
            out.append(f"{tag}: outside the task's industries")
        if row["risk_class"] not in t.population.risk_classes:
            out.append(f"{tag}: risk class not in the population")
        higher = set(registry.ancestors(t.agency_id))
        if inspected_by[s.credit_code] & higher:
            out.append(f"{tag}: a higher agency inspected it within the lookback")
        for other in plan.tasks:
            if other.agency_id in higher and s.credit_code in drawn[other.task_id]:
                out.append(f"{tag}: higher task {other.task_id} drew it too")
        if row["risk_class"] != "D" and visits_in_window[s.credit_code] >= plan.policy.max_visits_per_enterprise:
            out.append(f"{tag}: frequency cap reached ({visits_in_window[s.credit_code]} visits in the lookback)")
    return out
