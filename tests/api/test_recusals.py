"""Recusal (回避) end to end: request, list, decide; one member changes, the notice follows, the
record is audited; decided requests are final."""

from __future__ import annotations

from sqlalchemy import select

from api.models import AuditRecordRow, RecusalRecord, VisitRecord
from scheduler.errors import InfeasibleError
from scheduler.recusal import RecusalRequest, replace_inspector
from scheduler.staffing import build_roster
from tests.api.helpers import finished_draw, refusals  # noqa: F401


def _visit(app, pk):
    with app.state.read_sessions() as s:
        return s.get(VisitRecord, pk)


def _audit(app, kind):
    with app.state.read_sessions() as s:
        return s.scalars(
            select(AuditRecordRow).where(AuditRecordRow.kind == kind).order_by(AuditRecordRow.seq)
        ).all()


def test_enterprise_recusal_end_to_end(app, client, planner, auditor, finished_draw):  # noqa: F811
    draw = finished_draw
    v = draw.visit(0)
    removed = v.inspector_ids[0]
    body = {
        "credit_code": v.credit_code,
        "notice_code": v.notice_code,
        "inspector_id": removed,
        "reason": "系法定代表人近亲属",
    }
    r = client.post("/api/recusals", json=body)
    assert r.status_code == 201, r.text
    req = r.json()
    assert (
        req["status"] == "pending" and req["requested_by"] == "enterprise" and req["visit_id"] == v.visit_id
    )
    # the same request again while pending: 409
    assert client.post("/api/recusals", json=body).status_code == 409
    # planners and auditors see it; the public does not
    for who in (planner, auditor):
        r = client.get(f"/api/draws/{draw.draw_id}/recusals", headers=who)
        assert r.status_code == 200 and [x["id"] for x in r.json()] == [req["id"]]
    n = len(refusals(app))
    assert client.get(f"/api/draws/{draw.draw_id}/recusals").status_code == 401
    # an auditor may not decide
    r = client.post(f"/api/recusals/{req['id']}/decision", json={"approve": True}, headers=auditor)
    assert r.status_code == 403
    assert [x[:2] for x in refusals(app)[n:]] == [(401, "GET"), (403, "POST")]
    assert (
        client.get(f"/api/draws/{draw.draw_id}/recusals?status=pending", headers=planner).json()[0]["status"]
        == "pending"
    )

    html_before = _visit(app, v.pk).notice_html
    r = client.post(
        f"/api/recusals/{req['id']}/decision", json={"approve": True, "note": "属实"}, headers=planner
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "approved" and done["seq"] == 1 and done["decided_by"] == "planner1"
    new = _visit(app, v.pk)
    team = tuple(new.inspector_ids.split(";"))
    changed = [k for k, (a, b) in enumerate(zip(v.inspector_ids, team, strict=True)) if a != b]
    assert changed == [0] and team[0] == done["replacement"] and removed not in team
    # the replacement is the one the domain code draws (seq 1, nothing recused before)
    result = draw.result
    expected, outcome = replace_inspector(
        result,
        build_roster(result.plan, result.registry, result.workdays),
        RecusalRequest(v.visit_id, removed, "enterprise", "系法定代表人近亲属"),
        1,
        set(),
    )
    assert outcome.replacement == done["replacement"] and new.date == outcome.date_after
    # the notice is re-rendered: the replacement's name and certificate, not the removed one's
    reg = draw.registry
    assert new.notice_html != html_before
    assert reg.inspectors[done["replacement"]].certificate_no in new.notice_html
    assert reg.inspectors[removed].certificate_no not in new.notice_html
    lookup = client.post(
        "/api/notices/lookup", json={"credit_code": v.credit_code, "notice_code": v.notice_code}
    ).json()
    assert [m["inspector_id"] for m in lookup["team"]] == list(team)
    # every other visit is untouched
    with app.state.read_sessions() as s:
        others = {x.visit_id: tuple(x.inspector_ids.split(";")) for x in s.scalars(select(VisitRecord))}
    assert all(others[k] == sv.inspector_ids for k, sv in draw.visits.items() if k != v.visit_id)
    # audited
    (rec,) = _audit(app, "recusal")
    assert (
        f'"replacement":"{done["replacement"]}"' in rec.data
        and '"seq":1' in rec.data
        and rec.actor == "planner1"
    )
    # a second decision on the same request: 409, nothing changes
    r = client.post(f"/api/recusals/{req['id']}/decision", json={"approve": False}, headers=planner)
    assert r.status_code == 409
    assert _visit(app, v.pk).inspector_ids == new.inspector_ids and len(_audit(app, "recusal")) == 1

    # a second approved recusal in the draw gets seq 2
    w = draw.visit(1)
    r = client.post(
        f"/api/draws/{draw.draw_id}/recusals",
        json={
            "visit_id": w.visit_id,
            "inspector_id": w.inspector_ids[1],
            "requested_by": "inspector",
            "reason": "曾在该企业任职",
        },
        headers=planner,
    )
    assert r.status_code == 201 and r.json()["requested_by"] == "inspector"
    r = client.post(f"/api/recusals/{r.json()['id']}/decision", json={"approve": True}, headers=planner)
    assert r.status_code == 200 and r.json()["seq"] == 2


def test_rejection_and_bad_requests(app, client, planner, finished_draw):  # noqa: F811
    draw = finished_draw
    v = draw.visit(2)
    r = client.post(
        f"/api/draws/{draw.draw_id}/recusals",
        json={"visit_id": v.visit_id, "inspector_id": v.inspector_ids[0], "reason": "本人申请"},
        headers=planner,
    )
    assert r.status_code == 201 and r.json()["requested_by"] == "bureau"
    rid = r.json()["id"]
    r = client.post(
        f"/api/recusals/{rid}/decision", json={"approve": False, "note": "理由不成立"}, headers=planner
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["replacement"] == ""
    assert _visit(app, v.pk).inspector_ids == ";".join(v.inspector_ids)
    assert '"decision":"rejected"' in _audit(app, "recusal")[0].data
    assert (
        client.post(f"/api/recusals/{rid}/decision", json={"approve": True}, headers=planner).status_code
        == 409
    )

    other = next(i for i in draw.registry.inspectors if i not in v.inspector_ids)
    base = {"credit_code": v.credit_code, "notice_code": v.notice_code, "reason": "x"}
    assert (
        client.post("/api/recusals", json={**base, "inspector_id": other}).status_code == 422
    )  # not on the team
    assert (
        client.post(
            "/api/recusals", json={**base, "inspector_id": v.inspector_ids[0], "reason": "  "}
        ).status_code
        == 422
    )
    n = len(refusals(app))
    r = client.post(
        "/api/recusals", json={**base, "inspector_id": v.inspector_ids[0], "notice_code": "ZZZZZZZZZZ"}
    )
    assert r.status_code == 403 and len(refusals(app)) == n + 1
    assert (
        client.post(
            f"/api/draws/{draw.draw_id + 99}/recusals",
            json={"visit_id": v.visit_id, "inspector_id": "x", "reason": "x"},
            headers=planner,
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/draws/{draw.draw_id}/recusals",
            json={"visit_id": "nope", "inspector_id": "x", "reason": "x"},
            headers=planner,
        ).status_code
        == 404
    )
    assert (
        client.post("/api/recusals/999999/decision", json={"approve": True}, headers=planner).status_code
        == 404
    )
    assert (
        client.post("/api/recusals/99999999999/decision", json={"approve": True}, headers=planner).status_code
        == 422
    )
    assert client.get("/api/draws/999999/recusals", headers=planner).status_code == 404


def test_infeasible_replacement_leaves_the_request_pending(app, client, planner, finished_draw, monkeypatch):  # noqa: F811
    v = finished_draw.visit(4)
    r = client.post(
        "/api/recusals",
        json={
            "credit_code": v.credit_code,
            "notice_code": v.notice_code,
            "inspector_id": v.inspector_ids[1],
            "reason": "利害关系",
        },
    )
    rid = r.json()["id"]

    def no_one(*args, **kwargs):
        raise InfeasibleError(
            f"visit {v.visit_id} needs an inspector; no other eligible inspector has capacity left"
        )

    monkeypatch.setattr("api.routers.recusals.replace_inspector", no_one)
    r = client.post(f"/api/recusals/{rid}/decision", json={"approve": True}, headers=planner)
    assert r.status_code == 409
    assert r.json()["detail"] == "infeasible" and "capacity left" in r.json()["reasons"][0]
    with app.state.read_sessions() as s:
        assert s.get(RecusalRecord, rid).status == "pending"
    assert _visit(app, v.pk).inspector_ids == ";".join(v.inspector_ids)
    assert _audit(app, "recusal") == []
