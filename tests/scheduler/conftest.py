"""A small hand-made PlanResult for the output writers' tests.

Three agencies (a city and a county market bureau, a county ecology bureau),
six enterprises (two individual businesses with a home address, one name full
of HTML), five certified inspectors, two tasks (T2 joint with ecology), four
dated visits (V0003 covers both tasks in one visit), items with legal basis
(I-102 without one).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from scheduler.plan import Plan, Policy, Population, Task
from scheduler.plan_run import PlanResult, Selected, StaffingStats, Stratum, Visit
from scheduler.registry import ENTERPRISE_COLUMNS, Agency, Inspector, Item, Level, Registry
from scheduler.uscc import make_code

E1 = make_code("91130102MA0A1B2C3")
E2 = make_code("91130102MA0D4E5F6")
E3 = make_code("92130102MA0G7H8J9")
E4 = make_code("91130102MA0K1L2M3")
E5 = make_code("91130102MA0N4P5Q6")
E6 = make_code("92130102MA0R7T8U9")

HTML_NAME = '<b>美味</b>&餐饮"有限公司'
ADDRESS_E3 = "长安区建设北大街17号3单元"
PHONE_E3 = "13912345678"

D = dt.date


def _agencies() -> dict[str, Agency]:
    items = [
        Agency("SJ130100", "石家庄市市场监督管理局", "market", Level.CITY, None, "130100"),
        Agency("SJ130102", "长安区市场监督管理局", "market", Level.COUNTY, "SJ130100", "130102"),
        Agency("HB130102", "石家庄市生态环境局长安区分局", "ecology", Level.COUNTY, None, "130102"),
    ]
    return {a.agency_id: a for a in items}


def _enterprises() -> pd.DataFrame:
    rows = [
        (
            E1,
            "石家庄宏达食品有限公司",
            "130102",
            "C1391",
            "B",
            False,
            "130102198001011234",
            "长安区中山东路8号",
        ),
        (E2, HTML_NAME, "130102", "H6210", "C", False, "130102197502023456", "长安区广安街20号"),
        (E3, "长安区张记小吃店", "130102", "H6210", "A", False, "130102199003035678", ADDRESS_E3),
        (E4, "河北绿源化工有限公司", "130104", "C2614", "D", True, "130104196812127890", "桥西区化工路1号"),
        (
            E5,
            "石家庄恒通商贸有限公司",
            "130102",
            "F5211",
            "B",
            False,
            "13010219850505111X",
            "长安区谈固街5号",
        ),
        (E6, "长安区李氏饭馆", "130102", "H6210", "A", False, "130102197707072222", "长安区育才街9号"),
    ]
    frame = pd.DataFrame(
        [
            {
                "credit_code": code,
                "name": name,
                "region_code": region,
                "industry": industry,
                "risk_class": risk,
                "key_area": key,
                "abnormal": False,
                "complaints": 0,
                "status": "active",
                "legal_rep_id": rep,
                "address": address,
                "lat": 38.05,
                "lon": 114.5,
            }
            for code, name, region, industry, risk, key, rep, address in rows
        ],
        columns=ENTERPRISE_COLUMNS,
    )
    frame["phone"] = [""] * 2 + [PHONE_E3] + [""] * 3
    return frame


def _inspectors() -> dict[str, Inspector]:
    items = [
        Inspector("I001", "王建国", "SJ130102", "13010219001", specialties=frozenset({"food"})),
        Inspector(
            "I002", "李秀英", "SJ130102", "13010219002", relatives_ids=frozenset({"130102196001019999"})
        ),
        Inspector("I003", "张伟", "SJ130102", "13010219003", former_employers=frozenset({E5})),
        Inspector("I004", "赵敏", "HB130102", "HB2021-0456", specialties=frozenset({"ecology"})),
        Inspector("I005", "刘洋", "HB130102", "HB2021-0789", relatives_ids=frozenset({"130104197001013333"})),
    ]
    return {i.inspector_id: i for i in items}


def _items() -> dict[str, Item]:
    items = [
        Item("I-001", "market", "食品生产企业监督检查", "《中华人民共和国食品安全法》第一百一十条", "food"),
        Item("I-002", "market", "餐饮服务食品安全检查", "《食品经营许可和备案管理办法》第四十三条", "food"),
        Item("I-102", "market", "工业产品生产许可证后检查"),
        Item("I-201", "ecology", "排污许可证执行情况检查", "《排污许可管理条例》第三十四条", "ecology"),
    ]
    return {i.item_id: i for i in items}


def _plan() -> Plan:
    window = {"window_start": D(2026, 1, 5), "window_end": D(2026, 3, 31)}
    t1 = Task(
        task_id="T1",
        agency_id="SJ130102",
        items=("I-001", "I-002"),
        specialty="food",
        population=Population("1301", ("C13", "C26", "H62")),
        count=4,
        **window,
    )
    t2 = Task(
        task_id="T2",
        agency_id="SJ130102",
        joint_agencies=("HB130102",),
        items=("I-102", "I-201"),
        population=Population("1301", ("C26",)),
        count=1,
        **window,
    )
    return Plan(quarter="2026Q1", policy=Policy(), tasks=(t1, t2))


def _visits() -> list[Visit]:
    w = {"window_start": D(2026, 1, 5), "window_end": D(2026, 3, 31)}
    return [
        Visit(
            "V0001",
            E1,
            ("T1",),
            "SJ130102",
            ("SJ130102",),
            ("market",),
            ("food",),
            date=D(2026, 1, 6),
            inspector_ids=("I001", "I003"),
            **w,
        ),
        Visit(
            "V0002",
            E2,
            ("T1",),
            "SJ130102",
            ("SJ130102",),
            ("market",),
            ("food",),
            date=D(2026, 1, 6),
            inspector_ids=("I002", "I001"),
            **w,
        ),
        Visit(
            "V0003",
            E4,
            ("T1", "T2"),
            "SJ130102",
            ("SJ130102", "HB130102"),
            ("market", "ecology"),
            ("food",),
            date=D(2026, 1, 8),
            inspector_ids=("I003", "I004"),
            **w,
        ),
        Visit(
            "V0004",
            E3,
            ("T1",),
            "SJ130102",
            ("SJ130102",),
            ("market",),
            ("food",),
            date=D(2026, 1, 12),
            inspector_ids=("I002", "I003"),
            **w,
        ),
    ]


def _strata() -> list[Stratum]:
    return [
        Stratum("T1", "A", 2, 1, "3f2a"),
        Stratum("T1", "B", 2, 1, "7c01"),
        Stratum("T1", "C", 1, 1, "ffff"),
        Stratum("T1", "D", 0, 0, None),
        Stratum("T1", "key_area", 1, 1, None),
        Stratum("T2", "key_area", 1, 1, None),
    ]


def _selection(strata: list[Stratum]) -> list[Selected]:
    by = {(s.task_id, s.stratum): s for s in strata}
    picks = [
        ("T1", E1, "B", "0a1b"),
        ("T1", E2, "C", "ffff"),
        ("T1", E3, "A", "3f2a"),
        ("T1", E4, "key_area", ""),
        ("T2", E4, "key_area", ""),
    ]
    out = []
    for task, code, stratum, ticket in picks:
        s = by[(task, stratum)]
        out.append(
            Selected(task, code, stratum, s.population_size, s.sample_size, s.inclusion_probability, ticket)
        )
    return out


def _workdays() -> list[dt.date]:
    day, out = D(2026, 1, 5), []
    while day <= D(2026, 1, 16):
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def make_result() -> PlanResult:
    """Build the hand-made PlanResult (a fresh one on every call)."""
    registry = Registry(
        agencies=_agencies(),
        enterprises=_enterprises(),
        inspectors=_inspectors(),
        items=_items(),
    )
    strata = _strata()
    staffing = StaffingStats(
        max_pair_probability=0.25,
        pair_probability_cap=0.5,
        pairs_over_cap=0,
        expected_load={"I001": 1.6, "I002": 1.6, "I003": 2.4, "I004": 1.0, "I005": 0.4},
        load={"I001": 2, "I002": 2, "I003": 3, "I004": 1, "I005": 0},
        capacity={"I001": 30, "I002": 30, "I003": 30, "I004": 30, "I005": 30},
        eligible_pairs=7,
    )
    return PlanResult(
        plan=_plan(),
        registry=registry,
        seed="20260105",
        strata=strata,
        selection=_selection(strata),
        visits=_visits(),
        staffing=staffing,
        workdays=_workdays(),
        warnings=["T2: only 2 ecology inspectors <certified> for the joint visits"],
    )


@pytest.fixture
def plan_result() -> PlanResult:
    """A small hand-made PlanResult (see the module docstring)."""
    return make_result()


@pytest.fixture
def personal_tokens(plan_result: PlanResult) -> list[str]:
    """Every personal datum in the fixture: legal representatives' ids, relatives'
    ids, inspectors' ids, names and certificate numbers."""
    reg = plan_result.registry
    tokens = list(reg.enterprises["legal_rep_id"])
    for insp in reg.inspectors.values():
        tokens += [insp.inspector_id, insp.name, insp.certificate_no or ""]
        tokens += sorted(insp.relatives_ids)
    return [t for t in tokens if t]
