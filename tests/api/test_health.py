"""The service starts on an empty database (migrations run) and answers."""

from __future__ import annotations

from sqlalchemy import inspect

from api.audit_store import append, verify


def test_health_and_schema(client, app):
    assert client.get("/api/health").json() == {"status": "ok"}
    tables = set(inspect(app.state.engine).get_table_names())
    assert {"users", "registries", "plans", "draws", "visits", "audit_records", "alembic_version"} <= tables


def test_audit_chain_in_the_database(app):
    with app.state.write_sessions() as s:
        append(s, "note", {"x": 1}, "t")
        append(s, "note", {"x": 2}, "t")
        s.commit()
    with app.state.read_sessions() as s:
        report = verify(s)
    assert report.ok and report.count == 2
    with app.state.write_sessions() as s:
        from api.models import AuditRecordRow

        row = s.get(AuditRecordRow, 0)
        row.data = '{"x":9}'
        s.commit()
    with app.state.read_sessions() as s:
        report = verify(s)
    assert not report.ok and report.first_bad == 0
