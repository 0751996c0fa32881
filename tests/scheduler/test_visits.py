"""One visit per enterprise covering all its tasks (进一次门、查多项事)."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.draw import draw
from scheduler.errors import InfeasibleError
from scheduler.visits import build_visits
from tests import factories as f

ALL = {"A": 1, "B": 1, "C": 1, "D": 1}


def tasks(w1, w2):
    return [
        {"task_id": "M1", "agency_id": "SJ130123", "ratio": ALL, "window": w1, "specialty": "food"},
        {"task_id": "E1", "agency_id": "ST130123", "ratio": ALL, "window": w2},
    ]


def test_tasks_that_drew_one_enterprise_merge_into_one_visit_with_intersected_window():
    reg = f.registry(10)
    p = f.plan(
        tasks({"start": "2026-01-05", "end": "2026-02-28"}, {"start": "2026-02-01", "end": "2026-03-31"})
    )
    visits = build_visits(p, reg, draw(p, reg, "s")[1])
    assert len(visits) == 10
    v = visits[0]
    assert v.task_ids == ("M1", "E1")
    assert v.departments == ("market", "ecology")
    assert (v.window_start, v.window_end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert v.specialties == ("food",)
    assert [x.visit_id for x in visits[:2]] == ["2026Q1-00001", "2026Q1-00002"]
    assert [x.credit_code for x in visits] == sorted(x.credit_code for x in visits)


def test_windows_that_do_not_meet_exceed_the_visit_cap_and_are_infeasible():
    reg = f.registry(3)
    p = f.plan(
        tasks({"start": "2026-01-05", "end": "2026-01-31"}, {"start": "2026-02-01", "end": "2026-03-31"})
    )
    with pytest.raises(
        InfeasibleError,
        match="任务 M1, E1 都抽中了它，但检查时段不重叠，需要 2 次检查；max_visits_per_enterprise 只允许再检查 1 次",
    ):
        build_visits(p, reg, draw(p, reg, "s")[1])


def test_windows_that_do_not_meet_give_two_visits_when_the_cap_allows():
    reg = f.registry(3)
    p = f.plan(
        tasks({"start": "2026-01-05", "end": "2026-01-31"}, {"start": "2026-02-01", "end": "2026-03-31"}),
        max_visits_per_enterprise=2,
    )
    visits = build_visits(p, reg, draw(p, reg, "s")[1])
    assert len(visits) == 6
    assert {v.task_ids for v in visits} == {("M1",), ("E1",)}
