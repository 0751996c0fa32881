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
