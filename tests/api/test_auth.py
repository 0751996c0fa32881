"""Sign-in, tokens, users, and who may reach what: every 401/403 is recorded."""

from __future__ import annotations

import datetime as dt
import re
import types

from fastapi.routing import APIRoute
from sqlalchemy import select, update

import api.main  # noqa: F401  (imports every router module)
import api.routers
from api.deps import current_user
from api.models import ApiToken, User
from tests.api.conftest import login, make_user
from tests.api.helpers import refusals

MINE = {"auth", "notices", "recusals", "results", "public", "audit"}
GUESSES = [
    ("admin", "admin"),
    ("admin", "admin123456"),
    ("admin", "password123"),
    ("root", "root123456789"),
    ("planner", "planner12345"),
    ("auditor", "auditor12345"),
    ("randinspect", "randinspect"),
]


def test_no_default_account(app, client):
    for username, password in GUESSES:
        r = client.post("/api/login", data={"username": username, "password": password})
        assert r.status_code == 401, r.text
        assert r.json()["detail"] == "wrong username or password"
        assert r.headers["www-authenticate"] == "Bearer"
    with app.state.read_sessions() as s:
        assert s.scalars(select(User)).all() == []
    got = refusals(app)
    assert len(got) == len(GUESSES)
    assert all(r == (401, "POST", "/api/login", "wrong username or password") for r in got)


