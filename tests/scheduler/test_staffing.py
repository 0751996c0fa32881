"""Staffing rules: each test builds a registry where the rule matters and fails if it is dropped."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from scheduler.checks import check_visits
from scheduler.draw import draw
from scheduler.errors import InfeasibleError
from scheduler.pipeline import plan_days, schedule
from scheduler.registry import Conflict, Leave
from scheduler.staffing import build_roster, staff
from scheduler.visits import build_visits
from scheduler.workdays import WorkCalendar
from tests import factories as f

ALL = {"A": 1, "B": 1, "C": 1, "D": 1}
WINDOW = {"start": "2026-01-05", "end": "2026-03-31"}


@pytest.fixture
def english(monkeypatch):
    """The tests that pin the English texts of the count-first and split diagnoses."""
    monkeypatch.setenv("RANDINSPECT_LANG", "en")


def task(**kw):
    base = {"task_id": "T1", "agency_id": "SJ130123", "ratio": ALL, "window": WINDOW}
    base.update(kw)
    return base


def run(reg, p, seed="s"):
    _, selection, _ = draw(p, reg, seed)
    visits = build_visits(p, reg, selection)
    roster = build_roster(p, reg, plan_days(p, WorkCalendar()))
    teams, stats = staff(p, reg, visits, roster, seed)
    visits = schedule(visits, teams, roster, reg, seed)
    assert check_visits(p, reg, visits) == []
    return visits, stats


def members(visits, code=None):
    return Counter(i for v in visits if code is None or v.credit_code == code for i in v.inspector_ids)


def pool(n=8, agency="SJ130123", prefix="I", **kw):
    return [f.inspector(f"{prefix}{k:02d}", agency, **kw) for k in range(n)]


@pytest.mark.parametrize(
    "trap",
    [
        {"certificate_no": None},
        {"auxiliary": True},
        {"certificate_expiry": dt.date(2025, 12, 31)},
    ],
    ids=["no-certificate", "auxiliary", "expired"],
)
def test_uncertified_or_auxiliary_never_on_a_team(trap):
    bad = f.inspector("BAD", **trap)
    reg = f.registry(30, pool(6) + [bad])
    visits, _ = run(reg, f.plan([task()]))
    assert "BAD" not in members(visits)


def test_certificate_expiring_mid_quarter_only_before_expiry():
    soon = f.inspector("SOON", certificate_expiry=dt.date(2026, 3, 20))
    reg = f.registry(60, pool(3) + [soon])
    for seed in ("a", "b", "c"):
        visits, _ = run(reg, f.plan([task()]), seed)
        dates = [v.date for v in visits if "SOON" in v.inspector_ids]
        assert dates and max(dates) <= dt.date(2026, 3, 20)


def test_declared_conflict_former_employer_and_relative_are_recused():
    codes = [f.code(k) for k in range(3)]
    ent = f.enterprises(3)
    decl = f.inspector("DECL")
    former = f.inspector("FORMER", former_employers=frozenset({codes[1]}))
    rel = f.inspector("REL", relatives_ids=frozenset({ent.loc[2, "legal_rep_id"]}))
    reg = f.registry(3, [decl, former, rel], conflicts=[Conflict("DECL", codes[0], "配偶任职")])
    for seed in "abcdefgh":
        visits, _ = run(reg, f.plan([task()]), seed)
        teams = {v.credit_code: set(v.inspector_ids) for v in visits}
        assert teams[codes[0]] == {"FORMER", "REL"}
        assert teams[codes[1]] == {"DECL", "REL"}
        assert teams[codes[2]] == {"DECL", "FORMER"}


def test_rotation_excludes_last_inspectors_unless_switched_off():
    code = f.code(0)
    history = [(code, "SJ130123", "2025-05-10", ("I00", "I01"))]
    reg = f.registry(1, pool(4), history=history)
    p = f.plan([task()], max_visits_per_enterprise=3)
    for seed in "abcdef":
        visits, _ = run(reg, p, seed)
        assert set(visits[0].inspector_ids) == {"I02", "I03"}
    seen = set()
    for seed in "abcdefghij":
        visits, _ = run(reg, f.plan([task()], max_visits_per_enterprise=3, rotation=False), seed)
        seen |= set(visits[0].inspector_ids)
    assert seen & {"I00", "I01"}


def test_leave_days_are_never_visit_days():
    away = Leave("I00", dt.date(2026, 1, 5), dt.date(2026, 1, 30))
    reg = f.registry(40, pool(3), leave=[away])
    visits, _ = run(reg, f.plan([task()]))
    assert members(visits)["I00"] > 0
    assert all(v.date > dt.date(2026, 1, 30) for v in visits if "I00" in v.inspector_ids)


def test_long_leave_makes_inspector_ineligible_for_a_short_window():
    away = Leave("I00", dt.date(2026, 2, 2), dt.date(2026, 2, 4))
    reg = f.registry(4, pool(4), leave=[away])
    visits, _ = run(reg, f.plan([task(window={"start": "2026-02-02", "end": "2026-02-06"})]))
    assert "I00" not in members(visits)


def test_quarterly_cap_personal_and_policy():
    capped = f.inspector("CAPPED", quarterly_cap=2)
    reg = f.registry(60, pool(4) + [capped])
    p = f.plan([task(ratio={"A": 0.3, "B": 0.3, "C": 0.3, "D": 0.3})], quarterly_cap=20)
    visits, stats = run(reg, p)
    load = members(visits)
    assert load["CAPPED"] <= 2
    assert max(load.values()) <= 20
    assert stats.capacity["CAPPED"] == 2


def test_daily_cap_one_means_one_visit_a_day():
    reg = f.registry(80, pool(3))
    visits, _ = run(reg, f.plan([task(ratio={"A": 0.4, "B": 0.4, "C": 0.4, "D": 0.4})], daily_cap=1))
    per_day = Counter((i, v.date) for v in visits for i in v.inspector_ids)
    assert max(per_day.values()) == 1


def test_specialty_needs_one_holder_on_every_team():
    food = pool(2, prefix="F", specialties=frozenset({"food"}))
    general = pool(6, prefix="G", specialties=frozenset({"general"}))
    reg = f.registry(40, food + general)
    visits, _ = run(reg, f.plan([task(specialty="food")]))
    assert all(any(i.startswith("F") for i in v.inspector_ids) for v in visits)


def test_joint_task_has_one_member_of_each_department():
    market = pool(4)
    eco = pool(3, agency="ST130123", prefix="E", specialties=frozenset({"environment"}))
    reg = f.registry(20, market + eco)
    visits, _ = run(reg, f.plan([task(joint_agencies=["ST130123"])]))
    for v in visits:
        assert v.departments == ("market", "ecology")
        assert any(i.startswith("E") for i in v.inspector_ids)
        assert any(i.startswith("I") for i in v.inspector_ids)


def test_lead_staffing_uses_only_lead_agency_and_local_adds_lower_agencies():
    city = pool(2, agency="SJ130100", prefix="C")
    county = pool(6, agency="SJ130123", prefix="K")
    reg = f.registry(40, city + county)
    lead_task = task(agency_id="SJ130100", ratio={"A": 0.3, "B": 0.3, "C": 0.3, "D": 0.3})
    visits, _ = run(reg, f.plan([lead_task], quarterly_cap=30))
    assert set(members(visits)) <= {"C00", "C01"}
    visits, _ = run(reg, f.plan([{**lead_task, "staffing": "local"}]))
    assert set(members(visits)) & {f"K{k:02d}" for k in range(6)}


def test_delegated_staffing_sends_only_the_bureau_where_the_enterprise_is_registered():
    """属地实施: a province task carried out by the county bureaus; neither the province's nor the
    city's own staff go, and each county's enterprises get that county's inspectors."""
    from scheduler.staffing import build_lottery

    province = pool(4, agency="SJ130000", prefix="P")
    city = pool(4, agency="SJ130100", prefix="C")
    k123 = pool(6, agency="SJ130123", prefix="K")
    k124 = pool(6, agency="SJ130124", prefix="L")
    reg = f.registry(80, province + city + k123 + k124)
    reg.enterprises.loc[reg.enterprises.index % 2 == 1, "region_code"] = "130124"
    region = dict(zip(reg.enterprises["credit_code"], reg.enterprises["region_code"], strict=True))
    t = task(agency_id="SJ130000", staffing="delegated", ratio={"A": 0.4, "B": 0.4, "C": 0.4, "D": 0.4})
    p = f.plan([t], quarterly_cap=30)
    visits, _ = run(reg, p)
    assert {region[v.credit_code] for v in visits} == {"130123", "130124"}
    for v in visits:
        prefix = "K" if region[v.credit_code] == "130123" else "L"
        assert all(i.startswith(prefix) for i in v.inspector_ids), (v.credit_code, v.inspector_ids)
    # The two county pools share nobody: the lottery solves them as two parts.
    _, selection, _ = draw(p, reg, "s")
    plain = build_visits(p, reg, selection)
    roster = build_roster(p, reg, plan_days(p, WorkCalendar()))
    lottery = build_lottery(p, reg, plain, roster)
    assert len(lottery.parts) == 2
    assert [p_.label for p_ in lottery.parts] == sorted(p_.label for p_ in lottery.parts)
    # With `local`, the province's and the city's staff may go too: one pool.
    visits, _ = run(reg, f.plan([{**t, "staffing": "local"}], quarterly_cap=30))
    assert set(members(visits)) & {i.inspector_id for i in province + city}


