"""Sign-in, tokens, users, and who may reach what: every 401/403 is recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from api.models import ApiToken, User
from api.security import hash_password
from tests.api.conftest import CITY, COUNTY, PROVINCE, TREE, login, make_user
from tests.api.helpers import refusals

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


def test_admin_manages_the_accounts_of_its_scope(app, client):
    make_user(app, "root", "admin")  # province admin
    make_user(app, "county-admin", "admin", agency=COUNTY)
    admin = login(client, "root")
    r = client.post(
        "/api/users",
        json={"username": "carol", "role": "leader", "agency_id": CITY, "password": "a long password"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["username"] == "carol" and r.json()["role"] == "leader" and "password" not in r.json()
    carol = login(client, "carol", "a long password")
    assert client.get("/api/me", headers=carol).json()["agency_id"] == CITY
    # duplicate, short password, unknown role, unknown agency, too long a name
    for body, code in (
        ({"username": "carol", "role": "planner", "agency_id": CITY, "password": "another long one"}, 409),
        ({"username": "dave", "role": "planner", "agency_id": CITY, "password": "short"}, 422),
        ({"username": "dave", "role": "chief", "agency_id": CITY, "password": "a long password"}, 422),
        ({"username": "dave", "role": "planner", "agency_id": "NOPE", "password": "a long password"}, 422),
        ({"username": "x" * 65, "role": "planner", "agency_id": CITY, "password": "a long password"}, 422),
    ):
        assert client.post("/api/users", json=body, headers=admin).status_code == code, body
    # a county admin: only its county (a province agency is refused, the city's account is 404)
    county = login(client, "county-admin")
    r = client.post(
        "/api/users",
        json={"username": "eve", "role": "planner", "agency_id": PROVINCE, "password": "a long password"},
        headers=county,
    )
    assert r.status_code == 422 and "not in the agency tree under your agency" in r.json()["detail"]
    carol_id = client.get("/api/me", headers=carol).json()["id"]
    assert client.post(f"/api/users/{carol_id}/disable", headers=county).json() == {"detail": f"user {carol_id} not found"}
    assert {u["username"] for u in client.get("/api/users", headers=county).json()} == {"county-admin"}
    me = client.get("/api/me", headers=county).json()["id"]
    assert client.post(f"/api/users/{me}/disable", headers=county).status_code == 409
    # the province admin sets carol's password (her tokens go) and disables her
    r = client.post(f"/api/users/{carol_id}/password", json={"password": "a new long password"}, headers=admin)
    assert r.status_code == 200
    assert client.get("/api/me", headers=carol).status_code == 401
    carol = login(client, "carol", "a new long password")
    assert client.post(f"/api/users/{carol_id}/disable", headers=admin).json()["active"] is False
    assert client.get("/api/me", headers=carol).status_code == 401
    r = client.post("/api/login", data={"username": "carol", "password": "a new long password"})
    assert r.status_code == 401
    # a leader (or anyone but an admin) may not create accounts, nor may the public
    make_user(app, "lead", "leader")
    n = len(refusals(app))
    body = {"username": "eve", "role": "planner", "agency_id": PROVINCE, "password": "a long password"}
    assert client.post("/api/users", json=body, headers=login(client, "lead")).status_code == 403
    assert client.post("/api/users", json=body).status_code == 401
    got = refusals(app)[n:]
    assert [x[:3] for x in got] == [(403, "POST", "/api/users"), (401, "POST", "/api/users")]
    assert "leader may not" in got[0][3]
    with app.state.read_sessions() as s:
        assert s.scalar(select(User).where(User.username == "eve")) is None


def test_an_account_needs_an_agency_of_the_tree(app, client):
    """Accounts made before the agency tree (no agency) cannot sign in; an unknown agency is
    refused by the database itself."""
    with app.state.write_sessions() as s:
        s.add(User(username="old", role="planner", password_hash=hash_password("correct horse battery")))
        s.commit()
    assert client.post("/api/login", data={"username": "old", "password": "correct horse battery"}).status_code == 401
    with pytest.raises(IntegrityError):
        make_user(app, "ghost", "planner", agency="XX999999")


def test_only_an_admin_of_a_top_agency_changes_the_tree(app, client):
    make_user(app, "root", "admin")
    make_user(app, "county-admin", "admin", agency=COUNTY)
    make_user(app, "lead", "leader")
    tree = TREE.read_bytes()
    extra = tree + "SJ130105,新华区市场监督管理局,market,county,SJ130100,130105\n".encode()
    files = {"file": ("agencies.csv", extra, "text/csv")}
    n = len(refusals(app))
    r = client.post("/api/agencies", files=files, headers=login(client, "county-admin"))
    assert r.status_code == 403 and "top agency" in r.json()["detail"]
    assert client.post("/api/agencies", files=files, headers=login(client, "lead")).status_code == 403
    assert [x[0] for x in refusals(app)[n:]] == [403, 403]
    root = login(client, "root")
    r = client.post("/api/agencies", files=files, headers=root)
    assert r.status_code == 200 and r.json() == {"added": 1, "updated": 0, "agencies": 10}
    assert "SJ130105" in {a["agency_id"] for a in client.get("/api/agencies", headers=root).json()}
    # bad rows are named; an agency of the tree left out is refused; nothing changes
    bad = tree + "SJ130106,某区,market,county,SJ139999,130106\n".encode()
    r = client.post("/api/agencies", files={"file": ("agencies.csv", bad, "text/csv")}, headers=root)
    assert r.status_code == 422
    (p,) = r.json()["problems"]
    assert (p["file"], p["row"], p["column"]) == ("agencies.csv", 11, "parent_id")
    r = client.post("/api/agencies", files={"file": ("agencies.csv", tree, "text/csv")}, headers=root)
    assert r.status_code == 422 and "SJ130105" in r.text and "never removed" in r.text
    assert len(client.get("/api/agencies", headers=root).json()) == 6  # its scope: the market line, SJ130105 kept
