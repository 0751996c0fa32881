"""The draw on a generated province (issue 6): the same strata, selection and frames as a plain
re-statement of the rules, and the same whatever executor hashes the tickets and however a
stratum is split into parts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import scheduler.draw as draw_module
from data.generate import generate_registry
from scheduler.draw import KEY_AREA, allocate, draw, locate, recent_history, smallest_tickets, task_order
from scheduler.errors import InputError
from scheduler.executor import LocalExecutor, make_executor
from scheduler.importer import load_registry
from scheduler.messages import t as msg
from scheduler.plan import load_plan
from scheduler.plan_run import Selected, Stratum, TaskFrame
from scheduler.tables import byte_strings
from scheduler.tickets import ticket

ALL = ["A", "B", "C", "D"]
EXTRA_TASKS = [  # overlapping levels, so that dedup within the plan happens
    {
        "task_id": "X-PROV",
        "agency_id": "SJ130000",
        "population": {"risk_classes": ALL},
        "ratio": dict.fromkeys(ALL, 0.1),
    },
    {
        "task_id": "X-CITY",
        "agency_id": "SJ130100",
        "population": {"risk_classes": ALL},
        "ratio": dict.fromkeys(ALL, 0.2),
    },
    {"task_id": "X-COUNTY", "agency_id": "SJ130102", "population": {"risk_classes": ALL}, "count": 40},
    {
        "task_id": "X-COUNTY-2",
        "agency_id": "SJ130203",
        "population": {"region_prefix": "130203", "industries": ["C", "F52"], "risk_classes": ["A", "D"]},
        "count": {"A": 3, "D": 2},
    },
    {"task_id": "X-INDIV", "agency_id": "SJ130203", "population": {"entity_types": ["个体工商户"]}, "count": 5},
]
WINDOW = {"start": "2026-01-05", "end": "2026-03-31"}


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    folder = generate_registry(
        tmp_path_factory.mktemp("prov"),
        enterprises=6000,
        inspectors=120,
        cities=2,
        counties_per_city=2,
        seed=5,
        fmt="parquet",
    )
    doc = yaml.safe_load((folder / "plan.yaml").read_text(encoding="utf-8"))
    doc["tasks"] += [dict(t, window=WINDOW) for t in EXTRA_TASKS]
    plan_file = Path(folder) / "plan_levels.yaml"
    plan_file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_registry(folder), load_plan(plan_file)


def reference_draw(plan, reg, seed):
    """The rules of :mod:`scheduler.draw`, one enterprise at a time."""
    ent = reg.enterprises.to_dict("records")
    hist = recent_history(plan, reg)
    visits = hist["credit_code"].value_counts().to_dict()
    inspected = {(c, a) for c, a in zip(hist["credit_code"], hist["agency_id"], strict=True)}
    drawn: dict[str, set[str]] = {}
    strata, selection, frames = [], [], []
    for task in task_order(plan, reg):
        lead = reg.agencies[task.agency_id].prefix
        prefix, pop = task.population.region_prefix, task.population
        nested = prefix.startswith(lead) or lead.startswith(prefix)
        inside = [e for e in ent if nested and e["region_code"].startswith(lead) and e["region_code"].startswith(prefix)]
        active = [e for e in inside if e["status"] in plan.policy.drawn_statuses]
        in_industry = [e for e in active if not pop.industries or e["industry"].startswith(tuple(pop.industries))]
        in_risk = [e for e in in_industry if e["risk_class"] in pop.risk_classes]
        rows = [e for e in in_risk if not pop.entity_types or e["entity_type"] in pop.entity_types]
        funnel = {
            "jurisdiction": len(inside),
            "not_active": len(inside) - len(active),
            "industry": len(active) - len(in_industry),
            "risk_class": len(in_industry) - len(in_risk),
            "entity_type": len(in_risk) - len(rows),
        }
        higher = reg.ancestors(task.agency_id)
        earlier = set().union(*(drawn.get(a, set()) for a in higher))
        out_hist = [e for e in rows if any((e["credit_code"], a) in inspected for a in higher)]
        left = [e for e in rows if e not in out_hist]
        out_plan = [e for e in left if e["credit_code"] in earlier]
        left = [e for e in left if e["credit_code"] not in earlier]
        max_visits = plan.policy.max_visits_per_enterprise
        out_cap = [
            e
            for e in left
            if e["risk_class"] != "D" and visits.get(e["credit_code"], 0) >= max(max_visits, 1)
        ]
        eligible = [e for e in left if e not in out_cap]
        frames.append(
            TaskFrame(task.task_id, len(rows), len(out_hist), len(out_plan), len(out_cap), len(eligible), **funnel)
        )
        mine = drawn.setdefault(task.agency_id, set())
        keys = sorted(e["credit_code"] for e in eligible if e["key_area"])
        if keys:
            strata.append(Stratum(task.task_id, KEY_AREA, len(keys), len(keys), None))
            for c in keys:
                selection.append(
                    Selected(
                        task.task_id, c, KEY_AREA, len(keys), len(keys), 1.0, ticket(seed, task.task_id, c)
                    )
                )
            mine.update(keys)
        by_class = {
            c: [e["credit_code"] for e in eligible if not e["key_area"] and e["risk_class"] == c]
            for c in pop.risk_classes
        }
        wanted = allocate(task, {c: len(v) for c, v in by_class.items()})
        for c in sorted(by_class):
            if not by_class[c]:
                continue
            ranked = sorted((ticket(seed, task.task_id, code), code) for code in by_class[c])[: wanted[c]]
            n_all, n = len(by_class[c]), wanted[c]
            strata.append(Stratum(task.task_id, c, n_all, n, ranked[-1][0] if n else None))
            for t, code in ranked:
                selection.append(Selected(task.task_id, code, c, n_all, n, n / n_all, t))
            mine.update(code for _, code in ranked)
    order = {t.task_id: k for k, t in enumerate(plan.tasks)}
    selection.sort(key=lambda s: (order[s.task_id], s.credit_code))
    strata.sort(key=lambda s: (order[s.task_id], s.stratum != KEY_AREA, s.stratum))
    frames.sort(key=lambda f: order[f.task_id])
    return strata, selection, frames


def test_draw_states_the_rules_exactly(province):
    reg, plan = province
    got = draw(plan, reg, "seed-7")
    assert got == reference_draw(plan, reg, "seed-7")
    frames = got[2]
    assert (
        sum(f.dedup_history for f in frames)
        and sum(f.dedup_plan for f in frames)
        and sum(f.frequency_cap for f in frames)
    )
    assert any(s.stratum == KEY_AREA for s in got[0])


def test_worker_processes_give_the_same_draw(province):
    reg, plan = province
    local = draw(plan, reg, "seed-7", executor=LocalExecutor())
    workers = make_executor("processes:2")
    try:
        assert draw(plan, reg, "seed-7", executor=workers) == local
    finally:
        workers.close()
    assert draw(plan, reg, "seed-7") == local


def test_strata_hashed_in_many_parts_give_the_same_draw(province, monkeypatch):
    reg, plan = province
    whole = draw(plan, reg, "seed-7")
    monkeypatch.setattr(draw_module, "PART_SIZE", 7)
    assert draw(plan, reg, "seed-7") == whole
    workers = make_executor("processes:2")
    try:
        assert draw(plan, reg, "seed-7", executor=workers) == whole
    finally:
        workers.close()


def test_smallest_tickets_are_the_sorted_tickets():
    codes = np.array([f"9113010{k:010d}X".encode() for k in range(500)] + [b"short", "中文".encode()])
    pos, words = smallest_tickets("s", "T1", codes, 30)
    want = sorted((ticket("s", "T1", c.decode()), k) for k, c in enumerate(codes.tolist()))[:30]
    assert pos.tolist() == [k for _, k in want]
    assert draw_module.ticket_hex(words) == [t for t, _ in want]
    assert smallest_tickets("s", "T1", codes, 0)[0].size == 0
    assert smallest_tickets("s", "T1", codes, 10_000)[0].size == len(codes)


def test_locate_finds_codes_of_any_length():
    codes = byte_strings(pd.Series(["91130100MA0000000Y", "X", "中文代码", ""], dtype=str))
    wanted = byte_strings(
        pd.Series(["X", "nope", "91130100MA0000000Y", "中文代码", "91130100MA0000000Y-long"], dtype=str)
    )
    assert locate(codes, wanted).tolist() == [1, -1, 0, 2, -1]


def test_dask_cluster_gives_the_same_draw(province, monkeypatch):
    distributed = pytest.importorskip("distributed")
    reg, plan = province
    whole = draw(plan, reg, "seed-7")
    monkeypatch.setattr(draw_module, "PART_SIZE", 500)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        workers = make_executor("dask://" + cluster.scheduler_address.removeprefix("tcp://"))
        try:
            assert draw(plan, reg, "seed-7", executor=workers) == whole
        finally:
            workers.close()


def test_an_empty_registry_draws_nothing():
    from tests import factories as f

    tasks = [dict(f.COUNTY_TASK, allow_empty=True), dict(f.CITY_TASK, allow_empty=True)]
    strata, selection, frames = draw(f.plan(tasks), f.registry(0), "s")
    assert (strata, selection) == ([], []) and [x.population for x in frames] == [0, 0]


def test_an_empty_frame_stops_the_run_naming_the_task_and_the_filter():
    """No silent emptiness: a task whose frame is empty is bad input unless it says allow_empty."""
    from tests import factories as f

    reg = f.registry(200)
    tasks = [
        dict(f.COUNTY_TASK, population={"industries": ["Q"]}),  # no such industry in the county
        dict(f.CITY_TASK, population={"industries": ["Q"]}, allow_empty=True),
    ]
    with pytest.raises(InputError) as info:
        draw(f.plan(tasks), reg, "s")
    (problem,) = info.value.problems
    assert problem.column == "tasks[0] (T-county)"
    assert problem.message.startswith(msg("frame_empty", task="T-county", step=msg("step_industry"), counts="")[:20])
    assert msg("step_industry") in problem.message and "T-county" in problem.message
    strata, selection, frames = draw(f.plan([tasks[1]]), reg, "s")
    assert selection == [] and frames[0].emptied_by() == "industry"