def test_pair_probability_cap_and_balanced_loads():
    reg = f.registry(400, pool(20))
    p = f.plan([task(ratio={"A": 0.3, "B": 0.3, "C": 0.3, "D": 0.3})])
    visits, stats = run(reg, p)
    assert stats.max_pair_probability <= 0.5
    loads = [n for i, n in stats.load.items()]
    assert max(loads) - min(loads) <= 2


def test_same_seed_same_teams_other_seed_other_teams():
    reg = f.registry(200, pool(12))
    p = f.plan([task(ratio={"A": 0.2, "B": 0.2, "C": 0.2, "D": 0.2})])
    a, _ = run(reg, p, "x")
    b, _ = run(reg, p, "x")
    c, _ = run(reg, p, "y")
    assert a == b
    assert [v.inspector_ids for v in a] != [v.inspector_ids for v in c]


def test_specialty_missing_is_infeasible_with_task_rule_and_numbers():
    reg = f.registry(20, pool(6, specialties=frozenset({"general"})))
    with pytest.raises(InfeasibleError) as err:
        run(reg, f.plan([task(specialty="special_equipment")]))
    msg = str(err.value)
    assert msg.startswith("T1：20 次检查需要一名具备 special_equipment 专长的检查人员（market 条线）")
    assert "（2026-01-05 至 2026-03-31）；符合条件的为 0 人" in msg
    assert "6 人符合其他条件但不具备 special_equipment 专长" in msg


