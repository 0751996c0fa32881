"""Results, publication, the public search and CSV (no personal data), overdue results."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json

import pandas as pd
from sqlalchemy import select

from api.deps import today
from api.models import AuditRecordRow
from scheduler.inspection_results import due_date
from scheduler.publication import PERSONAL_COLUMNS, assert_no_personal_data, publication_frame
from scheduler.workdays import WorkCalendar
from tests.api.helpers import finished_draw, insert_finished_draw, personal_tokens, refusals  # noqa: F401


def _kinds(app):
    with app.state.read_sessions() as s:
        return [r.kind for r in s.scalars(select(AuditRecordRow).order_by(AuditRecordRow.seq))]


def test_results_and_their_publication(app, client, planner, auditor, leader, finished_draw):  # noqa: F811
    draw = finished_draw
    a, b, c = draw.visit(0), draw.visit(1), draw.visit(2)
    url = f"/api/visits/{a.pk}/result"
    kinds = _kinds(app)
    # bad category: 422 naming the allowed ones, nothing recorded
    r = client.put(url, json={"category": "很好"}, headers=planner)
    assert r.status_code == 422 and "未发现问题" in r.text
    assert client.put(url, json={}, headers=planner).status_code == 422
    assert _kinds(app) == kinds
    # roles
    n = len(refusals(app))
    assert client.put(url, json={"category": "未发现问题"}, headers=auditor).status_code == 403
    assert client.put(url, json={"category": "未发现问题"}).status_code == 401
    assert [x[0] for x in refusals(app)[n:]] == [403, 401]
    assert client.put("/api/visits/999999/result", json={"category": "未发现问题"}, headers=planner).status_code == 404
    # enter, correct, read
    r = client.put(url, json={"category": "其他", "note": "初录"}, headers=planner)
    assert r.status_code == 200 and r.json()["category"] == "其他"
    r = client.put(url, json={"category": "发现问题已责令改正", "note": "已整改"}, headers=planner)
    assert r.status_code == 200 and r.json()["published_on"] is None
    r = client.put(f"/api/visits/{b.pk}/result", json={"category": "通过登记的住所无法联系"}, headers=planner)
    assert r.json()["category"] == "通过登记的住所（经营场所）无法联系"  # the short form, normalised
    assert client.get(url, headers=auditor).json()["note"] == "已整改"
    assert client.get(f"/api/visits/{c.pk}/result", headers=auditor).status_code == 404
    assert _kinds(app)[len(kinds):] == ["result", "result", "result"]

    # nothing is public before publication
    assert client.get("/api/public/results").json()["total"] == 0
    (committed,) = client.get("/api/public/draws").json()  # the commitment and its draw: public, not published
    assert committed["status"] == "drawn" and committed["published_at"] is None
    assert client.post(f"/api/draws/{draw.draw_id}/publish", json={"confirm": True}, headers=auditor).status_code == 403
    assert client.post(f"/api/draws/{draw.draw_id}/publish", json={"confirm": True}, headers=planner).status_code == 403
    assert client.post("/api/draws/999999/publish", json={"confirm": True}, headers=leader).status_code == 404
    assert client.post(f"/api/draws/{draw.draw_id}/publish", json={"confirm": False}, headers=leader).status_code == 409

    app.dependency_overrides[today] = lambda: dt.date(2026, 4, 1)
    r = client.post(f"/api/draws/{draw.draw_id}/publish", json={"confirm": True}, headers=leader)
    assert r.status_code == 200, r.text
    pub = r.json()
    assert pub["results_published"] == sorted([a.visit_id, b.visit_id]) and pub["published_on"] == "2026-04-01"
    expected_rows = len(publication_frame(draw.result))
    assert pub["public_rows"] == expected_rows
    with app.state.read_sessions() as s:
        last = s.scalars(select(AuditRecordRow).order_by(AuditRecordRow.seq.desc())).first()
    assert last.kind == "publication" and last.hash == pub["audit_head"]
    assert client.get("/api/audit/verify", params={"head": pub["audit_head"]}, headers=auditor).json()["ok"]
    # a published result is final
    r = client.put(url, json={"category": "未发现问题"}, headers=planner)
    assert r.status_code == 409 and "2026-04-01" in r.json()["detail"]
    # a later result is published by a later publication; rows are not duplicated
    client.put(f"/api/visits/{c.pk}/result", json={"category": "未发现问题"}, headers=planner)
    app.dependency_overrides[today] = lambda: dt.date(2026, 4, 2)
    r = client.post(f"/api/draws/{draw.draw_id}/publish", json={"confirm": True}, headers=leader)
    assert r.json()["results_published"] == [c.visit_id] and r.json()["public_rows"] == expected_rows
    assert r.json()["published_at"] == pub["published_at"]

    # the public search
    page = client.get("/api/public/results", params={"limit": 1000}).json()
    assert page["total"] == expected_rows and len(page["items"]) == expected_rows
    by_visit = {x["visit_id"]: x for x in page["items"]}
    assert by_visit[a.visit_id]["result"] == "发现问题已责令改正" and by_visit[a.visit_id]["published_on"] == "2026-04-01"
    assert by_visit[c.visit_id]["published_on"] == "2026-04-02"
    pending = next(x for x in page["items"] if x["visit_id"] not in (a.visit_id, b.visit_id, c.visit_id))
    assert pending["result"] == "待检查" and pending["published_on"] is None
    assert {x["drawn_as"] for x in page["items"]} <= {"随机抽取", "重点领域"}
    row = by_visit[a.visit_id]
    assert client.get("/api/public/results", params={"credit_code": a.credit_code}).json()["total"] >= 1
    assert all(x["credit_code"] == a.credit_code for x in client.get("/api/public/results", params={"credit_code": a.credit_code}).json()["items"])
    got = client.get("/api/public/results", params={"task_id": row["task_id"], "limit": 1000}).json()
    assert got["total"] == sum(1 for x in page["items"] if x["task_id"] == row["task_id"])
    assert client.get("/api/public/results", params={"region": row["region_code"][:4]}).json()["total"] >= 1
    assert client.get("/api/public/results", params={"q": row["enterprise"][2:6]}).json()["total"] >= 1
    assert client.get("/api/public/results", params={"q": "%"}).json()["total"] == 0
    two = client.get("/api/public/results", params={"limit": 2, "offset": 3}).json()["items"]
    assert [x["visit_id"] for x in two] == [x["visit_id"] for x in page["items"][3:5]]
    for bad in ({"limit": 0}, {"limit": 5000}, {"offset": -1}, {"region": "abc"}, {"q": "a\x00b"}, {"credit_code": "x" * 30}):
        assert client.get("/api/public/results", params=bad).status_code == 422

    # CSV: BOM, header, same rows
    r = client.get("/api/public/results.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == expected_rows and rows[0].keys() >= {"task_id", "agency", "enterprise", "credit_code", "items", "date", "drawn_as", "result"}

    # no personal data anywhere: legal representatives' and relatives' ids, inspectors' ids,
    # names and certificate numbers, notice codes
    long_tokens, short_tokens = personal_tokens(draw.registry)
    long_tokens |= {v.notice_code for v in draw.visits.values()}
    body = json.dumps(page, ensure_ascii=False) + json.dumps(client.get("/api/public/draws").json(), ensure_ascii=False)
    for blob in (body, text):
        assert not [t for t in long_tokens if t in blob]
    values = {str(v) for x in page["items"] for v in x.values()} | {v for x in rows for v in x.values()}
    parts = {p for v in values for p in v.split(";")}
    assert not (short_tokens & (values | parts))
    assert not (set(rows[0]) | set(page["items"][0])) & PERSONAL_COLUMNS
    assert_no_personal_data(pd.DataFrame(rows), draw.registry, registered_names=("enterprise",))
    assert "address" not in body and "legal_rep" not in body

    # the public draws: seed and thresholds let anyone check every random row's ticket
    (pd_,) = [d for d in client.get("/api/public/draws").json() if d["published_at"]]
    assert pd_["seed"] == draw.seed and pd_["visits"] == len(draw.visits) and pd_["strata"]
    limits = {}
    for s in pd_["strata"]:
        if s["stratum"] != "key_area" and s["threshold"]:
            limits.setdefault(s["task_id"], []).append(s["threshold"])
    for x in page["items"]:
        if x["drawn_as"] == "随机抽取":
            ticket = hashlib.sha256(f"{pd_['seed']}|{x['task_id']}|{x['credit_code']}".encode()).hexdigest()
            assert ticket <= max(limits[x["task_id"]])

    # a draw that is not published stays out of the public's sight
    insert_finished_draw(app, plan_id=draw.plan_id)
    assert client.get("/api/public/results").json()["total"] == expected_rows
    assert [d["published_at"] is not None for d in client.get("/api/public/draws").json()] == [False, True]
    app.dependency_overrides.clear()


def test_overdue(app, client, planner, auditor, leader, finished_draw):  # noqa: F811
    draw = finished_draw
    a, b = draw.visit(0), draw.visit(1)
    client.put(f"/api/visits/{a.pk}/result", json={"category": "未发现问题"}, headers=planner)
    client.put(f"/api/visits/{b.pk}/result", json={"category": "未发现问题"}, headers=planner)
    # published on time (before either is due)
    app.dependency_overrides[today] = lambda: min(a.date, b.date)
    client.post(f"/api/draws/{draw.draw_id}/publish", json={"confirm": True}, headers=leader)
    app.dependency_overrides.clear()
    cal = WorkCalendar()
    day = dt.date(2026, 6, 30)
    r = client.get(f"/api/draws/{draw.draw_id}/overdue", params={"today": day.isoformat()}, headers=auditor)
    assert r.status_code == 200
    got = {x["visit_id"]: x for x in r.json()}
    assert set(got) == set(draw.visits) - {a.visit_id, b.visit_id}
    some = draw.visit(5)
    assert got[some.visit_id]["state"] == "no result"
    assert got[some.visit_id]["due"] == due_date(some.date, cal).isoformat()
    dues = [x["due"] for x in r.json()]
    assert dues == sorted(dues)
    # before anything is due: nothing overdue
    first = min(v.date for v in draw.visits.values())
    r = client.get(f"/api/draws/{draw.draw_id}/overdue", params={"today": first.isoformat()}, headers=planner)
    assert r.json() == []
    # due date counts Chinese working days: a visit on 2026-02-13 (before the Spring Festival) is due later
    assert due_date(dt.date(2026, 2, 13), cal) > dt.date(2026, 2, 13) + dt.timedelta(days=28)
    assert client.get(f"/api/draws/{draw.draw_id}/overdue", params={"today": "yesterday"}, headers=planner).status_code == 422
    assert client.get("/api/draws/999999/overdue", headers=planner).status_code == 404
    assert client.get(f"/api/draws/{draw.draw_id}/overdue").status_code == 401


def test_published_results_in_the_national_systems_layout(app, client, planner, leader, finished_draw):  # noqa: F811
    """GET /public/draws/{id}/results_gsxt.csv|xlsx: one row per (visit, task, item) of the published
    results, with 抽查类型 and the task's name from the plan (issue 11)."""
    import openpyxl

    from scheduler.publication import GSXT_COLUMNS

    draw = finished_draw
    a = draw.visit(0)
    assert client.get(f"/api/public/draws/{draw.draw_id}/results_gsxt.csv").status_code == 404  # not published
    client.put(f"/api/visits/{a.pk}/result", json={"category": "不配合检查情节严重"}, headers=planner)
    app.dependency_overrides[today] = lambda: dt.date(2026, 4, 1)
    assert client.post(f"/api/draws/{draw.draw_id}/publish", json={"confirm": True}, headers=leader).status_code == 200
    r = client.get(f"/api/public/draws/{draw.draw_id}/results_gsxt.csv")
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert list(rows[0]) == GSXT_COLUMNS
    plan = draw.result.plan
    visit = next(v for v in draw.result.visits if v.visit_id == a.visit_id)
    items = sum(max(1, len(plan.task(t).items)) for t in visit.task_ids)
    assert len(rows) == items and {r["检查结果"] for r in rows} == {"不配合检查情节严重"}
    assert {r["抽查任务编号"] for r in rows} == set(visit.task_ids)
    assert all(r["抽查类型"] in ("定向抽查", "不定向抽查") and r["统一社会信用代码"] == visit.credit_code for r in rows)
    x = client.get(f"/api/public/draws/{draw.draw_id}/results_gsxt.xlsx")
    assert x.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(x.content)).active
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == GSXT_COLUMNS and len(cells) == len(rows) + 1
    assert client.get(f"/api/public/draws/{draw.draw_id}/results_gsxt.pdf").status_code in (404, 422)


