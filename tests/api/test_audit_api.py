"""The audit record over HTTP: read it, verify it, and find the first tampered record."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.helpers import finished_draw, refusals  # noqa: F401


def test_audit_read_and_verify(app, client, planner, auditor, finished_draw):  # noqa: F811
    v = finished_draw.visit(0)
    for k, cat in enumerate(("未发现问题", "其他", "不配合检查")):
        r = client.put(f"/api/visits/{finished_draw.visit(k).pk}/result", json={"category": cat}, headers=planner)
        assert r.status_code == 200
    recs = client.get("/api/audit", headers=auditor).json()
    assert [r["kind"] for r in recs] == ["draw", "result", "result", "result"]
    assert [r["seq"] for r in recs] == [0, 1, 2, 3]
    assert recs[1]["data"]["visit_id"] == v.visit_id and recs[1]["actor"] == "planner1"
    assert all(recs[k]["prev"] == recs[k - 1]["hash"] for k in range(1, 4))
    assert [r["seq"] for r in client.get("/api/audit", params={"start": 2, "limit": 1}, headers=planner).json()] == [2]

    ok = client.get("/api/audit/verify", headers=auditor).json()
    assert ok["ok"] and ok["count"] == 4 and ok["head"] == recs[-1]["hash"] and ok["first_bad"] is None
    assert client.get("/api/audit/verify", params={"head": recs[-1]["hash"]}, headers=auditor).json()["ok"]
    # a head published before the last record: the chain still holds it, one record came later
    earlier = client.get("/api/audit/verify", params={"head": recs[-2]["hash"]}, headers=auditor).json()
    assert earlier["ok"] and "1 records were added after it" in earlier["message"]
    # a head that no record has: records were cut from the end
    gone = client.get("/api/audit/verify", params={"head": "ab" * 32}, headers=auditor).json()
    assert not gone["ok"] and gone["first_bad"] == 4 and "removed" in gone["message"]
    assert client.get("/api/audit/verify", params={"head": "xyz"}, headers=auditor).status_code == 422

    n = len(refusals(app))
    assert client.get("/api/audit").status_code == 401
    assert client.get("/api/audit/verify").status_code == 401
    assert [x[:3] for x in refusals(app)[n:]] == [(401, "GET", "/api/audit"), (401, "GET", "/api/audit/verify")]

    # someone edits record 2 in the database
    with app.state.engine.begin() as c:
        c.execute(text("UPDATE audit_records SET data = :d WHERE seq = 2"), {"d": '{"category":"未发现问题","draw_id":1,"note":"","visit_id":"X"}'})
    bad = client.get("/api/audit/verify", headers=auditor).json()
    assert not bad["ok"] and bad["first_bad"] == 2 and bad["count"] == 2 and "2" in bad["message"]
    # even data that is no longer JSON is named, never a 500
    with app.state.engine.begin() as c:
        c.execute(text("UPDATE audit_records SET data = 'not json' WHERE seq = 1"))
    r = client.get("/api/audit/verify", headers=auditor)
    assert r.status_code == 200 and not r.json()["ok"] and r.json()["first_bad"] == 1
    assert client.get("/api/audit", headers=auditor).json()[1]["data"] == "not json"