def test_capacity_shortfall_names_task_and_capacity(english):
    spec = [f.inspector("SE1", specialties=frozenset({"special_equipment"}), quarterly_cap=3)]
    reg = f.registry(40, spec + pool(6, specialties=frozenset({"general"})))
    with pytest.raises(InfeasibleError) as err:
        run(
            reg, f.plan([task(specialty="special_equipment", ratio={"A": 0.5, "B": 0.5, "C": 0.5, "D": 0.5})])
        )
    assert (
        "visits need a special_equipment inspector between 2026-01-05 and 2026-03-31; 1 eligible after leave and certificates, capacity 3"
        in str(err.value)
    )


def _no_flow(*_a, **_k):
    raise AssertionError("a flow was built although counting shows the shortage")


def test_counting_reports_every_short_task_before_any_flow(monkeypatch, english):
    """Two tasks short of their joining department and of a specialty: both named with the
    numbers, before any per-visit work (the pair exclusions are never computed) and with no
    flow solved."""
    import scheduler.staffing as st

    monkeypatch.setattr(st, "solve_part", _no_flow)
    monkeypatch.setattr(st, "_pair_exclusions", _no_flow)
    market = pool(8, specialties=frozenset({"general"}))
    food = [f.inspector("F1", specialties=frozenset({"food"}), quarterly_cap=4)]
    eco = pool(2, agency="ST130123", prefix="E", quarterly_cap=5)
    reg = f.registry(60, market + food + eco)
    reg.enterprises["industry"] = ["H6210"] * 20 + ["C13"] * 40
    half = {"A": 1, "B": 1, "C": 1, "D": 1}
    p = f.plan(
        [
            task(task_id="T-FOOD", specialty="food", ratio=half, population={"industries": ["H62"]}),
            task(
                task_id="T-ECO", joint_agencies=["ST130123"], ratio=half, population={"industries": ["C13"]}
            ),
        ]
    )
    with pytest.raises(InfeasibleError) as err:
        run(reg, p)
    msg = str(err.value)
    assert (
        "T-ECO: 40 visits need an inspector of department ecology between 2026-01-05 and 2026-03-31; "
        "2 eligible after leave and certificates, capacity 10" in msg
    )
    assert (
        "T-FOOD: 20 visits need a food inspector between 2026-01-05 and 2026-03-31; "
        "1 eligible after leave and certificates, capacity 4" in msg
    )


