"""Each bureau sees its own: the role matrix of every route and the out-of-scope 404 of every
route, both enumerated from the app itself (a route added later without an entry here fails
``test_every_route_is_in_the_table``)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from api.models import AuditRecordRow, DrawRecord, RecusalRecord, RedrawRecord, ResultRecord, User
from api.web.planner import COOKIE
from tests.api.conftest import COUNTY, ECOLOGY, OTHER_COUNTY, PROVINCE, login, make_user
from tests.api.helpers import insert_finished_draw, refusals
from tests.api.test_registries import registry_files, upload_generated

ROLES = ("planner", "leader", "auditor", "admin")
READ = ("planner", "leader", "auditor")
PUBLIC, SIGNED_IN = "public", "signed in"

# Every route of the app: who may call it. PUBLIC needs no account; SIGNED_IN any account.
TABLE: dict[tuple[str, str], tuple[str, ...] | str] = {
    ("GET", "/api/health"): PUBLIC,
    ("POST", "/api/login"): PUBLIC,
    ("GET", "/api/me"): SIGNED_IN,
    ("POST", "/api/logout"): SIGNED_IN,
    ("GET", "/api/users"): ("admin",),
    ("POST", "/api/users"): ("admin",),
    ("POST", "/api/users/{user_id}/disable"): ("admin",),
    ("POST", "/api/users/{user_id}/password"): ("admin",),
    ("GET", "/api/agencies"): ROLES,
    ("POST", "/api/agencies"): ("admin",),
    ("POST", "/api/registries"): ("planner",),
    ("GET", "/api/registries"): READ,
    ("GET", "/api/registries/{registry_id}"): READ,
    ("POST", "/api/plans"): ("planner",),
    ("GET", "/api/plans"): READ,
    ("GET", "/api/plans/{plan_id}"): READ,
    ("PUT", "/api/plans/{plan_id}"): ("planner",),
    ("POST", "/api/plans/{plan_id}/approve"): ("leader",),
    ("POST", "/api/plans/{plan_id}/draws"): ("planner",),
    ("POST", "/api/plans/{plan_id}/commitment"): ("planner",),
    ("GET", "/api/plans/{plan_id}/commitments"): READ,
    ("POST", "/api/plans/{plan_id}/redraws"): ("planner",),
    ("GET", "/api/plans/{plan_id}/redraws"): READ,
    ("POST", "/api/redraws/{redraw_id}/decision"): ("leader",),
    ("GET", "/api/approvals"): READ,
    ("GET", "/api/plans/{plan_id}/draws"): READ,
    ("GET", "/api/draws/{draw_id}"): READ,
    ("GET", "/api/draws/{draw_id}/export.xlsx"): READ,
    ("GET", "/api/draws/{draw_id}/visits"): READ,
    ("GET", "/api/draws/{draw_id}/visits/{visit_id}"): ("planner",),
    ("POST", "/api/recusals"): PUBLIC,
    ("POST", "/api/draws/{draw_id}/recusals"): ("planner",),
    ("GET", "/api/draws/{draw_id}/recusals"): READ,
    ("POST", "/api/recusals/{recusal_id}/decision"): ("planner",),
    ("PUT", "/api/visits/{visit_pk}/result"): ("planner",),
    ("GET", "/api/visits/{visit_pk}/result"): READ,
    ("GET", "/api/draws/{draw_id}/overdue"): READ,
    ("POST", "/api/draws/{draw_id}/publish"): ("leader",),
    ("GET", "/api/public/results"): PUBLIC,
    ("GET", "/api/public/results.csv"): PUBLIC,
    ("GET", "/api/public/draws"): PUBLIC,
    ("GET", "/api/public/draws/{draw_id}/results_gsxt.{fmt}"): PUBLIC,  # published draws only (404 before)
    ("POST", "/api/notices/lookup"): PUBLIC,
    ("GET", "/api/audit"): READ,
    ("GET", "/api/audit/verify"): READ,
    ("GET", "/"): PUBLIC,
    ("GET", "/enterprise"): PUBLIC,
    ("GET", "/public"): PUBLIC,
    ("GET", "/auditor"): PUBLIC,
    ("GET", "/planner"): PUBLIC,
    ("GET", "/leader"): PUBLIC,
    ("GET", "/admin"): PUBLIC,
    ("GET", "/planner/draws/{draw_id}"): PUBLIC,  # a page shell: its script reads with the token
    ("POST", "/planner/session"): READ,
    ("DELETE", "/planner/session"): PUBLIC,
    ("GET", "/planner/draws/{draw_id}/report"): READ,  # token from the HttpOnly cookie
    ("GET", "/planner/draws/{draw_id}/visit-keys"): READ,
    ("POST", "/planner/plan-file"): ("planner",),
}
WRITES = {"POST", "PUT", "DELETE", "PATCH"}


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves (included routers flattened)."""
    out = set()
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for c in contexts:
            for method in getattr(c, "methods", None) or ():
                if method != "HEAD" and not c.path.startswith(("/docs", "/redoc", "/openapi")):
                    out.add((method, c.path))
    return out


