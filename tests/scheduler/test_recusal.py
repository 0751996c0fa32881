"""Recusal after the draw: one member replaced, by lot, obeying every rule; nothing else moves."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from scheduler.checks import check_visits
from scheduler.draw import draw
from scheduler.errors import InfeasibleError, InputError
from scheduler.pipeline import plan_days, schedule
from scheduler.plan_run import PlanResult
from scheduler.recusal import RecusalRequest, replace_inspector
from scheduler.staffing import build_roster, staff
from scheduler.visits import build_visits
from scheduler.workdays import WorkCalendar
from tests import factories as f

WINDOW = {"start": "2026-01-05", "end": "2026-03-31"}


def planned(n_ent=40, n_insp=8, seed="s", **policy):
    reg = f.registry(n_ent, [f.inspector(f"I{k:02d}") for k in range(n_insp)])
    p = f.plan([{"task_id": "T1", "agency_id": "SJ130123", "ratio": {c: 1 for c in "ABCD"}, "window": WINDOW}], **policy)
    strata, selection, frames = draw(p, reg, seed)
    visits = build_visits(p, reg, selection)
    days = plan_days(p, WorkCalendar())
    roster = build_roster(p, reg, days)
    teams, stats = staff(p, reg, visits, roster, seed)
    visits = schedule(visits, teams, roster, reg, seed)
    return PlanResult(p, reg, seed, strata, selection, visits, stats, days, frames), roster


def test_exactly_one_member_changes_and_every_rule_still_holds():
    result, roster = planned()
    v = result.visits[3]
    req = RecusalRequest(v.visit_id, v.inspector_ids[0], "enterprise", "亲属关系")
    new, outcome = replace_inspector(result, roster, req, 1, set())
    changed = [(a, b) for a, b in zip(result.visits, new.visits, strict=True) if a != b]
    assert len(changed) == 1
    before, after = changed[0]
    assert after.inspector_ids[1] == before.inspector_ids[1]
    assert after.inspector_ids[0] == outcome.replacement != before.inspector_ids[0]
    assert check_visits(result.plan, result.registry, new.visits) == []


def test_replacement_is_reproducible_from_seed_and_sequence_and_uniform():
    result, roster = planned()
    v = result.visits[0]
    req = RecusalRequest(v.visit_id, v.inspector_ids[1], "inspector", "身体原因")
    a = replace_inspector(result, roster, req, 7, set())[1]
    assert a == replace_inspector(result, roster, req, 7, set())[1]
    picks = Counter(replace_inspector(result, roster, req, seq, set())[1].replacement for seq in range(1, 601))
    assert len(picks) == a.candidates  # every candidate can be drawn
    expected = 600 / a.candidates
    chi2 = sum((n - expected) ** 2 / expected for n in picks.values())
    assert chi2 < 25  # well under the 0.1% point of chi-square with <= 7 dof (24.3)


def test_recused_inspector_is_never_drawn_back_for_that_enterprise():
    result, roster = planned(n_insp=4)
    v = result.visits[0]
    first = RecusalRequest(v.visit_id, v.inspector_ids[0], "enterprise", "利害关系")
    result2, o1 = replace_inspector(result, roster, first, 1, set())
    second = RecusalRequest(v.visit_id, o1.replacement, "enterprise", "利害关系")
    result3, o2 = replace_inspector(result2, roster, second, 2, {(first.inspector_id, v.credit_code)})
    assert o2.replacement not in (first.inspector_id, o1.replacement)


def test_no_candidate_left_is_infeasible_with_numbers():
    result, roster = planned(n_ent=4, n_insp=2)
    v = result.visits[0]
    msg = f"T1：检查 {v.visit_id} 需要一名检查人员（market 条线），在 .* 之间替换 {v.inspector_ids[0]}；没有其他符合条件的人员尚有余量"
    with pytest.raises(InfeasibleError, match=msg):
        replace_inspector(result, roster, RecusalRequest(v.visit_id, v.inspector_ids[0], "enterprise", "x"), 1, set())


def test_visit_moves_only_when_nobody_is_free_on_its_day():
    result, roster = planned(n_ent=40, n_insp=3, daily_cap=1)
    v = result.visits[0]
    others = [w for w in result.visits if w.date == v.date and w is not v]
    busy = {i for w in others for i in w.inspector_ids}
    out = [i for i in v.inspector_ids]
    free_today = {ins.inspector_id for ins in roster.inspectors} - busy - set(out)
    new, o = replace_inspector(result, roster, RecusalRequest(v.visit_id, out[0], "enterprise", "x"), 1, set())
    if free_today:
        assert o.date_after == v.date
    else:
        assert o.date_after != v.date
    assert check_visits(result.plan, result.registry, new.visits) == []


def test_bad_requests_name_what_is_wrong():
    result, roster = planned()
    v = result.visits[0]
    with pytest.raises(InputError, match="本计划中没有检查 'X'"):
        replace_inspector(result, roster, RecusalRequest("X", "I00", "enterprise", "r"), 1, set())
    outsider = next(i for i in (f"I{k:02d}" for k in range(8)) if i not in v.inspector_ids)
    with pytest.raises(InputError, match=f"'{outsider}' 不在检查 {v.visit_id} 的检查组中"):
        replace_inspector(result, roster, RecusalRequest(v.visit_id, outsider, "enterprise", "r"), 1, set())
    with pytest.raises(InputError, match="回避申请需要写明理由"):
        replace_inspector(result, roster, RecusalRequest(v.visit_id, v.inspector_ids[0], "enterprise", " "), 1, set())
    with pytest.raises(InputError, match="requested_by"):
        replace_inspector(result, roster, dataclasses.replace(RecusalRequest(v.visit_id, v.inspector_ids[0], "x", "r")), 1, set())


def test_an_unavailable_inspector_is_never_the_replacement():
    result, roster = planned(n_ent=4, n_insp=3)
    v = result.visits[0]
    spare = next(i for i in ("I00", "I01", "I02") if i not in v.inspector_ids)
    roster.mark_away(spare, roster.days[0])  # what `absent` records for the period
    with pytest.raises(InfeasibleError, match="没有其他符合条件的人员尚有余量"):
        replace_inspector(result, roster, RecusalRequest(v.visit_id, v.inspector_ids[0], "enterprise", "x"), 1, set())
