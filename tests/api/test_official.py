"""Official draws only through a public commitment, exactly as on the command line; test draws
are never published and never found by the enterprise look-up; a re-draw needs a reason, a
leader other than the requester and a new commitment; every official draw stays public; a
rewound audit head is caught against a published one."""

from __future__ import annotations

import csv
import json

from sqlalchemy import delete, select, update

from api.models import AuditHead, AuditRecordRow, DrawRecord, RedrawRecord, VisitRecord
from api.store import materialise_registry, write_plan
from randinspect import cli
from scheduler.seed import derive_seed
from tests.api.conftest import login, make_user
from tests.api.test_registries import make_plan, upload_generated, wait_for_draw

SOURCE = "福彩双色球 2026012期"
BEACON = "3 11 17 22 28 31; 9"
LOOKUP = "/api/notices/lookup"


def _setup(app, client):
    make_user(app, "planner1", "planner")
    make_user(app, "planner2", "planner")
    make_user(app, "leader1", "leader")
    make_user(app, "auditor1", "auditor")
    planner, leader = login(client, "planner1"), login(client, "leader1")
    registry_id, spec = upload_generated(client, planner)
    plan = make_plan(client, planner, registry_id, spec)
    return planner, leader, registry_id, plan


def _draw(client, headers, plan_id, body) -> dict:
    r = client.post(f"/api/plans/{plan_id}/draws", json=body, headers=headers)
    assert r.status_code == 202, r.text
    done = wait_for_draw(client, headers, r.json()["id"], timeout=180)
    assert done["status"] == "done", done
    return done