def test_every_route_is_in_the_table(app):
    assert app_routes(app) == set(TABLE)


@pytest.fixture
def world(app, client):
    """A county's finished official draw (with a recusal request and a re-draw request), the
    county's accounts of every role, and the same roles at another county and in ecology."""
    draw = insert_finished_draw(app, agency=COUNTY)
    v = draw.visit(0)
    with app.state.write_sessions() as s:
        rec = RecusalRecord(visit_pk=v.pk, inspector_id=v.inspector_ids[0], requested_by="bureau", reason="亲属", status="pending")
        red = RedrawRecord(plan_id=draw.plan_id, draw_id=draw.draw_id, reason="名录有误", requested_by="someone", status="pending")
        s.add_all([rec, red, ResultRecord(visit_pk=v.pk, category="未发现问题")])
        s.get(DrawRecord, draw.draw_id).report_html = "<html><body>report</body></html>"
        s.commit()
        rec_id, red_id = rec.id, red.id
    headers = {}
    for where, agency in (("county", COUNTY), ("other", OTHER_COUNTY), ("ecology", ECOLOGY), ("province", PROVINCE)):
        for role in ROLES:
            make_user(app, f"{where}-{role}", role, agency=agency)
            headers[(where, role)] = login(client, f"{where}-{role}")
    make_user(app, "county-target", "planner", agency=COUNTY)  # the account the user routes act on
    with app.state.read_sessions() as s:
        user_id = s.scalar(select(User.id).where(User.username == "county-target"))
    ids = {
        "registry_id": draw.registry_id,
        "plan_id": draw.plan_id,
        "draw_id": draw.draw_id,
        "visit_pk": v.pk,
        "visit_id": v.visit_id,
        "recusal_id": rec_id,
        "redraw_id": red_id,
        "user_id": user_id,
    }
    return {"draw": draw, "headers": headers, "ids": ids}


def _url(path: str, ids: dict) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: str(ids[m.group(1)]), path)


# Valid bodies, so that a route answers about its object (not about a missing field).
BODIES = {
    "/api/users/{user_id}/password": {"password": "a long password 1"},
    "/api/plans/{plan_id}": {"version": 1},
    "/api/plans/{plan_id}/draws": {"seed": "x"},
    "/api/plans/{plan_id}/commitment": {"source": "s"},
    "/api/plans/{plan_id}/redraws": {"reason": "r"},
    "/api/redraws/{redraw_id}/decision": {"approve": False},
    "/api/draws/{draw_id}/recusals": {"visit_id": "V", "inspector_id": "I", "reason": "r"},
    "/api/recusals/{recusal_id}/decision": {"approve": False},
    "/api/visits/{visit_pk}/result": {"category": "未发现问题"},
    "/api/draws/{draw_id}/publish": {"confirm": True},
}


