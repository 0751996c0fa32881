"""Visits of a finished draw: paginated and filtered lists without notice codes (planners and
auditors), one visit with its notice and code (planners only)."""

from __future__ import annotations

from sqlalchemy import select

from api.models import VisitRecord
from tests.api.test_registries import bearer, make_plan, upload_generated, wait_for_draw


def drawn(app, client):
    """A finished draw of the small generated registry, made through the API."""
    planner = bearer(app, "planner1", "planner")
    auditor = bearer(app, "auditor1", "auditor")
    registry_id, spec = upload_generated(client, planner)
    plan = make_plan(client, planner, registry_id, spec)
    r = client.post(f"/api/plans/{plan['id']}/draws", json={"seed": "visits-1"}, headers=planner)
    draw = wait_for_draw(client, planner, r.json()["id"])
    assert draw["status"] == "done", draw
    with app.state.read_sessions() as s:
        stored = {
            v.visit_id: v for v in s.scalars(select(VisitRecord).where(VisitRecord.draw_id == draw["id"]))
        }
    return planner, auditor, draw, plan, stored


def test_visits_of_a_draw(app, client):
    planner, auditor, draw, _plan, stored = drawn(app, client)
    url = f"/api/draws/{draw['id']}/visits"
    everything = client.get(url, params={"limit": 1000}, headers=auditor).json()
    assert everything["total"] == len(stored) == draw["visits"] and len(everything["items"]) == len(stored)
    items = everything["items"]
    assert [v["visit_id"] for v in items] == sorted(stored)
    for v in items:
        assert "notice_code" not in v and "notice_html" not in v  # the enterprise's secret stays out
        row = stored[v["visit_id"]]
        assert v["credit_code"] == row.credit_code and v["enterprise"] == row.enterprise and v["enterprise"]
        assert v["date"] == row.date.isoformat() and ";".join(v["inspector_ids"]) == row.inspector_ids
        assert [m["inspector_id"] for m in v["team"]] == v["inspector_ids"] and len(v["team"]) >= 2
        assert all(m["name"] and m["certificate_no"] for m in v["team"])
        assert v["window_start"] <= v["date"] <= v["window_end"]

    # pages cover everything once
    pages = []
    for offset in range(0, len(stored), 100):
        page = client.get(url, params={"limit": 100, "offset": offset}, headers=planner).json()
        assert page["total"] == len(stored) and page["offset"] == offset
        pages += [v["visit_id"] for v in page["items"]]
    assert pages == sorted(stored)
    assert client.get(url, params={"offset": len(stored)}, headers=planner).json()["items"] == []

    # filters: by day, by inspector (whole ids only), by enterprise
    day = items[0]["date"]
    got = client.get(url, params={"date": day, "limit": 1000}, headers=planner).json()
    assert got["total"] == sum(v["date"] == day for v in items) and all(
        v["date"] == day for v in got["items"]
    )
    inspector = items[0]["inspector_ids"][-1]
    got = client.get(url, params={"inspector_id": inspector, "limit": 1000}, headers=planner).json()
    assert {v["visit_id"] for v in got["items"]} == {
        v["visit_id"] for v in items if inspector in v["inspector_ids"]
    }
    assert client.get(url, params={"inspector_id": inspector[:-1]}, headers=planner).json()["total"] == sum(
        inspector[:-1] in v["inspector_ids"] for v in items
    )
    assert client.get(url, params={"inspector_id": "%"}, headers=planner).json()["total"] == 0
    code = items[3]["credit_code"]
    got = client.get(url, params={"credit_code": code}, headers=planner).json()
    assert [v["credit_code"] for v in got["items"]] == [code]
    both = client.get(url, params={"credit_code": code, "date": "2020-01-01"}, headers=planner).json()
    assert both["total"] == 0

    # bad parameters are 422, unknown draws 404
    for params in (
        {"limit": 0},
        {"limit": 1001},
        {"offset": -1},
        {"date": "tomorrow"},
        {"credit_code": "x" * 19},
        {"inspector_id": "a\x00"},
    ):
        assert client.get(url, params=params, headers=planner).status_code == 422, params
    assert client.get("/api/draws/999/visits", headers=planner).status_code == 404
    assert client.get(url).status_code == 401

    # one visit, with its notice and its code: planners only
    visit_id = sorted(stored)[0]
    url = f"/api/draws/{draw['id']}/visits/{visit_id}"
    r = client.get(url, headers=planner)
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["notice_code"] == stored[visit_id].notice_code and len(v["notice_code"]) == 10
    html = v["notice_html"]
    assert html.startswith("<!DOCTYPE html>") and "检查通知书" in html
    assert f"查询码：<strong>{v['notice_code']}</strong>" in html  # printed on the notice
    assert v["enterprise"] in html and all(m["name"] in html for m in v["team"])
    # the code is the enterprise's: auditors do not get it
    assert client.get(url, headers=auditor).status_code == 403
    assert client.get(f"/api/draws/{draw['id']}/visits/NOPE", headers=planner).status_code == 404
    assert client.get(f"/api/draws/{draw['id']}/visits/{'x' * 33}", headers=planner).status_code == 422
