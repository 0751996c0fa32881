"""Draws: a background job with progress; exactly one draw of a plan at a time (two requests at
the same moment, on separate connections: one 202, one 409); a re-draw only with a recorded
reason; a draw that fails — at any point, even with half its visits inserted, or because the
server is killed — stores nothing and leaves the plan drawable."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import api.jobs
from api.models import DrawRecord, PlanRecord, SelectionRecord, StratumRecord, VisitRecord
from tests.api.test_registries import (
    audit_records,
    bearer,
    generated,
    make_plan,
    plan_spec,
    registry_files,
    upload,
    upload_generated,
    wait_for_draw,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def as_planner(app, client) -> dict:
    return bearer(app, "planner1", "planner")


@pytest.fixture
def as_auditor(app, client) -> dict:
    return bearer(app, "auditor1", "auditor")


def count(app, model, **where) -> int:
    with app.state.read_sessions() as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.scalar(q)


def test_draw_poll_redraw(app, client, as_planner, as_auditor):
    registry_id, spec = upload_generated(client, as_planner)
    plan = make_plan(client, as_planner, registry_id, spec)
    r = client.post(f"/api/plans/{plan['id']}/draws", json={"seed": "draw-1"}, headers=as_planner)
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["status"] == "running" and started["number"] == 1 and started["progress"] == 0
    assert r.headers["location"] == f"/api/draws/{started['id']}"
    done = wait_for_draw(client, as_auditor, started["id"])
    assert (
        done["status"] == "done" and done["stage"] == "done" and done["progress"] == 1 and done["error"] == ""
    )
    assert done["finished_at"] and done["visits"] > 0
    # the exclusion report per task (issue 11): from the jurisdiction down to the frame drawn from
    assert done["exclusions"] and all(
        f["jurisdiction"] - f["not_active"] - f["industry"] - f["risk_class"] - f["entity_type"] == f["population"]
        >= f["eligible"]
        for f in done["exclusions"]
    )
    assert "dates" in done["seen"] or "done" in done["seen"]

    # everything stored in one go: visits, selection, strata, the manifest; the plan frozen
    first = started["id"]
    with app.state.read_sessions() as s:
        draw = s.get(DrawRecord, first)
        assert draw.manifest["seed"] == "draw-1" and draw.manifest["seed_kind"] == "test"
        assert draw.report_html.startswith("<!DOCTYPE html>")
        assert count(app, VisitRecord, draw_id=first) == draw.manifest["facts"]["visits"] == done["visits"]
        assert count(app, SelectionRecord, draw_id=first) == draw.manifest["facts"]["selected"]
        assert count(app, StratumRecord, draw_id=first) == draw.manifest["facts"]["strata"]
        codes = s.scalars(select(VisitRecord.notice_code).where(VisitRecord.draw_id == first)).all()
        assert len(set(codes)) == len(codes) and all(len(c) == 10 for c in codes)
    plan_now = client.get(f"/api/plans/{plan['id']}", headers=as_planner).json()
    assert plan_now["status"] == "drawn" and plan_now["current_draw_id"] == first
    (record,) = audit_records(app, "draw")
    assert record["seed"] == "draw-1" and record["visits"] == done["visits"] and record["reason"] == ""
    assert record["actor"] == "planner1"

    # a re-draw needs a reason ...
    r = client.post(f"/api/plans/{plan['id']}/draws", json={"seed": "draw-2"}, headers=as_planner)
    assert r.status_code == 409
    assert (
        r.json()["detail"]
        == "the plan is already drawn; drawing it again needs a reason (it is recorded in the audit)"
    )
    r = client.post(
        f"/api/plans/{plan['id']}/draws", json={"seed": "draw-2", "reason": "   "}, headers=as_planner
    )
    assert r.status_code == 409
    # ... an auditor may not draw ...
    assert (
        client.post(
            f"/api/plans/{plan['id']}/draws", json={"seed": "x", "reason": "y"}, headers=as_auditor
        ).status_code
        == 403
    )
    # ... and with one it is drawn again, the reason in the record, the first draw kept
    reason = "第一次抽取时检查对象名录未更新"
    r = client.post(
        f"/api/plans/{plan['id']}/draws", json={"seed": "draw-2", "reason": reason}, headers=as_planner
    )
    assert r.status_code == 202, r.text
    second = r.json()["id"]
    assert r.json()["number"] == 2 and r.json()["reason"] == reason
    assert wait_for_draw(client, as_planner, second)["status"] == "done"
    assert [a["reason"] for a in audit_records(app, "draw")] == ["", reason]
    assert [a["redraw"] for a in audit_records(app, "note") if a.get("event") == "draw requested"] == [
        False,
        True,
    ]
    draws = client.get(f"/api/plans/{plan['id']}/draws", headers=as_auditor).json()
    assert [(d["number"], d["status"], d["seed"]) for d in draws] == [
        (1, "done", "draw-1"),
        (2, "done", "draw-2"),
    ]
    assert client.get(f"/api/plans/{plan['id']}", headers=as_planner).json()["current_draw_id"] == second
    assert count(app, VisitRecord, draw_id=first) > 0 and count(app, VisitRecord, draw_id=second) > 0

    # unknown and malformed
    assert client.get("/api/draws/999", headers=as_planner).status_code == 404
    assert client.get("/api/plans/999/draws", headers=as_planner).status_code == 404
    assert client.post("/api/plans/999/draws", json={"seed": "s"}, headers=as_planner).status_code == 404
    assert (
        client.post(f"/api/plans/{plan['id']}/draws", json={"seed": ""}, headers=as_planner).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/plans/{plan['id']}/draws", json={"seed": "a" * 129}, headers=as_planner
        ).status_code
        == 422
    )
    assert (
        client.post(f"/api/plans/{plan['id']}/draws", json={"seed": "\x00"}, headers=as_planner).status_code
        == 422
    )
    assert client.get(f"/api/draws/{2**40}", headers=as_planner).status_code == 422


def test_two_draws_at_once_exactly_one_runs(app, client, as_planner):
    """Each request in its own thread and TestClient (its own connection), released together."""
    registry_id, spec = upload_generated(client, as_planner)
    plans = []
    for attempt in range(3):
        plan = make_plan(client, as_planner, registry_id, spec, name=f"race {attempt}")
        plans.append(plan["id"])
        barrier = threading.Barrier(2)
        answers: list[tuple[int, dict]] = []

        def post(seed: str, plan_id: int, barrier: threading.Barrier, answers: list) -> None:
            c = TestClient(app)  # its own client: its own connection and session
            barrier.wait()
            r = c.post(f"/api/plans/{plan_id}/draws", json={"seed": seed}, headers=as_planner)
            answers.append((r.status_code, r.json()))

        threads = [
            threading.Thread(target=post, args=(f"race-{attempt}-{k}", plan["id"], barrier, answers))
            for k in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(code for code, _ in answers) == [202, 409], answers
        (refused,) = [body for code, body in answers if code == 409]
        assert refused["detail"] == "a draw of this plan is already running"
        assert count(app, DrawRecord, plan_id=plan["id"]) == 1
    # every plan drawn exactly once
    for plan_id in plans:
        (d,) = client.get(f"/api/plans/{plan_id}/draws", headers=as_planner).json()
        assert wait_for_draw(client, as_planner, d["id"])["status"] == "done"
        assert client.get(f"/api/plans/{plan_id}", headers=as_planner).json()["status"] == "drawn"


def test_a_draw_failing_midway_stores_nothing(app, client, as_planner, monkeypatch):
    registry_id, spec = upload_generated(client, as_planner)
    plan = make_plan(client, as_planner, registry_id, spec)
    inserted = {}
    real_insert = api.jobs._insert

    def insert_then_fail(session, model, rows):
        if model is SelectionRecord:  # the visits are in the transaction already
            inserted["visits"] = session.scalar(select(func.count()).select_from(VisitRecord))
            raise OSError("disk full while storing the selection")
        real_insert(session, model, rows)

    # 1. the store fails after the visits went into its transaction
    monkeypatch.setattr(api.jobs, "_insert", insert_then_fail)
    r = client.post(f"/api/plans/{plan['id']}/draws", json={"seed": "fail-1"}, headers=as_planner)
    assert r.status_code == 202
    failed = wait_for_draw(client, as_planner, r.json()["id"])
    assert failed["status"] == "failed" and failed["stage"] == "failed"
    assert failed["error"] == "internal error: OSError: disk full while storing the selection"
    assert inserted["visits"] > 0  # inserted, then rolled back with everything else
    assert count(app, VisitRecord) == 0 and count(app, SelectionRecord) == 0
    assert count(app, StratumRecord) == 0
    after = client.get(f"/api/plans/{plan['id']}", headers=as_planner).json()
    assert after["status"] == "draft" and after["current_draw_id"] is None
    assert audit_records(app, "draw") == []
    (note,) = [a for a in audit_records(app, "note") if a.get("event") == "draw failed"]
    assert note["error"].endswith("disk full while storing the selection")
    monkeypatch.undo()

    # 2. writing the outputs fails
    def broken_outputs(*args, **kwargs):
        raise RuntimeError("report could not be written")

    monkeypatch.setattr(api.jobs, "write_outputs", broken_outputs)
    r = client.post(f"/api/plans/{plan['id']}/draws", json={"seed": "fail-2"}, headers=as_planner)
    assert r.status_code == 202  # the plan is drawable again: no reason needed, it was never drawn
    assert wait_for_draw(client, as_planner, r.json()["id"])["error"].endswith("report could not be written")
    monkeypatch.undo()

    # 3. and then it draws, as draw number 3
    r = client.post(f"/api/plans/{plan['id']}/draws", json={"seed": "fail-3"}, headers=as_planner)
    assert r.status_code == 202 and r.json()["number"] == 3
    done = wait_for_draw(client, as_planner, r.json()["id"])
    assert done["status"] == "done" and count(app, VisitRecord) == done["visits"]
    assert [d["status"] for d in client.get(f"/api/plans/{plan['id']}/draws", headers=as_planner).json()] == [
        "failed",
        "failed",
        "done",
    ]


def test_an_infeasible_plan_fails_with_the_reasons(app, client, as_planner):
    """Registry seed 3: a key-area enterprise needs an ecology inspector none of whom is eligible."""
    registry_id, spec = upload_generated(client, as_planner, seed=3)
    plan = make_plan(client, as_planner, registry_id, spec)
    r = client.post(f"/api/plans/{plan['id']}/draws", json={"seed": "s1"}, headers=as_planner)
    draw_id = r.json()["id"]
    early = client.get(f"/api/draws/{draw_id}/visits", headers=as_planner)  # usually still running
    assert early.status_code == 409
    assert early.json()["detail"] in (
        "the draw is still running; its visits exist when it is done",
        "the draw failed; it has no visits",
    )
    failed = wait_for_draw(client, as_planner, draw_id)
    assert failed["status"] == "failed"
    assert failed["error"].startswith("infeasible: ")
    assert (
        "需要一名检查人员（ecology 条线）" in failed["error"] and "符合条件的为 0 人" in failed["error"]
    )
    assert count(app, VisitRecord) == 0
    assert client.get(f"/api/plans/{plan['id']}", headers=as_planner).json()["status"] == "draft"
    r = client.get(f"/api/draws/{draw_id}/visits", headers=as_planner)
    assert r.status_code == 409 and r.json()["detail"] == "the draw failed; it has no visits"


# ---------------------------------------------------------------- a real server, killed mid-draw


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(database_url: str, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "RANDINSPECT_DATABASE_URL": database_url,
        "RANDINSPECT_DRAW_HEARTBEAT_SECONDS": "2",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start:\n" + log.read_text())


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_killed_during_a_draw(app, database_url, tmp_path):
    """SIGKILL the server while a draw runs; after a restart the draw is failed, nothing of it is
    stored, and the plan draws again."""
    headers = bearer(app, "planner1", "planner")  # straight in the database the server will use
    folder = generated(enterprises=10_000, inspectors=120, seed=1)  # a draw of a few seconds
    port, log = _free_port(), tmp_path / "server.log"
    server = _serve(database_url, port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
            r = upload(c, {}, registry_files(folder), name="county of 10,000")
            assert r.status_code == 201, r.text
            plan = make_plan(c, {}, r.json()["id"], plan_spec(folder))
            r = c.post(f"/api/plans/{plan['id']}/draws", json={"seed": "killed"})
            assert r.status_code == 202, r.text
            draw_id = r.json()["id"]
            deadline = time.monotonic() + 30
            while True:  # kill it in the middle of the work
                d = c.get(f"/api/draws/{draw_id}").json()
                assert d["status"] == "running", d
                if d["stage"] in ("staffing", "dates"):
                    break
                assert time.monotonic() < deadline, d
                time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        killed_at = time.monotonic()
        with app.state.read_sessions() as s:
            assert s.get(DrawRecord, draw_id).status == "running"  # as the dead server left it
            assert s.get(PlanRecord, plan["id"]).status == "drawing"

        time.sleep(max(0.0, 2.5 - (time.monotonic() - killed_at)))  # its heartbeat is now stale
        server = _serve(database_url, port, log)
        with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
            d = c.get(f"/api/draws/{draw_id}").json()
            assert d["status"] == "failed" and d["error"] == "the server stopped during the draw"
            assert count(app, VisitRecord) == 0 and count(app, SelectionRecord) == 0
            assert c.get(f"/api/plans/{plan['id']}").json()["status"] == "draft"
            r = c.post(f"/api/plans/{plan['id']}/draws", json={"seed": "after the restart"})
            assert r.status_code == 202, r.text
            deadline = time.monotonic() + 60
            while (d := c.get(f"/api/draws/{r.json()['id']}").json())["status"] == "running":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert d["status"] == "done", d
            assert count(app, VisitRecord) == d["visits"] > 0
    finally:
        _stop(server)
