"""Plans: created and edited as drafts (checked like a plan file and against the registry),
optimistic concurrency on ``version``, frozen once drawn."""

from __future__ import annotations

import copy
import threading

import pytest
from fastapi.testclient import TestClient

from tests.api.test_registries import audit_records, bearer, make_plan, upload_generated, wait_for_draw


@pytest.fixture
def as_planner(app, client) -> dict:
    return bearer(app, "planner1", "planner")


@pytest.fixture
def as_auditor(app, client) -> dict:
    return bearer(app, "auditor1", "auditor")


def test_create_read_edit(app, client, as_planner, as_auditor):
    registry_id, spec = upload_generated(client, as_planner)
    plan = make_plan(client, as_planner, registry_id, spec)
    assert plan["status"] == "draft" and plan["version"] == 1 and plan["spec"] == spec
    assert plan["registry_id"] == registry_id and plan["current_draw_id"] is None
    for who in (as_planner, as_auditor):
        assert client.get(f"/api/plans/{plan['id']}", headers=who).json() == plan
        assert client.get("/api/plans", headers=who).json() == [plan]

    edited = copy.deepcopy(spec)
    edited["policy"]["daily_cap"] = 3
    r = client.put(
        f"/api/plans/{plan['id']}", json={"version": 1, "spec": edited, "name": "edited"}, headers=as_planner
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["version"] == 2
        and r.json()["spec"]["policy"]["daily_cap"] == 3
        and r.json()["name"] == "edited"
    )
    # an edit from the old version is refused: someone changed it meanwhile
    r = client.put(f"/api/plans/{plan['id']}", json={"version": 1, "name": "stale"}, headers=as_planner)
    assert r.status_code == 409
    assert "changed meanwhile (it is at version 2, you sent 1)" in r.json()["detail"]
    assert client.get(f"/api/plans/{plan['id']}", headers=as_planner).json()["name"] == "edited"
    # every version is in the record
    saved = [a for a in audit_records(app, "note") if a["event"] == "plan saved"]
    assert [(a["plan_id"], a["version"]) for a in saved] == [(plan["id"], 1), (plan["id"], 2)]

    # auditors read, never write
    assert (
        client.post(
            "/api/plans", json={"registry_id": registry_id, "name": "x", "spec": spec}, headers=as_auditor
        ).status_code
        == 403
    )
    assert client.put(f"/api/plans/{plan['id']}", json={"version": 2}, headers=as_auditor).status_code == 403


def test_bad_plans_name_every_problem(client, as_planner):
    registry_id, spec = upload_generated(client, as_planner)
    bad = copy.deepcopy(spec)
    bad["quarter"] = "2026Q5"
    bad["tasks"][0]["agency_id"] = "NOPE"
    bad["tasks"][1]["ratio"]["A"] = 1.5
    bad["tasks"][1]["items"] = ["I-999"]
    bad["policy"]["colour"] = "blue"
    r = client.post(
        "/api/plans", json={"registry_id": registry_id, "name": "bad", "spec": bad}, headers=as_planner
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == "bad input"
    columns = {p["column"] for p in r.json()["problems"]}
    assert "quarter" in columns
    assert "policy.colour" in columns or any("colour" in p["message"] for p in r.json()["problems"])
    assert any(c and c.endswith("ratio.A") for c in columns)
    # the registry checks run once the file itself is sound
    bad = copy.deepcopy(spec)
    bad["tasks"][0]["agency_id"] = "NOPE"
    bad["tasks"][1]["items"] = ["I-999"]
    r = client.post(
        "/api/plans", json={"registry_id": registry_id, "name": "bad", "spec": bad}, headers=as_planner
    )
    assert r.status_code == 422
    texts = [p["text"] for p in r.json()["problems"]]
    task0, task1 = spec["tasks"][0]["task_id"], spec["tasks"][1]["task_id"]
    assert f"plan.json，列 tasks[0] ({task0}).agency_id：未知的机构 'NOPE'" in texts
    assert f"plan.json，列 tasks[1] ({task1}).items：未知的检查事项 'I-999'" in texts
    # an edit is checked the same way
    plan = make_plan(client, as_planner, registry_id, spec)
    r = client.put(f"/api/plans/{plan['id']}", json={"version": 1, "spec": bad}, headers=as_planner)
    assert r.status_code == 422 and "未知的机构 'NOPE'" in r.text
    # shapes that are no plan at all, values no database can hold
    for junk in ({}, {"tasks": 5}, {"quarter": "2026Q1", "tasks": [1, "x", None]}, {"quarter": "a\x00"}):
        r = client.post(
            "/api/plans", json={"registry_id": registry_id, "name": "j", "spec": junk}, headers=as_planner
        )
        assert r.status_code == 422, (junk, r.text)
    r = client.post(
        "/api/plans",
        content=b'{"registry_id": 1, "name": "n", "spec": {"quarter": NaN}}',
        headers={**as_planner, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    # unknown registry, unknown plan, ids out of range
    r = client.post("/api/plans", json={"registry_id": 99, "name": "x", "spec": spec}, headers=as_planner)
    assert r.status_code == 404 and r.json()["detail"] == "registry 99 not found"
    assert client.get("/api/plans/99", headers=as_planner).status_code == 404
    assert client.put("/api/plans/99", json={"version": 1}, headers=as_planner).status_code == 404
    r = client.post("/api/plans", json={"registry_id": 2**40, "name": "x", "spec": spec}, headers=as_planner)
    assert r.status_code == 422
    assert client.get(f"/api/plans/{2**40}", headers=as_planner).status_code == 422


def test_concurrent_edits_one_wins(app, client, as_planner):
    """Two edits from the same version at the same moment: one 200, one 409."""
    registry_id, spec = upload_generated(client, as_planner)
    for attempt in range(3):
        plan = make_plan(client, as_planner, registry_id, spec, name=f"p{attempt}")
        barrier = threading.Barrier(2)
        codes: list[int] = []

        def edit(name: str, plan_id: int, barrier: threading.Barrier, codes: list) -> None:
            c = TestClient(app)
            barrier.wait()
            r = c.put(f"/api/plans/{plan_id}", json={"version": 1, "name": name}, headers=as_planner)
            codes.append(r.status_code)

        threads = [threading.Thread(target=edit, args=(n, plan["id"], barrier, codes)) for n in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [200, 409]
        assert client.get(f"/api/plans/{plan['id']}", headers=as_planner).json()["version"] == 2


def test_a_drawn_plan_is_frozen(client, as_planner):
    registry_id, spec = upload_generated(client, as_planner)
    plan = make_plan(client, as_planner, registry_id, spec)
    r = client.post(f"/api/plans/{plan['id']}/draws", json={"seed": "frozen-1"}, headers=as_planner)
    assert r.status_code == 202, r.text
    draw_id = r.json()["id"]
    # while it is drawn, and afterwards, the plan cannot change
    r = client.put(f"/api/plans/{plan['id']}", json={"version": 2, "name": "x"}, headers=as_planner)
    assert r.status_code == 409
    assert r.json()["detail"] in (
        "a draw of this plan is running; the plan cannot change",
        "the plan is frozen after its draw",
    )
    assert wait_for_draw(client, as_planner, draw_id)["status"] == "done"
    now = client.get(f"/api/plans/{plan['id']}", headers=as_planner).json()
    assert now["status"] == "drawn" and now["current_draw_id"] == draw_id
    r = client.put(
        f"/api/plans/{plan['id']}", json={"version": now["version"], "name": "x"}, headers=as_planner
    )
    assert r.status_code == 409 and r.json()["detail"] == "the plan is frozen after its draw"
