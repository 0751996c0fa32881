"""An enterprise reads its own notice with its credit code and notice code, and nothing else."""

from __future__ import annotations

import statistics
import time

from api.models import DrawRecord
from api.routers.notices import MISMATCH
from scheduler.notices import RIGHTS
from tests.api.helpers import finished_draw, insert_finished_draw, refusals  # noqa: F401

LOOKUP = "/api/notices/lookup"


def test_right_codes_give_the_notice(app, client, finished_draw):  # noqa: F811
    draw = finished_draw
    v = draw.visit(3)
    r = client.post(LOOKUP, json={"credit_code": v.credit_code, "notice_code": v.notice_code})
    assert r.status_code == 200, r.text
    n = r.json()
    visit = next(x for x in draw.result.visits if x.visit_id == v.visit_id)
    reg = draw.registry
    assert n["visit_id"] == v.visit_id and n["draw_id"] == draw.draw_id and n["credit_code"] == v.credit_code
    assert n["date"] == visit.date.isoformat()
    assert n["tasks"] == list(visit.task_ids)
    assert n["agencies"][0] == reg.agencies[visit.lead_agency_id].name
    expected_items = [(t, reg.items[i].name) for t in visit.task_ids for i in draw.result.plan.task(t).items]
    assert [(i["task_id"], i["item"]) for i in n["items"]] == expected_items
    assert all(i["legal_basis"] for i in n["items"])
    assert [(m["inspector_id"], m["name"], m["certificate_no"]) for m in n["team"]] == [
        (i, reg.inspectors[i].name, reg.inspectors[i].certificate_no) for i in visit.inspector_ids
    ]
    assert [(x["title"], x["text"]) for x in n["rights"]] == list(RIGHTS)
    stored = (draw.generated.out_dir / "notices" / f"{v.visit_id}.html").read_text(encoding="utf-8")
    assert n["html"] == stored and "检查通知书" in n["html"]
    assert n["enterprise"] and n["enterprise"] in n["html"]
    # codes are not case-sensitive
    r = client.post(LOOKUP, json={"credit_code": v.credit_code.lower(), "notice_code": v.notice_code.lower()})
    assert r.status_code == 200 and r.json()["visit_id"] == v.visit_id
    assert refusals(app) == []


def test_wrong_or_foreign_codes_are_refused(app, client, finished_draw):  # noqa: F811
    a, b = finished_draw.visit(0), finished_draw.visit(1)
    assert a.credit_code != b.credit_code
    wrong = "2" * 10 if a.notice_code != "2" * 10 else "3" * 10
    cases = [
        {"credit_code": a.credit_code, "notice_code": wrong},  # wrong code
        {"credit_code": a.credit_code, "notice_code": b.notice_code},  # another enterprise's code
        {"credit_code": b.credit_code, "notice_code": a.notice_code},
        {"credit_code": "91130102000000000X", "notice_code": a.notice_code},  # not drawn at all
    ]
    for body in cases:
        r = client.post(LOOKUP, json=body)
        assert r.status_code == 403, r.text
        assert r.json() == {"detail": MISMATCH}
        assert "html" not in r.text
    got = refusals(app)
    assert len(got) == len(cases)
    assert all(x == (403, "POST", LOOKUP, MISMATCH) for x in got)
    # malformed input is a validation error (422), not a refusal, and never a 500
    for body in (
        {"credit_code": a.credit_code},
        {"credit_code": "short", "notice_code": a.notice_code},
        {"credit_code": a.credit_code, "notice_code": "bad\x00code"},
        {"credit_code": a.credit_code + "\x00", "notice_code": a.notice_code},
        {"credit_code": a.credit_code, "notice_code": "x" * 33},
    ):
        assert client.post(LOOKUP, json=body).status_code == 422
    assert len(refusals(app)) == len(cases)


def test_a_notice_code_keeps_opening_its_own_notice(app, client, finished_draw):  # noqa: F811
    """The code identifies one visit of one draw: a later draw of the same plan (or any other
    draw containing the enterprise) never hides or changes it; once its draw is replaced by an
    approved re-draw the notice says 已作废; a test draw's codes are never found."""
    old = finished_draw
    v_old = old.visit(5)
    before = client.post(LOOKUP, json={"credit_code": v_old.credit_code, "notice_code": v_old.notice_code})
    assert before.status_code == 200 and before.json()["void"] is False and before.json()["status"] == "有效"
    new = insert_finished_draw(app, plan_id=old.plan_id)
    other = insert_finished_draw(app)  # another plan's draw with the same enterprises
    test = insert_finished_draw(app, official=False)  # a test draw: invisible
    v_new, v_test = new.visits[v_old.visit_id], test.visits[v_old.visit_id]
    assert v_old.credit_code == v_new.credit_code == other.visits[v_old.visit_id].credit_code
    assert v_old.notice_code != v_new.notice_code
    r = client.post(LOOKUP, json={"credit_code": v_new.credit_code, "notice_code": v_new.notice_code})
    assert r.status_code == 200 and r.json()["draw_id"] == new.draw_id
    r = client.post(LOOKUP, json={"credit_code": v_old.credit_code, "notice_code": v_old.notice_code})
    assert r.status_code == 200 and r.json() == before.json()  # unchanged by the later draws
    r = client.post(LOOKUP, json={"credit_code": v_test.credit_code, "notice_code": v_test.notice_code})
    assert r.status_code == 403 and r.json()["detail"] == MISMATCH
    # the old draw is replaced: its notice is still shown, marked void
    with app.state.write_sessions() as s:
        s.get(DrawRecord, old.draw_id).superseded_by = new.draw_id
        s.commit()
    r = client.post(LOOKUP, json={"credit_code": v_old.credit_code, "notice_code": v_old.notice_code})
    assert r.status_code == 200 and r.json()["void"] is True and r.json()["status"] == "已作废"
    assert r.json()["draw_id"] == old.draw_id and "已作废" in r.json()["html"]
    assert r.json()["date"] == before.json()["date"] and r.json()["team"] == before.json()["team"]
    # and a recusal cannot be asked on a void notice
    inspector = r.json()["team"][0]["inspector_id"]
    r = client.post(
        "/api/recusals",
        json={"credit_code": v_old.credit_code, "notice_code": v_old.notice_code, "inspector_id": inspector, "reason": "亲属"},
    )
    assert r.status_code == 409 and "已作废" in r.json()["detail"]


def test_repeated_lookups_of_issued_notices_are_served(app, client, finished_draw):  # noqa: F811
    """200 correct look-ups of 50 notices, one at a time, all answered (the throttle counts
    refusals, not an enterprise reading its own notice again). Speed is measured by
    bench/notice_load.py, never asserted here."""
    visits = [finished_draw.visit(k) for k in range(50)]
    times = []
    for k in range(200):
        v = visits[k % len(visits)]
        t = time.perf_counter()
        r = client.post(LOOKUP, json={"credit_code": v.credit_code, "notice_code": v.notice_code})
        times.append(time.perf_counter() - t)
        assert r.status_code == 200
    times.sort()
    print(f"lookup: median {statistics.median(times) * 1000:.1f} ms, p99 {times[int(0.99 * len(times)) - 1] * 1000:.1f} ms")