def _call(client, method: str, path: str, ids: dict, headers: dict, valid: bool = False):
    url = _url(path, ids)
    if path == "/planner/draws/{draw_id}/report":  # an iframe: the token comes in the HttpOnly cookie alone
        token = headers.get("Authorization", " ").split(" ", 1)[1]
        client.cookies.clear()
        if token.strip():
            client.cookies.set(COOKIE, token)
        try:
            return client.request(method, url)
        finally:
            client.cookies.clear()
    body = (BODIES.get(path, {}) if valid else {}) if method in ("POST", "PUT") else None
    return client.request(method, url, headers=headers, json=body)


def test_role_matrix_of_every_write_route(app, client, world):
    """Each role: 403 (recorded) on every write route it may not use, through (neither 401 nor
    403) on those it may; nobody signed in: 401."""
    ids, headers = world["ids"], world["headers"]
    writes = sorted(k for k in app_routes(app) if k[0] in WRITES)
    assert len(writes) >= 20
    for method, path in writes:
        allowed = TABLE[(method, path)]
        if allowed == PUBLIC:
            continue
        n = len(refusals(app))
        assert _call(client, method, path, ids, {}).status_code == 401, (method, path)
        assert len(refusals(app)) == n + 1
        for role in ROLES:
            if (method, path) == ("POST", "/api/logout"):
                continue
            r = _call(client, method, path, ids, headers[("county", role)])
            if allowed == SIGNED_IN or role in allowed:
                assert r.status_code not in (401, 403), (method, path, role, r.status_code, r.text)
            else:
                assert r.status_code == 403, (method, path, role, r.status_code, r.text)
                assert refusals(app)[-1][0] == 403 and role in refusals(app)[-1][3]


def test_reads_are_for_planners_leaders_and_auditors(app, client, world):
    ids, headers = world["ids"], world["headers"]
    for method, path in sorted(k for k in app_routes(app) if k[0] == "GET"):
        allowed = TABLE[(method, path)]
        if allowed in (PUBLIC, SIGNED_IN):
            continue
        for role in ROLES:
            r = _call(client, method, path, ids, headers[("county", role)])
            if role in allowed:
                assert r.status_code == 200, (method, path, role, r.status_code, r.text[:300])
            else:
                assert r.status_code == 403, (method, path, role, r.status_code)


MISSING = 2_000_000_000


def test_out_of_scope_is_404_on_every_route(app, client, world):
    """An object of another county, or of another department, answers 404 with exactly the body
    a missing object gives, on every route that names one; the province above sees it."""
    ids, headers = world["ids"], world["headers"]
    missing = {k: (MISSING if isinstance(v, int) else v) for k, v in ids.items()}
    routes = sorted(k for k in app_routes(app) if "{" in k[1] and TABLE[k] not in (PUBLIC, SIGNED_IN))
    assert len(routes) >= 20
    for method, path in routes:
        allowed = TABLE[(method, path)]
        role = "planner" if "planner" in allowed else allowed[0]
        for where in ("other", "ecology"):
            r = _call(client, method, path, ids, headers[(where, role)], valid=True)
            gone = _call(client, method, path, missing, headers[(where, role)], valid=True)
            assert r.status_code == 404, (method, path, where, r.status_code, r.text[:300])
            assert gone.status_code == 404, (method, path, where, gone.status_code)
            shown = r.json()["detail"].replace(str(ids[re.findall(r"\{([^}]+)\}", path)[0]]), "N")
            assert shown == gone.json()["detail"].replace(str(MISSING), "N"), (method, path)
        if method == "GET":
            r = _call(client, method, path, ids, headers[("province", role)])
            assert r.status_code == 200, (method, path, r.status_code, r.text[:300])


