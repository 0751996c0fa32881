"""The plan file: structure errors and references to the registry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from scheduler.errors import InputError
from scheduler.plan import check_plan_against_registry, load_plan, quarter_bounds
from tests import factories as f

GOOD = """
quarter: 2026Q1
policy: {team_size: 2, daily_cap: 2}
tasks:
  - task_id: T1
    agency_id: SJ130123
    joint_agencies: [ST130123]
    items: [I-001]
    specialty: food
    population: {region_prefix: "1301", industries: [C13, C14], risk_classes: [A, B, C, D]}
    ratio: {A: 0.02, B: 0.05, C: 0.10, D: 0.20}
    window: {start: 2026-01-05, end: 2026-03-31}
"""


def write(tmp_path, text, name="plan.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_plan_reads_with_defaults(tmp_path):
    plan = load_plan(write(tmp_path, GOOD))
    t = plan.tasks[0]
    assert plan.policy.quarterly_cap == 30 and plan.policy.rotation is True
    assert t.ratio == {"A": Decimal("0.02"), "B": Decimal("0.05"), "C": Decimal("0.10"), "D": Decimal("0.20")}
    assert (t.window_start, t.window_end) == (dt.date(2026, 1, 5), dt.date(2026, 3, 31))
    assert t.joint_agencies == ("ST130123",)
    check_plan_against_registry(plan, f.registry(5))


def test_json_plan(tmp_path):
    text = '{"quarter": "2026Q2", "tasks": [{"task_id": "T", "agency_id": "SJ130123", "count": 5}]}'
    plan = load_plan(write(tmp_path, text, "plan.json"))
    assert plan.tasks[0].count == 5
    assert plan.tasks[0].window_start == dt.date(2026, 4, 1)


def test_every_structural_problem_is_reported_at_once(tmp_path):
    bad = (
        GOOD.replace("2026Q1", "2026Q5")
        .replace("team_size: 2", "team_size: 1")
        .replace("D: 0.20", "E: 0.20")
        .replace("end: 2026-03-31", "end: 2026-13-31")
    )
    with pytest.raises(InputError) as err:
        load_plan(write(tmp_path, bad))
    msg = str(err.value)
    assert "plan.yaml，列 quarter：季度应写作 2026Q1 的形式，实为 '2026Q5'" in msg
    assert "plan.yaml，列 policy.team_size：至少为 2，实为 1" in msg
    assert "plan.yaml，列 tasks[0] (T1).ratio.E：风险分类应为 A、B、C 或 D" in msg
    assert "plan.yaml，列 tasks[0] (T1).window.end：不是日期（YYYY-MM-DD）：'2026-13-31'" in msg


def test_unknown_agency_and_item_are_bad_input(tmp_path):
    plan = load_plan(write(tmp_path, GOOD.replace("SJ130123", "SJ999999").replace("I-001", "I-404")))
    with pytest.raises(InputError) as err:
        check_plan_against_registry(plan, f.registry(5))
    msg = str(err.value)
    assert "tasks[0] (T1).agency_id：未知的机构 'SJ999999'" in msg
    assert "tasks[0] (T1).items：未知的检查事项 'I-404'" in msg


def test_joint_agency_of_the_same_department_is_refused(tmp_path):
    plan = load_plan(write(tmp_path, GOOD.replace("[ST130123]", "[SJ130124]")))
    with pytest.raises(InputError, match="'SJ130124' 属于 'market' 条线，已在检查组中"):
        check_plan_against_registry(plan, f.registry(5))


def test_quarter_bounds():
    assert quarter_bounds("2026Q4") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))


def test_staffing_values(tmp_path):
    plan = load_plan(
        write(
            tmp_path, GOOD.replace("    specialty: food\n", "    specialty: food\n    staffing: delegated\n")
        )
    )
    assert plan.tasks[0].staffing == "delegated"
    with pytest.raises(InputError) as err:
        load_plan(
            write(
                tmp_path, GOOD.replace("    specialty: food\n", "    specialty: food\n    staffing: county\n")
            )
        )
    assert (
        "plan.yaml，列 tasks[0] (T1).staffing：应为 'lead'、'local' 或 'delegated'，实为 'county'"
        in str(err.value)
    )