def test_login_me_logout(app, client):
    make_user(app, "alice", "planner")
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    r = client.post("/api/login", data={"username": "alice", "password": "correct horse battery"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "planner" and len(body["access_token"]) >= 40
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert abs((expires - before) - dt.timedelta(hours=app.state.settings.token_hours)) < dt.timedelta(
        minutes=1
    )
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    me = client.get("/api/me", headers=headers)
    assert me.status_code == 200 and me.json()["username"] == "alice" and me.json()["role"] == "planner"
    assert "password_hash" not in me.json()
    # only the token's hash is stored
    with app.state.read_sessions() as s:
        assert body["access_token"] not in [t.token_hash for t in s.scalars(select(ApiToken))]
    # wrong password for a real user
    r = client.post("/api/login", data={"username": "alice", "password": "correct horse battery!"})
    assert r.status_code == 401
    assert client.post("/api/logout", headers=headers).status_code == 200
    with app.state.read_sessions() as s:
        assert s.scalars(select(ApiToken)).all() == []
    r = client.get("/api/me", headers=headers)
    assert r.status_code == 401 and r.json()["detail"] == "the token is unknown or expired"
    assert [x[:3] for x in refusals(app)] == [(401, "POST", "/api/login"), (401, "GET", "/api/me")]


def test_expired_token(app, client):
    make_user(app, "bob", "auditor")
    headers = login(client, "bob")
    assert client.get("/api/me", headers=headers).status_code == 200
    with app.state.write_sessions() as s:
        s.execute(update(ApiToken).values(expires_at=dt.datetime(2020, 1, 1)))
        s.commit()
    assert client.get("/api/me", headers=headers).status_code == 401
    assert refusals(app)[-1] == (401, "GET", "/api/me", "the token is unknown or expired")


def test_planner_creates_users(app, client, planner):
    r = client.post(
        "/api/users",
        json={"username": "carol", "role": "auditor", "password": "a long password"},
        headers=planner,
    )
    assert r.status_code == 201, r.text
    assert r.json()["username"] == "carol" and r.json()["role"] == "auditor" and "password" not in r.json()
    carol = login(client, "carol", "a long password")
    assert client.get("/api/me", headers=carol).json()["role"] == "auditor"
    # duplicate, short password, unknown role
    assert (
        client.post(
            "/api/users",
            json={"username": "carol", "role": "planner", "password": "another long one"},
            headers=planner,
        ).status_code
        == 409
    )
    assert (
        client.post(
            "/api/users", json={"username": "dave", "role": "planner", "password": "short"}, headers=planner
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/users",
            json={"username": "dave", "role": "admin", "password": "a long password"},
            headers=planner,
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/users",
            json={"username": "x" * 65, "role": "planner", "password": "a long password"},
            headers=planner,
        ).status_code
        == 422
    )
    n = len(refusals(app))
    # an auditor may not create users, nor may the public
    r = client.post(
        "/api/users",
        json={"username": "eve", "role": "planner", "password": "a long password"},
        headers=carol,
    )
    assert r.status_code == 403
    r = client.post("/api/users", json={"username": "eve", "role": "planner", "password": "a long password"})
    assert r.status_code == 401
    got = refusals(app)[n:]
    assert [x[:3] for x in got] == [(403, "POST", "/api/users"), (401, "POST", "/api/users")]
    assert "auditor may not" in got[0][3]
    with app.state.read_sessions() as s:
        assert s.scalar(select(User).where(User.username == "eve")) is None


def _roles(route: APIRoute) -> tuple[tuple[str, ...] | None, bool]:
    """(roles a route requires, whether it needs a signed-in user), from its dependencies."""
    roles, auth = None, False
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        for sub in dep.dependencies:
            if sub.call is current_user:
                auth = True
            if getattr(sub.call, "__name__", "") == "check" and sub.call.__closure__:
                for cell in sub.call.__closure__:
                    if isinstance(cell.cell_contents, tuple):
                        roles = cell.cell_contents
            stack.append(sub)
    return roles, auth


def test_role_matrix(app, client, planner, auditor):
    """Public: 401 on every signed-in endpoint. Auditor: 403 on every planner-only endpoint
    (drawing, deciding, entering results, publishing, users ...), through on its own. Planner:
    through everywhere. Each refusal adds exactly one refusals row."""
    table = {}
    mine = set()
    for module in api.routers.__dict__.values():
        if not isinstance(module, types.ModuleType) or not hasattr(module, "router"):
            continue
        for route in module.router.routes:
            if not isinstance(route, APIRoute):
                continue
            roles, auth = _roles(route)
            for method in route.methods:
                table[(method, "/api" + route.path)] = (roles, auth)
                if module.__name__.rsplit(".", 1)[-1] in MINE:
                    mine.add((method, "/api" + route.path))
    assert len(mine) >= 17
    planner_only = {k for k, (roles, _) in table.items() if roles == ("planner",)}
    assert {
        ("POST", "/api/users"),
        ("POST", "/api/recusals/{recusal_id}/decision"),
        ("POST", "/api/draws/{draw_id}/recusals"),
        ("PUT", "/api/visits/{visit_pk}/result"),
        ("POST", "/api/draws/{draw_id}/publish"),
    } <= planner_only
    both = {k for k, (roles, _) in table.items() if roles == ("planner", "auditor")}
    assert {
        ("GET", "/api/audit"),
        ("GET", "/api/audit/verify"),
        ("GET", "/api/draws/{draw_id}/recusals"),
        ("GET", "/api/draws/{draw_id}/overdue"),
    } <= both
    # whatever draws a plan (the colleague's router) is planner-only too
    for (method, path), (roles, _) in table.items():
        if method == "POST" and re.search(r"draw", path) and "recusals" not in path and "publish" not in path:
            assert roles == ("planner",), (method, path)
    public = {k for k, (roles, auth) in table.items() if not auth}
    assert {
        ("POST", "/api/login"),
        ("POST", "/api/notices/lookup"),
        ("POST", "/api/recusals"),
        ("GET", "/api/public/results"),
    } <= public

    def call(method, path, headers=None):
        url = re.sub(r"\{[^}]+\}", "1", path)
        return client.request(method, url, headers=headers or {})

    for (method, path), (roles, auth) in sorted(table.items()):
        if not auth:
            continue
        n = len(refusals(app))
        r = call(method, path)
        assert r.status_code == 401, (method, path, r.status_code)
        assert len(refusals(app)) == n + 1
        assert refusals(app)[-1][:3] == (401, method, re.sub(r"\{[^}]+\}", "1", path))
        if roles == ("planner",):
            r = call(method, path, auditor)
            assert r.status_code == 403, (method, path, r.status_code)
            assert len(refusals(app)) == n + 2
        elif path != "/api/logout":
            r = call(method, path, auditor)
            assert r.status_code not in (401, 403), (method, path, r.status_code)
            assert len(refusals(app)) == n + 1
        if path != "/api/logout":
            r = call(method, path, planner)
            assert r.status_code not in (401, 403), (method, path, r.status_code)
            if (method, path) in mine:
                assert r.status_code < 500, (method, path, r.status_code)
    assert all(status in (401, 403) for status, *_ in refusals(app))
