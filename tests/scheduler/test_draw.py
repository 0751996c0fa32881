"""The draw: population, dedup across levels, frequency cap, key area, sampling."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.draw import KEY_AREA, allocate, draw
from scheduler.tickets import ticket
from tests import factories as f
from tests.factories import CITY_TASK, COUNTY_TASK


def drawn(selection, task_id):
    return {s.credit_code for s in selection if s.task_id == task_id}


def test_ticket_is_sha256_of_seed_task_and_code():
    expected = hashlib.sha256(b"seed|T1|91130123MA0000000X").hexdigest()
    assert ticket("seed", "T1", "91130123MA0000000X") == expected


def test_sample_sizes_round_half_up_and_probabilities_are_n_over_n():
    reg = f.registry(200)
    strata, selection, _ = draw(f.plan([COUNTY_TASK]), reg, "s")
    sizes = reg.enterprises["risk_class"].value_counts()
    for s in strata:
        ratio = Decimal(str(COUNTY_TASK["ratio"][s.stratum]))
        n = int(ratio * sizes[s.stratum] + Decimal("0.5"))
        assert (s.population_size, s.sample_size) == (sizes[s.stratum], n)
        rows = [r for r in selection if r.stratum == s.stratum]
        assert len(rows) == n
        assert all(r.inclusion_probability == n / sizes[s.stratum] for r in rows)


def test_drawn_are_the_smallest_tickets_and_threshold_separates_them():
    reg = f.registry(300)
    strata, selection, _ = draw(f.plan([COUNTY_TASK]), reg, "seed-1")
    ent = reg.enterprises
    for s in strata:
        codes = ent.loc[ent["risk_class"] == s.stratum, "credit_code"]
        tickets = sorted((ticket("seed-1", "T-county", c), c) for c in codes)
        want = {c for _, c in tickets[: s.sample_size]}
        assert {r.credit_code for r in selection if r.stratum == s.stratum} == want
        assert all((t <= s.threshold) == (c in want) for t, c in tickets)


def test_inactive_and_out_of_population_enterprises_are_never_drawn():
    reg = f.registry(200)
    reg.enterprises.loc[:49, "status"] = "revoked"
    task = {
        **COUNTY_TASK,
        "ratio": {c: 1 for c in "ABCD"},
        "population": {"industries": ["C13"], "risk_classes": ["A", "B"]},
    }
    _, selection, frames = draw(f.plan([task]), reg, "s")
    ent = reg.enterprises.set_index("credit_code")
    want = ent[
        (ent["status"] == "active")
        & ent["industry"].str.startswith("C13")
        & ent["risk_class"].isin(["A", "B"])
    ]
    assert drawn(selection, "T-county") == set(want.index)
    assert frames[0].population == len(want)


def test_key_area_enterprises_are_all_drawn_with_probability_one():
    reg = f.registry(300, key_every=10)
    task = {**COUNTY_TASK, "ratio": {c: 0 for c in "ABCD"}}
    strata, selection, _ = draw(f.plan([task]), reg, "s")
    keys = set(reg.enterprises.loc[reg.enterprises["key_area"], "credit_code"])
    assert drawn(selection, "T-county") == keys
    assert [s.stratum for s in strata] == [KEY_AREA, "A", "B", "C", "D"]
    assert all(r.inclusion_probability == 1.0 for r in selection)


def test_enterprise_inspected_by_higher_agency_of_same_department_is_out():
    code = f.code(7)
    history = [(code, "SJ130100", "2025-06-01", ("X1",)), (f.code(8), "ST130100", "2025-06-01", ("X2",))]
    reg = f.registry(60, history=history)
    task = {**COUNTY_TASK, "ratio": {c: 1 for c in "ABCD"}}
    _, selection, frames = draw(f.plan([task], max_visits_per_enterprise=5), reg, "s")
    got = drawn(selection, "T-county")
    assert code not in got  # the city market bureau (a higher agency) inspected it
    assert f.code(8) in got  # another department's inspection is no reason
    assert frames[0].dedup_history == 1


def test_old_history_outside_lookback_does_not_dedup():
    code = f.code(7)
    reg = f.registry(60, history=[(code, "SJ130100", "2024-06-01", ("X1",))])
    task = {**COUNTY_TASK, "ratio": {c: 1 for c in "ABCD"}}
    _, selection, _ = draw(f.plan([task]), reg, "s")
    assert code in drawn(selection, "T-county")


def test_lower_level_does_not_draw_what_a_higher_task_drew_in_this_plan():
    reg = f.registry(300)
    # The county task is listed first: order in the file does not matter, levels do.
    _, selection, frames = draw(f.plan([COUNTY_TASK, CITY_TASK]), reg, "s")
    city, county = drawn(selection, "T-city"), drawn(selection, "T-county")
    assert city and county
    assert not city & county
    assert frames[0].dedup_plan == len(city)


def test_frequency_cap_counts_all_departments_and_exempts_d_class():
    ent = f.enterprises(200)
    d_code = ent.loc[ent["risk_class"] == "D", "credit_code"].iloc[0]
    a_code = ent.loc[ent["risk_class"] == "A", "credit_code"].iloc[0]
    history = [(c, "ST130123", "2025-09-01", ("E1",)) for c in (d_code, a_code)]
    reg = f.registry(200, history=history)
    task = {**COUNTY_TASK, "ratio": {c: 1 for c in "ABCD"}}
    _, selection, frames = draw(f.plan([task]), reg, "s")
    got = drawn(selection, "T-county")
    assert a_code not in got
    assert d_code in got
    assert frames[0].frequency_cap == 1


def test_count_is_split_by_largest_remainder():
    t = f.plan([{k: v for k, v in COUNTY_TASK.items() if k != "ratio"} | {"count": 10}]).tasks[0]
    assert allocate(t, {"A": 50, "B": 30, "C": 15, "D": 5}) == {"A": 5, "B": 3, "C": 2, "D": 0}
    assert sum(allocate(t, {"A": 1, "B": 1, "C": 1, "D": 0}).values()) == 3


def test_same_seed_same_draw_other_seed_other_draw():
    reg = f.registry(300)
    p = f.plan([COUNTY_TASK])
    a = draw(p, reg, "s1")[1]
    assert a == draw(p, reg, "s1")[1]
    assert a != draw(p, reg, "s2")[1]


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(120))), st.text(min_size=1, max_size=12))
def test_draw_does_not_depend_on_row_order(order, seed):
    reg = f.registry(120)
    p = f.plan([COUNTY_TASK])
    before = draw(p, reg, seed)
    reg.enterprises = reg.enterprises.iloc[list(order)].reset_index(drop=True)
    assert draw(p, reg, seed) == before


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(st.sampled_from("ABCD"), st.integers(0, 400), min_size=1),
    st.integers(0, 500),
)
def test_count_allocation_sums_and_bounds(sizes, count):
    t = f.plan([{k: v for k, v in COUNTY_TASK.items() if k != "ratio"} | {"count": count}]).tasks[0]
    got = allocate(t, sizes)
    assert sum(got.values()) == min(count, sum(sizes.values()))
    assert all(0 <= got[c] <= sizes[c] for c in sizes)


@pytest.mark.parametrize("ratio", ["0.05", "0.125", "0.5"])
def test_ratio_rounding_is_exact_decimal(ratio):
    t = f.plan([{**COUNTY_TASK, "ratio": {"A": float(ratio)}}]).tasks[0]
    assert allocate(t, {"A": 20}) == {"A": int(Decimal(ratio) * 20 + Decimal("0.5"))}
