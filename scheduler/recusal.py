"""Recusal after the draw (回避) and replacement of an inspector who cannot go (illness).

Rules (Hebei opinion 2016; Wulong notice 2021): the enterprise or the inspector asks, with a
reason, to remove an inspector from a visit. The replacement

- obeys every rule the draw obeys (certificate valid on the date, not auxiliary, allowed agency
  and department, specialty of the vacated place, no conflict, rotation, leave, quarterly and
  daily caps counted on the current plan), and is never someone already recused from it;
- leaves every other visit untouched; the visit keeps its date when anyone is free that day,
  otherwise moves to the nearest day in its window on which the rest of the team and a
  replacement are free;
- is drawn, not chosen: among the candidates, the one with the smallest
  ``SHA-256(seed | recusal | seq | inspector_id)``, ``seq`` being the request's sequence number,
  so the replacement is uniform among the candidates and anyone can re-run it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass

from scheduler.errors import InfeasibleError, InputError, Problem
from scheduler.messages import t
from scheduler.plan_run import PlanResult
from scheduler.staffing import Roster, eligibility

REQUESTERS = ("enterprise", "inspector", "bureau")


@dataclass(frozen=True)
class RecusalRequest:
    """One request: remove ``inspector_id`` from ``visit_id`` (``requested_by`` one of REQUESTERS)."""

    visit_id: str
    inspector_id: str
    requested_by: str
    reason: str
    absent_from: str = ""  # ISO dates: the inspector is away (ill) in this period, for every later draw
    absent_to: str = ""


@dataclass(frozen=True)
class RecusalOutcome:
    seq: int
    visit_id: str
    removed: str
    replacement: str
    date_before: dt.date
    date_after: dt.date
    candidates: int


def recusal_ticket(seed: str, seq: int, inspector_id: str) -> str:
    return hashlib.sha256(f"{seed}|recusal|{seq}|{inspector_id}".encode()).hexdigest()


def replace_inspector(
    result: PlanResult, roster: Roster, request: RecusalRequest, seq: int, recused: set[tuple[str, str]]
) -> tuple[PlanResult, RecusalOutcome]:
    """Apply one request; ``recused`` holds earlier (inspector, credit_code) recusals."""
    if request.requested_by not in REQUESTERS:
        raise InputError(Problem(t("recusal_where"), None, "requested_by", t("recusal_by", allowed="、".join(REQUESTERS))))
    if not request.reason.strip():
        raise InputError(Problem(t("recusal_where"), None, "reason", t("recusal_reason")))
    index = {v.visit_id: k for k, v in enumerate(result.visits)}
    if request.visit_id not in index:
        raise InputError(Problem(t("recusal_where"), None, "visit_id", t("no_such_visit", visit=request.visit_id)))
    vi = index[request.visit_id]
    visit = result.visits[vi]
    if visit.date is None:  # a planned visit always has its date; a recusal needs it
        raise InputError(Problem(t("recusal_where"), None, "visit_id", t("no_such_visit", visit=request.visit_id)))
    visit_date: dt.date = visit.date
    if request.inspector_id not in visit.inspector_ids:
        raise InputError(
            Problem(t("recusal_where"), None, "inspector_id", t("recusal_not_on_team", inspector=request.inspector_id, visit=visit.visit_id))
        )
    position = visit.inspector_ids.index(request.inspector_id)
    elig = eligibility(result.plan, result.registry, [visit], roster)
    slot = elig.slots[elig.visit_slots[0][position]]
    team = set(visit.inspector_ids)
    blocked = {i for i, code in recused if code == visit.credit_code} | {request.inspector_id}
    load = Counter(i for v in result.visits for i in v.inspector_ids)
    day_load = Counter((i, v.date) for v in result.visits for i in v.inspector_ids)
    candidates = [
        roster.inspectors[i]
        for i in slot.candidates
        if roster.inspectors[i].inspector_id not in team | blocked
        and load[roster.inspectors[i].inspector_id] < roster.cap[i]
    ]
    rest = [roster.index[i] for i in visit.inspector_ids if i != request.inspector_id]
    lo, hi = roster.day_range(visit.window_start, visit.window_end)
    days = sorted(range(lo, hi), key=lambda d: (abs((roster.days[d] - visit_date).days), d))

    def free(k: int, d: int, extra: int = 0) -> bool:
        ins = roster.inspectors[k]
        return bool(roster.available[k, d]) and day_load[(ins.inspector_id, roster.days[d])] - extra < roster.daily_cap[k]

    for d in days:
        day = roster.days[d]
        moving = day != visit.date
        if not all(free(k, d, 0 if moving else 1) for k in rest):
            continue
        here = [c for c in candidates if free(roster.index[c.inspector_id], d)]
        if here:
            pick = min(here, key=lambda c: recusal_ticket(result.seed, seq, c.inspector_id))
            team_ids = list(visit.inspector_ids)
            team_ids[position] = pick.inspector_id
            new = dataclasses.replace(visit, inspector_ids=tuple(team_ids), date=day)
            visits = list(result.visits)
            visits[vi] = new
            outcome = RecusalOutcome(seq, visit.visit_id, request.inspector_id, pick.inspector_id, visit_date, day, len(here))
            stats = dataclasses.replace(
                result.staffing, load={i: n for i, n in Counter(x for v in visits for x in v.inspector_ids).items()}
            )
            return dataclasses.replace(result, visits=visits, staffing=stats), outcome
    what = t("recusal_specialty", specialty=slot.specialty) if slot.specialty else t("recusal_any")
    if slot.department:
        what = t("recusal_department", department=slot.department, what=what)
    why = (
        t("recusal_none_free", n=len(candidates))
        if candidates
        else t("recusal_no_capacity", eligible=len(slot.candidates), blocked=len(blocked | team))
    )
    raise InfeasibleError(
        t("recusal_infeasible", tasks="/".join(visit.task_ids), visit=visit.visit_id, what=what,
          inspector=request.inspector_id, start=visit.window_start, end=visit.window_end, why=why)
    )
