"""One visit per enterprise covering every task that drew it (进一次门、查多项事).

Tasks of several departments that drew the same enterprise are inspected
together; the visit's window is the intersection of the tasks' windows. Only
where the windows do not meet does an enterprise get more than one visit, and
then only within its frequency cap (D-class exempt).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from scheduler.draw import recent_history, task_order
from scheduler.errors import InfeasibleError
from scheduler.messages import t as msg
from scheduler.plan import Plan, Task
from scheduler.plan_run import Selected, Visit
from scheduler.registry import Registry
from scheduler.tables import isin_text


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
    task_of = {t.task_id: t for t in reversed(plan.tasks)}  # plan.task(): the first of an id
    by_code: dict[str, list[str]] = defaultdict(list)
    for s in selection:
        by_code[s.credit_code].append(s.task_id)
    codes = sorted(by_code)
    tasks_of = {code: tuple(sorted(by_code[code], key=order.__getitem__)) for code in codes}
    # Thousands of enterprises share each combination of tasks: merge each combination once.
    merged = {ids: _merge([task_of[i] for i in ids], registry) for ids in set(tasks_of.values())}
    hist = recent_history(plan, registry)
    past = (
        hist["credit_code"][isin_text(hist["credit_code"], codes)].value_counts().to_dict()
        if not hist.empty
        else {}
    )
    risk = _risk_classes(registry, [c for c in codes if len(merged[tasks_of[c]]) > 1])
    reasons: list[str] = []
    visits: list[tuple[str, dict]] = []
    for code in codes:
        groups = merged[tasks_of[code]]
        allowed = plan.policy.max_visits_per_enterprise - past.get(code, 0)
        if len(groups) > 1 and risk[code] != "D" and len(groups) > allowed:
            names = ", ".join(tasks_of[code])
            reasons.append(msg("visits_windows", code=code, tasks=names, n=len(groups), allowed=max(allowed, 0)))
            continue
        visits.extend((code, fields) for fields in groups)
    if reasons:
        raise InfeasibleError(reasons)
    width = max(5, len(str(len(visits))))
    return [
        Visit(visit_id=f"{plan.quarter}-{k + 1:0{width}d}", credit_code=code, **fields)
        for k, (code, fields) in enumerate(visits)
    ]


def _merge(tasks: list[Task], registry: Registry) -> list[dict]:
    """The visits (all but the enterprise) that tasks drawing one enterprise make: one per group
    of meeting windows, with its agencies, departments and specialties."""
    out = []
    for members, start, end in _group_by_window(tasks):
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
        out.append(
            {
                "task_ids": tuple(t.task_id for t in members),
                "lead_agency_id": members[0].agency_id,
                "agency_ids": tuple(agencies),
                "departments": tuple(departments),
                "specialties": tuple(dict.fromkeys(t.specialty for t in members if t.specialty)),
                "window_start": start,
                "window_end": end,
            }
        )
    return out


def _risk_classes(registry: Registry, codes: list[str]) -> dict[str, str]:
    """Risk class of each of ``codes`` (a scan of the registry's codes, no index over millions)."""
    if not codes:
        return {}
    ent = registry.enterprises
    rows = ent[isin_text(ent["credit_code"], codes)]
    found = dict(zip(rows["credit_code"], rows["risk_class"], strict=True))
    return {c: found[c] for c in codes}