def test_counting_uses_the_capacity_within_the_window(english):
    """Quarterly cap 30 each, but a five-day window at one visit a day: 3 inspectors make at
    most 15 visits there, so 10 visits of 2 places (20) cannot be staffed."""
    reg = f.registry(10, pool(3))
    p = f.plan([task(window={"start": "2026-02-02", "end": "2026-02-06"})], daily_cap=1)
    with pytest.raises(InfeasibleError) as err:
        run(reg, p)
    assert "T1: 20 team places to fill between 2026-02-02 and 2026-02-06; 3 eligible after" in str(err.value)
    assert "capacity 15" in str(err.value)


def test_what_counting_cannot_show_is_measured_on_the_failing_part_only(english):
    """Food holders F + Y and special-equipment holders Y + Z each suffice for their task, but
    Y cannot do both: only the flow finds it, and only that part is reported."""
    x = f.inspector("X", specialties=frozenset({"food"}), quarterly_cap=5)
    y = f.inspector("Y", specialties=frozenset({"food", "special_equipment"}), quarterly_cap=8)
    z = f.inspector("Z", specialties=frozenset({"special_equipment"}), quarterly_cap=5)
    other = pool(6, prefix="K", agency="SJ130124", specialties=frozenset({"general"}))
    reg = f.registry(30, [x, y, z] + pool(10, specialties=frozenset({"general"})) + other)
    reg.enterprises["industry"] = ["H6210"] * 10 + ["C13"] * 10 + ["F5211"] * 10
    reg.enterprises.loc[20:, "region_code"] = "130124"
    all_ = {"A": 1, "B": 1, "C": 1, "D": 1}
    p = f.plan(
        [
            task(task_id="T-F", specialty="food", ratio=all_, population={"industries": ["H62"]}),
            task(
                task_id="T-S", specialty="special_equipment", ratio=all_, population={"industries": ["C13"]}
            ),
            task(task_id="T-OTHER", agency_id="SJ130124", ratio=all_),
        ]
    )
    with pytest.raises(InfeasibleError) as err:
        run(reg, p)
    msg = str(err.value)
    assert msg.startswith("T-F/T-S: 40 team places to fill by the inspectors the visits from ")
    assert "T-OTHER" not in msg
    assert "at most 38.0 of them" in msg
