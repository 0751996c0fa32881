"""Migrations: idempotent, and safe when several workers start on an empty database at once."""

from __future__ import annotations

import threading

from sqlalchemy import create_engine, inspect, text

from api.migrate import upgrade


def test_concurrent_upgrades_apply_the_schema_once(database_url):
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run():
        try:
            barrier.wait()
            upgrade(database_url)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = create_engine(database_url)
    with engine.connect() as c:
        assert "audit_head" in inspect(c).get_table_names()
        assert c.execute(text("SELECT count(*) FROM audit_head")).scalar() == 1
        assert c.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


def test_0004_keeps_existing_data_out_of_every_scope_until_adopted(database_url, monkeypatch):
    """Data made before the agency tree is kept, in no scope (its accounts cannot sign in), until
    ``randinspect agencies adopt`` gives it to an agency of the tree."""
    from alembic import command
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.migrate import alembic_config
    from api.security import hash_password
    from api.settings import Settings, get_settings
    from randinspect import cli
    from tests.api.conftest import TREE

    command.upgrade(alembic_config(database_url), "0003")
    engine = create_engine(database_url)
    with engine.begin() as c:
        c.execute(
            text("INSERT INTO users (username, role, password_hash, active, created_at) VALUES ('old', 'planner', :h, :t, CURRENT_TIMESTAMP)"),
            {"h": hash_password("correct horse battery"), "t": True},
        )
        c.execute(text("INSERT INTO registries (name, created_at, created_by, summary) VALUES ('old', CURRENT_TIMESTAMP, 'old', '{}')"))
    upgrade(database_url)
    with engine.connect() as c:
        assert c.execute(text("SELECT agency_id FROM users")).all() == [(None,)]
        assert c.execute(text("SELECT agency_id FROM registries")).all() == [(None,)]
    login = {"username": "old", "password": "correct horse battery"}
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        assert client.post("/api/login", data=login).status_code == 401
    monkeypatch.setenv("RANDINSPECT_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        assert cli.main(["agencies", "adopt", "SJ130000"]) == 2  # no tree yet: unknown agency
        assert cli.main(["agencies", "load", str(TREE)]) == 0
        assert cli.main(["agencies", "adopt", "SJ130000"]) == 0
    finally:
        get_settings.cache_clear()
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        r = client.post("/api/login", data=login)
        assert r.status_code == 200
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert [x["name"] for x in client.get("/api/registries", headers=headers).json()] == ["old"]
    engine.dispose()