def test_the_public_sees_a_visits_date_only_once_it_has_passed(app, client, planner, leader, finished_draw):  # noqa: F811
    draw = finished_draw
    dates = sorted({v.date for v in draw.visits.values()})
    middle = dates[len(dates) // 2]
    app.dependency_overrides[today] = lambda: dates[0]
    assert client.post(f"/api/draws/{draw.draw_id}/publish", json={"confirm": True}, headers=leader).status_code == 200
    app.dependency_overrides[today] = lambda: middle
    items = client.get("/api/public/results", params={"limit": 1000}).json()["items"]
    shown = {x["visit_id"]: x["date"] for x in items}
    for visit_id, date in shown.items():
        visit_date = draw.visits[visit_id].date
        assert date == (visit_date.isoformat() if visit_date < middle else None), visit_id
    assert any(d is None for d in shown.values()) and any(d for d in shown.values())
    rows = list(csv.DictReader(io.StringIO(client.get("/api/public/results.csv").content.decode("utf-8-sig"))))
    assert all((r["date"] == "") == (draw.visits[r["visit_id"]].date >= middle) for r in rows)
    app.dependency_overrides.clear()


def test_today_is_chinas_date():
    from api.deps import SHANGHAI

    assert today() == dt.datetime.now(SHANGHAI).date()
