"""The rule checker on a deterministic sample of visits: which visits, what it still catches."""

from __future__ import annotations

import dataclasses
import hashlib
import random

import pandas as pd
import pytest

from scheduler.checks import check_visits, sample_visits
from scheduler.plan_run import Visit
from scheduler.registry import Conflict
from scheduler.workdays import WorkCalendar
from tests import factories as f

N_VISITS = 120
N_INSPECTORS = 12


@pytest.fixture
def plan_and_visits():
    """120 visits of one county task on 40 working days, three a day; twelve inspectors, each
    at most once a day and 20 times in the quarter: every rule holds."""
    registry = f.registry(N_VISITS)
    plan = f.plan()
    days = WorkCalendar().workdays(plan.tasks[0].window_start, plan.tasks[0].window_end)[:40]
    codes = registry.enterprises["credit_code"].tolist()
    ids = sorted(registry.inspectors)
    visits = []
    for k in range(N_VISITS):
        day, slot = divmod(k, 3)
        team = (
            ids[(2 * slot + 6 * (day % 2)) % N_INSPECTORS],
            ids[(2 * slot + 1 + 6 * (day % 2)) % N_INSPECTORS],
        )
        visits.append(
            Visit(
                f"2026Q1-{k + 1:05d}",
                codes[k],
                ("T1",),
                "SJ130123",
                ("SJ130123",),
                ("market",),
                (),
                plan.tasks[0].window_start,
                plan.tasks[0].window_end,
                date=days[day],
                inspector_ids=team,
            )
        )
    assert check_visits(plan, registry, visits) == []
    return plan, registry, visits


def _smallest(visits: list[Visit], k: int) -> set[str]:
    digests = sorted((hashlib.sha256(v.visit_id.encode("utf-8")).hexdigest(), v.visit_id) for v in visits)
    return {vid for _, vid in digests[:k]}


def test_sample_is_the_smallest_sha256_of_the_visit_ids_in_any_order(plan_and_visits):
    _, _, visits = plan_and_visits
    chosen = sample_visits(visits, 10)
    assert chosen == sorted(chosen) and len(chosen) == 10
    assert {visits[k].visit_id for k in chosen} == _smallest(visits, 10)
    shuffled = visits[:]
    random.Random(7).shuffle(shuffled)
    assert {shuffled[k].visit_id for k in sample_visits(shuffled, 10)} == _smallest(visits, 10)
    assert sample_visits(visits, None) == sample_visits(visits, 10_000) == list(range(N_VISITS))


def test_planted_violation_in_a_sampled_visit_is_caught(plan_and_visits):
    plan, registry, visits = plan_and_visits
    sampled = _smallest(visits, 10)
    k_in = next(k for k, v in enumerate(visits) if v.visit_id in sampled)
    k_out = next(k for k, v in enumerate(visits) if v.visit_id not in sampled)
    v_in, v_out = visits[k_in], visits[k_out]
    member = v_in.inspector_ids[0]
    registry.conflicts.append(Conflict(member, v_in.credit_code, "亲属持股"))
    sunday = pd.Timestamp("2026-01-11").date()
    visits[k_out] = dataclasses.replace(v_out, date=sunday)
    found = check_visits(plan, registry, visits, sample=10)
    assert f"{v_in.visit_id} ({v_in.credit_code}): {member} has a declared conflict" in found
    # the unsampled visit's own rules are not looked at ...
    assert not any(line.startswith(v_out.visit_id) for line in found)
    # ... but every visit's are without a sample
    full = check_visits(plan, registry, visits)
    assert f"{v_out.visit_id} ({v_out.credit_code}): 2026-01-11 is not a working day" in full
    assert set(found) <= set(full)
    assert check_visits(plan, registry, visits, sample=N_VISITS) == full


def test_caps_are_checked_over_all_visits_whatever_the_sample(plan_and_visits):
    plan, registry, visits = plan_and_visits
    sampled = _smallest(visits, 1)
    busy = "I000"
    others = [k for k, v in enumerate(visits) if v.visit_id not in sampled and busy not in v.inspector_ids]
    # 20 visits already; put busy on 11 more (31 > 30), three of them on one day (more than 2)
    day = visits[others[0]].date
    for k in others[:11]:
        v = visits[k]
        visits[k] = dataclasses.replace(v, inspector_ids=(busy, v.inspector_ids[1]))
    for k in others[:3]:
        visits[k] = dataclasses.replace(visits[k], date=day)
    on_day = sum(1 for v in visits if v.date == day and busy in v.inspector_ids)
    assert on_day >= 3
    for sample in (1, 5, None):
        found = check_visits(plan, registry, visits, sample=sample)
        assert f"{busy}: 31 visits this quarter > cap 30" in found
        assert f"{busy}: {on_day} visits on {day} > daily cap 2" in found
    found = check_visits(plan, registry, visits, sample=1)
    assert not any(line.startswith(tuple(visits[k].visit_id for k in others)) for line in found)


def test_two_visits_to_one_enterprise_found_whatever_the_sample(plan_and_visits):
    plan, registry, visits = plan_and_visits
    sampled = _smallest(visits, 1)
    risk = dict(zip(registry.enterprises["credit_code"], registry.enterprises["risk_class"], strict=True))
    k1, k2 = [k for k, v in enumerate(visits) if v.visit_id not in sampled and risk[v.credit_code] != "D"][:2]
    code = visits[k1].credit_code
    visits[k2] = dataclasses.replace(visits[k2], credit_code=code)
    assert f"{code}: 2 visits this quarter (one visit covers all its tasks)" in check_visits(
        plan, registry, visits, sample=1
    )


def test_visits_already_made_this_quarter_count_against_the_cap(plan_and_visits):
    plan, registry, visits = plan_and_visits
    done = pd.DataFrame(
        [(visits[0].credit_code, "SJ130123", pd.Timestamp("2026-01-05"), ("I000",))] * 11,
        columns=registry.history.columns,
    )
    registry.history = pd.concat([registry.history, done], ignore_index=True)
    found = check_visits(plan, registry, visits, sample=1)
    assert "I000: 20 visits this quarter + 11 already made > cap 30" in found
    assert not any(line.startswith("I001:") for line in found)
