"""Bad input never gives a 500: schemathesis generates requests for every operation of the
OpenAPI schema (bounded number of examples each) and none may answer 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from api.main import create_app
from api.migrate import upgrade
from api.settings import Settings

EXAMPLES = 25


def fuzz(operation, failures: list[str]) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())
    def check(case):
        try:
            response = case.call()
        except Exception as exc:  # the in-process client re-raises the server's exception: a 500
            failures.append(f"{operation.method.upper()} {operation.path}: 500 raised {exc!r}")
            return
        if response.status_code >= 500:
            failures.append(f"{operation.method.upper()} {operation.path}: {response.status_code} {response.text[:200]}")

    check()


def test_no_operation_answers_5xx(tmp_path):
    url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    upgrade(url)
    app = create_app(Settings(database_url=url))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        fuzz(operation, failures)
    assert operations >= 1
    assert failures == []


def test_the_fuzzer_does_catch_a_5xx(tmp_path):
    """The check above can fail: an endpoint that crashes on some input is found."""
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    upgrade(url)
    app = create_app(Settings(database_url=url))

    @app.get("/api/crash")
    def crash(n: int) -> dict:
        return {"x": 1 // (n % 3)}

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/crash":
            fuzz(operation, failures)
    assert failures and failures[0].startswith("GET /api/crash: 500")


def test_non_finite_numbers_and_lone_surrogates_get_422_not_500(tmp_path):
    url = f"sqlite:///{tmp_path / 'nan.db'}"
    upgrade(url)
    from fastapi.testclient import TestClient

    with TestClient(create_app(Settings(database_url=url)), raise_server_exceptions=False) as client:
        for body in ('{"credit_code": NaN, "notice_code": "X"}', '{"credit_code": "\\ud800", "notice_code": 1}'):
            r = client.post("/api/notices/lookup", content=body, headers={"Content-Type": "application/json"})
            assert r.status_code == 422, r.text


def signed_in_fuzz(operation, role: str, token: str, failures: list[str]) -> None:
    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())
    def check(case):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        try:
            response = case.call()
        except Exception as exc:  # the in-process client re-raises the server's exception: a 500
            failures.append(f"{operation.method.upper()} {operation.path} ({role}): 500 raised {exc!r}")
            return
        if response.status_code >= 500:
            failures.append(f"{operation.method.upper()} {operation.path} ({role}): {response.status_code}")

    check()


def test_signed_in_operations_never_answer_5xx(tmp_path):
    """The same, signed in as a planner, a leader and an admin of the province (so that requests
    pass the role and scope checks and reach the routes' own work), with a county's finished
    official draw in the database."""
    import datetime as dt

    from api.models import ApiToken, User, utcnow
    from api.security import new_token
    from tests.api.conftest import load_test_tree
    from tests.api.helpers import insert_finished_draw

    url = f"sqlite:///{tmp_path / 'signed-in.db'}"
    upgrade(url)
    app = create_app(Settings(database_url=url))
    load_test_tree(app)
    insert_finished_draw(app, agency="SJ130102")
    tokens = {}
    with app.state.write_sessions() as s:
        for role in ("planner", "leader", "admin"):
            user = User(username=role, role=role, password_hash="!", agency_id="SJ130000")
            s.add(user)
            s.flush()
            raw, digest = new_token()
            s.add(ApiToken(user_id=user.id, token_hash=digest, expires_at=utcnow() + dt.timedelta(hours=1)))
            tokens[role] = raw
        s.commit()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    signed_in = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in ("/api/logout", "/api/login", "/api/health", "/api/notices/lookup", "/api/recusals"):
            continue
        if operation.path.startswith("/api/public"):
            continue
        signed_in += 1
        for role, token in tokens.items():
            signed_in_fuzz(operation, role, token, failures)
    assert signed_in >= 25
    assert failures == []
