"""Independent parts and executors: the same bytes whatever runs them (issue 6).

A small province-shaped registry (2 cities x 2 counties) whose province and city tasks are
carried out locally (``staffing: delegated``) splits into several parts that share no
inspector; the whole run on one process, on two worker processes and on a Dask
``LocalCluster`` must write byte-identical output folders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data.generate import generate_registry
from scheduler.checks import check_visits
from scheduler.executor import ENV_SCHEDULER, LocalExecutor, ProcessExecutor, make_executor
from scheduler.outputs import write_outputs
from scheduler.pipeline import date_parts, run_plan
from scheduler.staffing import build_lottery, draw_teams, eligibility, find_parts

SEED = "parts-seed"


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> tuple[Path, Path]:
    d = generate_registry(
        tmp_path_factory.mktemp("prov"),
        enterprises=12_000,
        inspectors=160,
        cities=2,
        counties_per_city=2,
        seed=3,
        province_staffing="delegated",
    )
    plan = d / "plan.yaml"
    assert "staffing: delegated" in plan.read_text(encoding="utf-8")
    return d, plan


@pytest.fixture(scope="module")
def local_run(province):
    d, plan = province
    return run_plan(d, plan, SEED)


def _cli_plan(registry: Path, plan: Path, out: Path, executor: str, env: dict | None = None):
    cmd = [sys.executable, "-m", "randinspect.cli", "plan", str(registry), str(plan), "--seed", SEED]
    cmd += ["--out", str(out), "--executor", executor]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def _outputs(result, registry: Path, plan: Path, out: Path) -> dict[str, str]:
    write_outputs(result, out, registry, plan)
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]


def test_make_executor_names_what_is_wrong(monkeypatch):
    assert isinstance(make_executor(None), LocalExecutor)
    assert isinstance(make_executor("local"), LocalExecutor)
    with pytest.raises(ValueError, match="after 'processes:' must be a number"):
        make_executor("processes:two")
    with pytest.raises(ValueError, match=r"expected local, processes\[:N\], dask://HOST:PORT or dask"):
        make_executor("threads")
    monkeypatch.delenv(ENV_SCHEDULER, raising=False)
    with pytest.raises(ValueError, match=ENV_SCHEDULER):
        make_executor("dask")


def test_process_executor_keeps_argument_order():
    ex = ProcessExecutor(2)
    try:
        assert ex.workers == 2
        assert ex.map(pow, [(2, k) for k in range(12)]) == [2**k for k in range(12)]
    finally:
        ex.close()


def test_parts_share_no_inspector_and_cover_every_visit(province, local_run):
    d, plan = province
    from scheduler.importer import load_registry
    from scheduler.pipeline import plan_days
    from scheduler.plan import load_plan
    from scheduler.staffing import build_roster
    from scheduler.workdays import WorkCalendar

    registry, p = load_registry(d), load_plan(plan)
    visits = [v for v in local_run.visits]
    roster = build_roster(p, registry, plan_days(p, WorkCalendar()))
    elig = eligibility(p, registry, visits, roster)
    parts = find_parts(elig, len(roster.inspectors))
    assert len(parts) >= 4  # at least one per county bureau
    seen_visits = np.concatenate([vs for vs, _, _, _ in parts])
    assert sorted(seen_visits.tolist()) == list(range(len(visits)))
    owner: dict[int, int] = {}
    for k, (vs, ss, ins, _) in enumerate(parts):
        assert set(elig.slot_visit[ss].tolist()) == set(vs.tolist())
        for s in ss.tolist():
            assert set(elig.candidates(s).tolist()) <= set(ins.tolist())
        for i in ins.tolist():
            assert owner.setdefault(i, k) == k, f"inspector {i} in parts {owner[i]} and {k}"
    # Parts are ordered by their first visit.
    firsts = [int(vs.min()) for vs, _, _, _ in parts]
    assert firsts == sorted(firsts)


def test_a_part_drawn_alone_gets_the_same_teams(province, local_run):
    """Decomposition is exact: one part's visits staffed on their own draw the same teams."""
    d, plan = province
    from scheduler.importer import load_registry
    from scheduler.pipeline import plan_days
    from scheduler.plan import load_plan
    from scheduler.staffing import build_roster
    from scheduler.workdays import WorkCalendar

    registry, p = load_registry(d), load_plan(plan)
    visits = local_run.visits
    roster = build_roster(p, registry, plan_days(p, WorkCalendar()))
    whole = build_lottery(p, registry, visits, roster)
    teams, _ = draw_teams(whole, SEED)
    part = whole.parts[1]
    alone_visits = [visits[int(v)] for v in part.visits]
    alone = build_lottery(p, registry, alone_visits, roster)
    assert len(alone.parts) == 1 and alone.parts[0].label == part.label
    alone_teams, _ = draw_teams(alone, SEED)
    assert alone_teams == [teams[int(v)] for v in part.visits]
    # ... and a different seed draws different teams for it.
    assert draw_teams(alone, SEED + "x")[0] != alone_teams