def test_the_official_flow_gives_the_cli_visits(app, client, tmp_path):
    planner, leader, registry_id, plan = _setup(app, client)
    pid = plan["id"]
    # nothing official before a leader approves and a commitment is public
    r = client.post(f"/api/plans/{pid}/commitment", json={"source": SOURCE}, headers=planner)
    assert r.status_code == 409 and "approval" in r.json()["detail"]
    r = client.post(f"/api/plans/{pid}/draws", json={"beacon": BEACON}, headers=planner)
    assert r.status_code == 409 and "approved by a leader" in r.json()["detail"]
    assert client.post(f"/api/plans/{pid}/approve", headers=planner).status_code == 403
    r = client.post(f"/api/plans/{pid}/approve", headers=leader)
    assert r.status_code == 200 and r.json()["approved_by"] == "leader1" and r.json()["stage"] == "approved"
    assert client.post(f"/api/plans/{pid}/approve", headers=leader).status_code == 409
    # approved: frozen
    r = client.put(f"/api/plans/{pid}", json={"version": r.json()["version"], "name": "改名"}, headers=planner)
    assert r.status_code == 409 and "approved" in r.json()["detail"]
    r = client.post(f"/api/plans/{pid}/draws", json={"beacon": BEACON}, headers=planner)
    assert r.status_code == 409 and "no open commitment" in r.json()["detail"]

    # the commitment: public at once, before the numbers exist
    r = client.post(f"/api/plans/{pid}/commitment", json={"source": SOURCE}, headers=planner)
    assert r.status_code == 201, r.text
    commitment = r.json()
    assert len(commitment["commitment"]) == 64 and commitment["source"] == SOURCE
    (public,) = client.get("/api/public/draws").json()
    assert public["status"] == "awaiting_numbers" and public["commitment_hash"] == commitment["commitment"]
    assert public["source"] == SOURCE and public["draw_id"] is None and public["seed"] is None
    assert public["commitment_head"] == commitment["audit_head"]
    with app.state.read_sessions() as s:
        last = s.scalars(select(AuditRecordRow).order_by(AuditRecordRow.seq.desc())).first()
        assert last.kind == "commit" and last.hash == commitment["audit_head"]
    assert client.get(f"/api/plans/{pid}", headers=planner).json()["stage"] == "committed"
    assert client.post(f"/api/plans/{pid}/commitment", json={"source": "另一期"}, headers=planner).status_code == 409
    r = client.post(f"/api/plans/{pid}/draws", json={"beacon": "3 x 17"}, headers=planner)
    assert r.status_code == 422 and "beacon" in r.json()["detail"]

    # the official draw with the public numbers
    done = _draw(client, planner, pid, {"beacon": BEACON})
    assert done["seed_kind"] == "public" and done["kind_label"] == "正式抽取"
    assert done["seed"] == derive_seed(commitment["commitment"], BEACON)[0]
    (public,) = client.get("/api/public/draws").json()
    assert public["status"] == "drawn" and public["draw_id"] == done["id"] and public["beacon"] == BEACON
    assert public["seed"] == done["seed"] and public["draw_head"] == done["draw_head"] and public["strata"]
    # once drawn, the same commitment is never drawn again with other numbers
    assert client.post(f"/api/plans/{pid}/draws", json={"beacon": "1 2 3"}, headers=planner).status_code == 409

    # the command line on the same registry, plan file and numbers gives the same visits
    reg_dir, plan_file = tmp_path / "registry", tmp_path / "plan.json"
    with app.state.read_sessions() as s:
        materialise_registry(s, registry_id, reg_dir)
        spec = client.get(f"/api/plans/{pid}", headers=planner).json()["spec"]
        write_plan(spec, plan_file)
        stored = {
            v.visit_id: v for v in s.scalars(select(VisitRecord).where(VisitRecord.draw_id == done["id"]))
        }
        manifest = s.get(DrawRecord, done["id"]).manifest
    out = tmp_path / "cli"
    assert cli.main(["commit", str(reg_dir), str(plan_file), "--source", SOURCE, "--out", str(out)]) == 0
    doc = json.loads((out / "commitment.json").read_text(encoding="utf-8"))
    assert doc["commitment"] == commitment["commitment"] and doc == commitment["document"]
    assert cli.main(
        ["plan", str(reg_dir), str(plan_file), "--commitment", str(out / "commitment.json"), "--beacon", BEACON, "--out", str(out)]
    ) == 0
    rows = list(csv.DictReader(open(out / "visits.csv", encoding="utf-8-sig")))
    assert len(rows) == len(stored) > 0
    for row in rows:
        v = stored[row["visit_id"]]
        assert (row["credit_code"], row["date"], row["inspector_ids"]) == (v.credit_code, v.date.isoformat(), v.inspector_ids)
    cli_manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert cli_manifest["seed"] == manifest["seed"] and cli_manifest["seed_kind"] == manifest["seed_kind"] == "public"
    assert cli_manifest["outputs"]["visits.csv"] == manifest["outputs"]["visits.csv"]


def test_test_draws_are_never_published_nor_found(app, client):
    planner, leader, _registry_id, plan = _setup(app, client)
    done = _draw(client, planner, plan["id"], {"seed": "any seed I like"})
    assert done["seed_kind"] == "test" and done["kind_label"] == "测试抽取"
    r = client.post(f"/api/draws/{done['id']}/publish", json={"confirm": True}, headers=leader)
    assert r.status_code == 409 and "测试抽取" in r.json()["detail"] and "never published" in r.json()["detail"]
    assert client.get("/api/public/draws").json() == [] and client.get("/api/public/results").json()["total"] == 0
    with app.state.read_sessions() as s:
        v = s.scalars(select(VisitRecord).where(VisitRecord.draw_id == done["id"])).first()
    assert "测试抽取" in v.notice_html
    r = client.post(LOOKUP, json={"credit_code": v.credit_code, "notice_code": v.notice_code})
    assert r.status_code == 403
    visits = client.get(f"/api/draws/{done['id']}/visits", headers=planner).json()
    assert visits["kind_label"] == "测试抽取"
    r = client.get(f"/api/draws/{done['id']}/export.xlsx", headers=planner)
    assert r.status_code == 200 and "TEST-draw" in r.headers["content-disposition"]
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(r.content)).worksheets[0]
    assert sheet.cell(1, 9).value == "抽取性质" and sheet.cell(2, 9).value == "测试抽取"  # after 检查地址


