"""Throttling (issue 12 item 5): login, notice look-up, enterprise recusal request and uploads are
locked per client address and per account after their limit, with Retry-After, until the window
ends; refusals are counted per (status, route, client, window), not stored one row each; new
passwords follow the rules."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from api.models import Refusal, ThrottleCount
from api.throttle import password_problem
from tests.api.conftest import login, make_user
from tests.api.helpers import insert_finished_draw
from tests.security.conftest import PASSWORD, sample_files


def _login(client, user, password):
    return client.post("/api/login", data={"username": user, "password": password})


def test_login_locked_per_account_then_per_client_with_retry_after(make_service):
    app, client = make_service(login_failures_per_account=3, login_failures_per_client=5, throttle_window_seconds=3)
    make_user(app, "bob", "auditor", PASSWORD)
    while True:  # start at the beginning of a window, so that the lock-out below does not straddle two
        if time.time() % 3 < 1:
            break
        time.sleep(0.1)
    for _ in range(3):
        assert _login(client, "planner1", "wrong password 1").status_code == 401
    r = _login(client, "planner1", PASSWORD)  # even the right password waits: the account is locked
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 4
    assert _login(client, "bob", PASSWORD).status_code == 200  # another account from the same address
    assert _login(client, "bob", "wrong password 2").status_code == 401
    assert _login(client, "nobody", "wrong password 3").status_code == 401  # 5 failures from this address
    r = _login(client, "bob", PASSWORD)
    assert r.status_code == 429, r.text  # now the address is locked
    time.sleep(int(r.headers["retry-after"]))
    assert _login(client, "planner1", PASSWORD).status_code == 200  # a new window


def test_refusals_are_aggregated_not_one_row_each(make_service):
    app, client = make_service(enterprise_failures_per_client=10_000, enterprise_failures_per_code=10_000)
    with app.state.read_sessions() as s:
        before = s.scalar(select(func.count()).select_from(Refusal))
    for k in range(120):
        r = client.post("/api/notices/lookup", json={"credit_code": f"91130123MA{k:08d}", "notice_code": "ABCDEFGHJK"})
        assert r.status_code in (403, 422), r.text
    with app.state.read_sessions() as s:
        rows = s.execute(select(Refusal.status, Refusal.route, Refusal.count).where(Refusal.window_start.is_not(None))).all()
        after = s.scalar(select(func.count()).select_from(Refusal))
    assert after - before <= 2  # one row per (status, route, client, window): the window may turn once
    assert sum(c for _status, route, c in rows if route == "/api/notices/lookup") == 120


def test_notice_lookup_and_recusal_locked_per_code_and_per_client(make_service):
    app, client = make_service(enterprise_failures_per_code=3, enterprise_failures_per_client=6)
    draw = insert_finished_draw(app)
    visits = list(draw.visits.values())
    a, b = visits[0], next(v for v in visits if v.credit_code != visits[0].credit_code)
    for _ in range(3):
        r = client.post("/api/notices/lookup", json={"credit_code": a.credit_code, "notice_code": "ABCDEFGHJK"})
        assert r.status_code == 403
    r = client.post("/api/notices/lookup", json={"credit_code": a.credit_code, "notice_code": a.notice_code})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0  # the code is locked, even the right one
    r = client.post("/api/notices/lookup", json={"credit_code": b.credit_code, "notice_code": b.notice_code})
    assert r.status_code == 200  # another enterprise is not
    body = {"credit_code": b.credit_code, "notice_code": "ABCDEFGHJK", "inspector_id": b.inspector_ids[0],
            "reason": "近亲属"}
    for _ in range(3):
        assert client.post("/api/recusals", json=body).status_code == 403
    body["notice_code"] = b.notice_code
    assert client.post("/api/recusals", json=body).status_code == 429
    with app.state.read_sessions() as s:
        kinds = dict(s.execute(select(ThrottleCount.kind, func.sum(ThrottleCount.count)).group_by(ThrottleCount.kind)).all())
    assert kinds == {"notice": 6, "recusal": 6}  # each failure counted for the address and the code


def test_uploads_limited_per_account(make_service):
    _app, client = make_service(uploads_per_account=2)
    files = sample_files(enterprises=("enterprises.csv", b"credit_code\n"))  # a quick 422
    for _ in range(2):
        assert client.post("/api/registries", data={"name": "x"}, files=files).status_code == 422
    r = client.post("/api/registries", data={"name": "x"}, files=files)
    assert r.status_code == 429 and r.headers["retry-after"]


def test_throttle_can_be_switched_off(make_service):
    _app, client = make_service(throttle=False, login_failures_per_account=1)
    for _ in range(3):
        assert _login(client, "planner1", "wrong password 1").status_code == 401
    assert _login(client, "planner1", PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("password", "ok"),
    [("aaaaaaaaaa", False), ("aaaaaaaaaaaa", False), ("abcdefghijkl", False), ("123456789012", False),
     ("abababab1212", False), ("Planner1-secret", False), ("correct horse battery", True), ("zhang-2026-Q1", True)],
)
def test_password_rules(make_service, password, ok):
    app, client = make_service()
    assert (password_problem(password, "planner1") is None) == ok
    assert password_problem("Planner1-secret", "Secret") is not None  # the user name, any case
    make_user(app, "admin1", "admin", PASSWORD)  # admins make accounts (issue 10)
    r = client.post("/api/users", json={"username": "Secret" if "secret" in password else "carol",
                                        "role": "auditor", "agency_id": "SJ130000", "password": password},
                    headers=login(client, "admin1", PASSWORD))
    assert (r.status_code == 201) == ok, r.text


def test_cli_user_add_applies_the_password_rules(tmp_path, monkeypatch, capsys):
    from randinspect.cli import main

    monkeypatch.setenv("RANDINSPECT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    from api.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("aaaaaaaaaaaa\n"))
    assert main(["user", "add", "zhang", "--role", "planner", "--agency", "SJ130000", "--password-stdin"]) == 2
    assert "two kinds" in capsys.readouterr().err
    get_settings.cache_clear()


def test_old_throttle_windows_pruned_at_start_up(make_service):
    import datetime as dt

    from api.models import ThrottleCount
    from api.throttle import prune_counts

    app, _client = make_service()
    with app.state.write_sessions() as s:
        s.add(ThrottleCount(kind="login", key="client:x", window_start=dt.datetime(2020, 1, 1), count=5))
        s.commit()
    assert prune_counts(app) == 1
