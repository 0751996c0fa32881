"""Service fixtures: a fresh database per test on SQLite and on the real PostgreSQL of this
machine (127.0.0.1:5432, trust auth) with the test agency tree (``data/agencies_tree.csv``:
Hebei market province SJ130000 > city SJ130100 > counties SJ130102, SJ130104, SJ130123, and
the ecology line ST…), a TestClient, and users with real tokens (province accounts by default)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.main import create_app
from api.migrate import upgrade
from api.models import User
from api.security import hash_password
from api.settings import Settings

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TREE = Path(__file__).resolve().parent / "data" / "agencies_tree.csv"
PROVINCE, CITY, COUNTY, OTHER_COUNTY, ECOLOGY = "SJ130000", "SJ130100", "SJ130102", "SJ130104", "ST130000"


def _pg_available() -> bool:
    try:
        with create_engine(PG_ADMIN).connect() as c:
            c.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """A new, empty database; PostgreSQL must be up (CI starts it), it is not skipped."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    if not _pg_available():
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (start it: pg_ctlcluster ... main start)")
    name = f"ri_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def app(database_url):
    upgrade(database_url)  # the lifespan does it too; here so tests may use the app without a client
    app = create_app(Settings(database_url=database_url))
    load_test_tree(app)
    return app


def load_test_tree(app) -> None:
    from api.agencies import load_tree

    with app.state.write_sessions() as s:
        load_tree(s, TREE)
        s.commit()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def make_user(
    app, username: str, role: str, password: str = "correct horse battery", agency: str = PROVINCE
) -> None:
    with app.state.write_sessions() as s:
        s.add(User(username=username, role=role, agency_id=agency, password_hash=hash_password(password)))
        s.commit()


def login(client: TestClient, username: str, password: str = "correct horse battery") -> dict:
    r = client.post("/api/login", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def planner(app, client) -> dict:
    make_user(app, "planner1", "planner")
    return login(client, "planner1")


@pytest.fixture
def auditor(app, client) -> dict:
    make_user(app, "auditor1", "auditor")
    return login(client, "auditor1")


@pytest.fixture
def leader(app, client) -> dict:
    make_user(app, "leader1", "leader")
    return login(client, "leader1")