def test_a_redraw_needs_another_approver_and_a_new_commitment(app, client):
    planner, leader, _registry_id, plan = _setup(app, client)
    pid = plan["id"]
    client.post(f"/api/plans/{pid}/approve", headers=leader)
    first_c = client.post(f"/api/plans/{pid}/commitment", json={"source": SOURCE}, headers=planner).json()
    first = _draw(client, planner, pid, {"beacon": BEACON})
    with app.state.read_sessions() as s:
        v = s.scalars(select(VisitRecord).where(VisitRecord.draw_id == first["id"]).order_by(VisitRecord.id)).first()
    notice = client.post(LOOKUP, json={"credit_code": v.credit_code, "notice_code": v.notice_code}).json()
    assert notice["void"] is False

    # a planner alone cannot replace it: no commitment, no draw, a test draw changes nothing public
    r = client.post(f"/api/plans/{pid}/commitment", json={"source": "2026013期"}, headers=planner)
    assert r.status_code == 409 and "re-draw request" in r.json()["detail"]
    assert client.post(f"/api/plans/{pid}/draws", json={"beacon": "1 2 3 4 5 6; 7"}, headers=planner).status_code == 409
    assert client.post(f"/api/plans/{pid}/redraws", json={"reason": " "}, headers=planner).status_code == 422
    r = client.post(f"/api/plans/{pid}/redraws", json={"reason": "名录未更新"}, headers=planner)
    assert r.status_code == 201 and r.json()["status"] == "pending"
    redraw = r.json()
    assert client.post(f"/api/plans/{pid}/redraws", json={"reason": "again"}, headers=planner).status_code == 409
    r = client.post(f"/api/plans/{pid}/commitment", json={"source": "2026013期"}, headers=planner)
    assert r.status_code == 409  # still pending
    assert client.post(f"/api/redraws/{redraw['id']}/decision", json={"approve": True}, headers=planner).status_code == 403
    # the requester can never approve its own request (a leader's request is refused too)
    with app.state.write_sessions() as s:
        s.execute(update(RedrawRecord).where(RedrawRecord.id == redraw["id"]).values(requested_by="leader1"))
        s.commit()
    r = client.post(f"/api/redraws/{redraw['id']}/decision", json={"approve": True}, headers=leader)
    assert r.status_code == 409 and "another account" in r.json()["detail"]
    with app.state.write_sessions() as s:
        s.execute(update(RedrawRecord).where(RedrawRecord.id == redraw["id"]).values(requested_by="planner1"))
        s.commit()
    r = client.post(f"/api/redraws/{redraw['id']}/decision", json={"approve": True, "note": "同意"}, headers=leader)
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["decided_by"] == "leader1"
    assert client.post(f"/api/redraws/{redraw['id']}/decision", json={"approve": True}, headers=leader).status_code == 409

    r = client.post(f"/api/plans/{pid}/commitment", json={"source": SOURCE}, headers=planner)
    assert r.status_code == 409 and "already named the source" in r.json()["detail"]  # its numbers are known
    second_c = client.post(f"/api/plans/{pid}/commitment", json={"source": "2026013期"}, headers=planner)
    assert second_c.status_code == 201 and second_c.json()["redraw_id"] == redraw["id"]
    assert second_c.json()["commitment"] != first_c["commitment"]
    r = client.post(f"/api/plans/{pid}/draws", json={"beacon": "31 28 22 17 11 3; 9"}, headers=planner)
    assert r.status_code == 409 and "new public numbers" in r.json()["detail"]  # the same set, reordered
    second = _draw(client, planner, pid, {"beacon": "1 5 9 12 20 33; 4"})
    assert second["reason"] == "名录未更新"
    old = client.get(f"/api/draws/{first['id']}", headers=planner).json()
    assert old["superseded_by"] == second["id"]
    # both official draws stay public; the replaced one with the reason and the approver
    public = {d["draw_id"]: d for d in client.get("/api/public/draws").json()}
    assert public[first["id"]]["status"] == "superseded" and public[first["id"]]["superseded_by"] == second["id"]
    assert public[second["id"]]["redraw_reason"] == "名录未更新"
    assert public[second["id"]]["redraw_approved_by"] == "leader1" and public[second["id"]]["replaces_draw_id"] == first["id"]
    # the old notice still opens, unchanged but void; the replaced draw is never published
    again = client.post(LOOKUP, json={"credit_code": v.credit_code, "notice_code": v.notice_code}).json()
    assert again["void"] is True and again["status"] == "已作废" and again["date"] == notice["date"]
    r = client.post(f"/api/draws/{first['id']}/publish", json={"confirm": True}, headers=leader)
    assert r.status_code == 409 and "已作废" in r.json()["detail"]
    # publication: a leader, confirmed; exactly one published draw per plan
    assert client.post(f"/api/draws/{second['id']}/publish", json={"confirm": True}, headers=planner).status_code == 403
    pub = client.post(f"/api/draws/{second['id']}/publish", json={"confirm": True}, headers=leader)
    assert pub.status_code == 200, pub.text
    assert client.get(f"/api/plans/{pid}", headers=planner).json()["published_draw_id"] == second["id"]
    r = client.post(f"/api/plans/{pid}/redraws", json={"reason": "after publication"}, headers=planner)
    assert r.status_code == 409 and "published" in r.json()["detail"]
    public = {d["draw_id"]: d for d in client.get("/api/public/draws").json()}
    assert public[second["id"]]["status"] == "published"
    assert public[second["id"]]["publication_head"] == pub.json()["audit_head"]


