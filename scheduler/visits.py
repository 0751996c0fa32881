"""One visit per enterprise covering every task that drew it (进一次门、查多项事).

Tasks of several departments that drew the same enterprise are inspected
together; the visit's window is the intersection of the tasks' windows. Only
where the windows do not meet does an enterprise get more than one visit, and
then only within its frequency cap (D-class exempt).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

from scheduler.draw import recent_history, task_order
from scheduler.errors import InfeasibleError
from scheduler.plan import Plan, Task
from scheduler.registry import Registry
from scheduler.result import Selected, Visit


def _group_by_window(tasks: list[Task]) -> list[tuple[list[Task], dt.date, dt.date]]:
    """Put tasks in the first group whose window still meets theirs."""
    groups: list[tuple[list[Task], dt.date, dt.date]] = []
    for t in tasks:
        for k, (members, start, end) in enumerate(groups):
            s, e = max(start, t.window_start), min(end, t.window_end)
            if s <= e:
                groups[k] = (members + [t], s, e)
                break
        else:
            groups.append(([t], t.window_start, t.window_end))
    return groups


def build_visits(plan: Plan, registry: Registry, selection: list[Selected]) -> list[Visit]:
    """Merge the selection into visits, numbered ``<quarter>-00001`` … in credit-code order."""
    order = {t.task_id: k for k, t in enumerate(task_order(plan, registry))}
    by_code: dict[str, list[Task]] = defaultdict(list)
    for s in selection:
        by_code[s.credit_code].append(plan.task(s.task_id))
    hist = recent_history(plan, registry)
    past = hist["credit_code"].value_counts().to_dict() if not hist.empty else {}
    ent = registry.enterprises.set_index("credit_code")
    risk = ent["risk_class"]
    reasons: list[str] = []
    visits: list[Visit] = []
    for code in sorted(by_code):
        tasks = sorted(by_code[code], key=lambda t: order[t.task_id])
        groups = _group_by_window(tasks)
        allowed = plan.policy.max_visits_per_enterprise - past.get(code, 0)
        if len(groups) > 1 and risk[code] != "D" and len(groups) > allowed:
            names = ", ".join(t.task_id for t in tasks)
            reasons.append(
                f"{code}: tasks {names} drew it but their windows do not overlap, so it needs "
                f"{len(groups)} visits; max_visits_per_enterprise allows {max(allowed, 0)} more"
            )
            continue
        for members, start, end in groups:
            agencies: list[str] = []
            for t in members:
                for a in (t.agency_id, *t.joint_agencies):
                    if a not in agencies:
                        agencies.append(a)
            departments: list[str] = []
            for a in agencies:
                d = registry.agencies[a].department
                if d not in departments:
                    departments.append(d)
            specialties = tuple(dict.fromkeys(t.specialty for t in members if t.specialty))
            visits.append(
                Visit(
                    visit_id="",
                    credit_code=code,
                    task_ids=tuple(t.task_id for t in members),
                    lead_agency_id=members[0].agency_id,
                    agency_ids=tuple(agencies),
                    departments=tuple(departments),
                    specialties=specialties,
                    window_start=start,
                    window_end=end,
                )
            )
    if reasons:
        raise InfeasibleError(reasons)
    width = max(5, len(str(len(visits))))
    return [dataclasses.replace(v, visit_id=f"{plan.quarter}-{k + 1:0{width}d}") for k, v in enumerate(visits)]