def test_lists_hold_only_the_scope(app, client, world):
    ids, headers = world["ids"], world["headers"]
    other, county = headers[("other", "auditor")], headers[("county", "auditor")]
    assert [r["id"] for r in client.get("/api/registries", headers=county).json()] == [ids["registry_id"]]
    assert client.get("/api/registries", headers=other).json() == []
    assert [p["id"] for p in client.get("/api/plans", headers=county).json()] == [ids["plan_id"]]
    assert client.get("/api/plans", headers=other).json() == []
    assert client.get("/api/approvals", headers=other).json() == {"plans": [], "redraws": [], "draws": []}
    assert len(client.get("/api/approvals", headers=county).json()["redraws"]) == 1
    with app.state.write_sessions() as s:  # a record of the county and one of the other county
        s.execute(AuditRecordRow.__table__.update().values(agency_id=COUNTY))
        s.commit()
    assert client.get("/api/audit", headers=other).json() == []
    assert client.get("/api/audit", headers=county).json()
    assert {a["agency_id"] for a in client.get("/api/agencies", headers=other).json()} == {OTHER_COUNTY}
    users = {u["username"] for u in client.get("/api/users", headers=headers[("county", "admin")]).json()}
    assert users == {f"county-{r}" for r in ROLES} | {"county-target"}


def test_registry_must_agree_with_the_tree_and_plans_belong_to_their_lead_agency(app, client):
    make_user(app, "p", "planner")
    make_user(app, "cp", "planner", agency=COUNTY)
    make_user(app, "op", "planner", agency=OTHER_COUNTY)
    province, county, other = login(client, "p"), login(client, "cp"), login(client, "op")
    registry_id, spec = upload_generated(client, province)
    assert client.get(f"/api/registries/{registry_id}", headers=province).json()["agency_id"] == PROVINCE
    # the province's plan (its tasks are led by the province, the city and the county)
    r = client.post("/api/plans", json={"registry_id": registry_id, "name": "p", "spec": spec}, headers=province)
    assert r.status_code == 201 and r.json()["agency_id"] == PROVINCE
    # the county may not see the province's registry
    r = client.post("/api/plans", json={"registry_id": registry_id, "name": "c", "spec": spec}, headers=county)
    assert r.status_code == 404 and r.json() == {"detail": f"registry {registry_id} not found"}
    # the county's own upload of the same registry: a plan with a task led by the province is refused
    own_id, _ = upload_generated(client, county)
    r = client.post("/api/plans", json={"registry_id": own_id, "name": "c", "spec": spec}, headers=county)
    assert r.status_code == 422
    bad = {p["column"] for p in r.json()["problems"]}
    assert {"tasks[0].agency_id", "tasks[1].agency_id"} <= bad and all("SJ130102" not in p["message"] for p in r.json()["problems"])
    county_tasks = [t for t in spec["tasks"] if t["agency_id"] == COUNTY]
    r = client.post(
        "/api/plans", json={"registry_id": own_id, "name": "c", "spec": {**spec, "tasks": county_tasks}}, headers=county
    )
    assert r.status_code == 201 and r.json()["agency_id"] == COUNTY
    assert client.get(f"/api/plans/{r.json()['id']}", headers=other).status_code == 404
    # a registry whose agencies table disagrees with the tree is refused, naming the row
    from tests.api.test_registries import generated, upload

    folder = generated()
    text = (folder / "agencies.csv").read_text(encoding="utf-8-sig")
    rest = [f for f in registry_files(folder) if f[0] != "agencies.csv"]
    r = upload(client, province, [*rest, ("agencies.csv", text.replace(",130102\n", ",130199\n", 1).encode())])
    assert r.status_code == 422
    (p,) = [p for p in r.json()["problems"] if p["column"] == "region_code"]
    assert p["file"] == "agencies.csv" and p["row"] == 4 and "130199" in p["message"]
    unknown = text + "SJ139999,某县市场监督管理局,market,county,SJ130100,130199\n"
    r = upload(client, province, [*rest, ("agencies.csv", unknown.encode())])
    assert r.status_code == 422
    (p,) = r.json()["problems"]
    assert (p["row"], p["column"]) == (8, "agency_id") and "SJ139999" in p["message"] and "agency tree" in p["message"]