def test_a_rewound_head_is_caught_against_the_published_one(app, client):
    planner, leader, _registry_id, plan = _setup(app, client)
    auditor = login(client, "auditor1")
    pid = plan["id"]
    client.post(f"/api/plans/{pid}/approve", headers=leader)
    client.post(f"/api/plans/{pid}/commitment", json={"source": SOURCE}, headers=planner)
    done = _draw(client, planner, pid, {"beacon": BEACON})
    published = client.post(f"/api/draws/{done['id']}/publish", json={"confirm": True}, headers=leader).json()["audit_head"]
    (entry,) = client.get("/api/public/draws").json()
    assert entry["publication_head"] == published
    ok = client.get("/api/audit/verify", params={"head": entry["commitment_head"]}, headers=auditor).json()
    assert ok["ok"] and "added after it" in ok["message"]
    # someone drops the newest record and rewinds the stored head to match
    with app.state.write_sessions() as s:
        last = s.scalars(select(AuditRecordRow).order_by(AuditRecordRow.seq.desc())).first()
        s.execute(delete(AuditRecordRow).where(AuditRecordRow.seq == last.seq))
        s.execute(update(AuditHead).values(count=last.seq, hash=last.prev))
        s.commit()
    assert client.get("/api/audit/verify", headers=auditor).json()["ok"]  # alone, it looks whole
    caught = client.get("/api/audit/verify", params={"head": published}, headers=auditor).json()
    assert not caught["ok"] and "removed" in caught["message"]


def test_one_published_draw_per_plan_even_when_asked_twice(app, client):
    """Two leaders publishing two official draws of one plan: only the first is published."""
    from tests.api.helpers import insert_finished_draw

    make_user(app, "leader1", "leader")
    leader = login(client, "leader1")
    a = insert_finished_draw(app)
    b = insert_finished_draw(app, plan_id=a.plan_id)
    assert client.post(f"/api/draws/{a.draw_id}/publish", json={"confirm": True}, headers=leader).status_code == 200
    r = client.post(f"/api/draws/{b.draw_id}/publish", json={"confirm": True}, headers=leader)
    assert r.status_code == 409 and f"draw {a.draw_id} is this plan's published draw" in r.json()["detail"]
    assert client.post(f"/api/draws/{a.draw_id}/publish", json={"confirm": True}, headers=leader).status_code == 200