def test_rules_hold_in_the_decomposed_run(province, local_run):
    d, plan = province
    from scheduler.importer import load_registry
    from scheduler.plan import load_plan

    assert len(local_run.visits) > 1000
    assert check_visits(load_plan(plan), load_registry(d), local_run.visits) == []


def test_date_parts_split_at_shared_inspectors():
    # visits 0-1 share inspector 0; 2-3 share 5; 4 alone
    groups = date_parts([[0, 1], [0, 2], [5, 6], [7, 5], [9, 8]], 10)
    assert [g.tolist() for g in groups] == [[0, 1], [2, 3], [4]]


def test_worker_processes_write_the_same_bytes(province, local_run, tmp_path):
    d, plan = province
    expected = _outputs(local_run, d, plan, tmp_path / "local")
    ex = make_executor("processes:2")
    try:
        result = run_plan(d, plan, SEED, executor=ex)
    finally:
        ex.close()
    assert _outputs(result, d, plan, tmp_path / "processes") == expected


def test_dask_cluster_writes_the_same_bytes(province, local_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    d, plan = province
    expected = _outputs(local_run, d, plan, tmp_path / "local")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        ex = make_executor(f"dask://{address}")
        try:
            assert ex.workers == 2
            result = run_plan(d, plan, SEED, executor=ex)
        finally:
            ex.close()
        assert _outputs(result, d, plan, tmp_path / "dask") == expected
        # The CLI reaches the same cluster through the configured address.
        out = tmp_path / "cli"
        done = _cli_plan(d, plan, out, "dask", env={**os.environ, ENV_SCHEDULER: address})
        assert done.returncode == 0, done.stderr
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["outputs"] == expected


def test_cli_refuses_an_unknown_executor(province, tmp_path):
    d, plan = province
    out = tmp_path / "never"
    done = _cli_plan(d, plan, out, "threads")
    assert done.returncode == 2
    assert "--executor" in done.stderr and "threads" in done.stderr
    assert not out.exists()


def test_dask_workers_with_other_versions_are_refused():
    from scheduler.executor import version_mismatches, versions

    here = versions()
    assert here["randinspect"] != "missing" and here["ortools"] != "missing"
    workers = {"tcp://10.0.0.2:4000": dict(here), "tcp://10.0.0.3:4000": {**here, "ortools": "0.0-other"}}
    assert version_mismatches(here, workers) == [
        f"Dask worker tcp://10.0.0.3:4000 runs other versions: ortools 0.0-other (here {here['ortools']})"
    ]
    assert version_mismatches(here, {"w": dict(here)}) == []


def test_cli_names_an_unreachable_dask_scheduler(province, tmp_path):
    pytest.importorskip("distributed")
    d, plan = province
    out = tmp_path / "never"
    done = _cli_plan(d, plan, out, "dask://127.0.0.1:1")
    assert done.returncode == 2
    assert (
        "选项 --executor：dask://127.0.0.1:1: Timed out trying to connect to tcp://127.0.0.1:1"
        in done.stderr
    )
    assert not out.exists()
