"""``randinspect demo --load`` fills the configured database through the service's own API:
the sample registry, a drawn plan, visits with notice codes, a published draw with its public
rows, and an audit chain that verifies — on SQLite and on PostgreSQL. A second run adds nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from api import audit_store
from api.demo_load import DEMO_BEACON, DEMO_SOURCE, REGISTRY_NAME
from api.main import create_app
from api.models import (
    ApiToken,
    AuditRecordRow,
    CommitmentRecord,
    DrawRecord,
    PlanRecord,
    PublicRow,
    RegistryFile,
    RegistryRecord,
    SelectionRecord,
    StratumRecord,
    User,
    VisitRecord,
)
from api.settings import Settings, get_settings
from randinspect import cli
from scheduler.seed import derive_seed
from tests.api.conftest import database_url  # noqa: F401  (SQLite and PostgreSQL)

SAMPLE_VISITS = range(1000, 1700)  # plan.yaml's header: about 1329 visits (the seed comes from the demo numbers)


def _count(s: Session, model, *where) -> int:
    return s.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def configured(database_url, monkeypatch):  # noqa: F811
    """The database configured the way a user does it: RANDINSPECT_DATABASE_URL."""
    monkeypatch.setenv("RANDINSPECT_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_demo_load_fills_the_service_and_a_second_run_adds_nothing(configured, capsys):
    assert cli.main(["demo", "--load"]) == 0
    out = capsys.readouterr().out
    assert "sample county loaded into" in out
    assert "no account is created: run `randinspect user add NAME --role admin --agency SJ130000`" in out

    engine = create_engine(configured)
    try:
        with Session(engine) as s:
            (reg,) = s.scalars(select(RegistryRecord)).all()
            assert reg.name == REGISTRY_NAME and reg.created_by == "randinspect-demo"
            names = {f.filename for f in s.scalars(select(RegistryFile).where(RegistryFile.registry_id == reg.id))}
            assert {"agencies.csv", "enterprises.csv", "inspectors.xlsx"} <= names and "plan.yaml" not in names
            assert (reg.summary["enterprises"], reg.summary["inspectors"]) == (30_000, 194)
            (plan,) = s.scalars(select(PlanRecord)).all()
            assert plan.registry_id == reg.id and plan.status == "drawn" and plan.spec["quarter"] == "2026Q1"
            (draw,) = s.scalars(select(DrawRecord)).all()
            (commitment,) = s.scalars(select(CommitmentRecord)).all()
            seed = derive_seed(commitment.commitment, DEMO_BEACON)[0]
            assert (draw.plan_id, draw.status, draw.seed, draw.seed_kind) == (plan.id, "done", seed, "public")
            assert commitment.source == DEMO_SOURCE and draw.commitment_id == commitment.id and plan.approved_at
            assert draw.published_at is not None and draw.manifest["seed"] == seed and draw.report_html
            visits = s.scalars(select(VisitRecord).where(VisitRecord.draw_id == draw.id)).all()
            assert len(visits) in SAMPLE_VISITS
            assert all(len(v.notice_code) == 10 and v.notice_code in v.notice_html for v in visits)
            assert len({v.notice_code for v in visits}) == len(visits)
            assert _count(s, SelectionRecord, SelectionRecord.draw_id == draw.id) >= len(visits)
            assert _count(s, StratumRecord, StratumRecord.draw_id == draw.id) > 0
            assert _count(s, PublicRow, PublicRow.draw_id == draw.id) >= len(visits)
            kinds = [k for (k,) in s.execute(select(AuditRecordRow.kind).order_by(AuditRecordRow.seq))]
            assert kinds[0] == "import" and "commit" in kinds and "draw" in kinds and kinds[-1] == "publication", kinds
            report = audit_store.verify(s)
            assert report.ok and report.count == len(kinds), report.message
            # the temporary planner and its token are gone
            assert _count(s, User) == 0 and _count(s, ApiToken) == 0
            example = min(visits, key=lambda v: v.visit_id)
            assert f"{example.credit_code}  {example.notice_code}" in out  # a look-up pair is printed
            head = report.head
            public_rows = _count(s, PublicRow)

        # The served app shows it: public rows, public draw, and the enterprise's own notice.
        with TestClient(create_app(Settings(database_url=configured))) as client:
            page = client.get("/api/public/results", params={"limit": 5}).json()
            assert page["total"] == public_rows
            assert [d["seed"] for d in client.get("/api/public/draws").json()] == [seed]
            r = client.post("/api/notices/lookup", json={"credit_code": example.credit_code, "notice_code": example.notice_code})
            assert r.status_code == 200, r.text

        # Again: nothing added, the same summary.
        assert cli.main(["demo", "--load"]) == 0
        again = capsys.readouterr().out
        assert "already loaded" in again and f"{example.credit_code}  {example.notice_code}" in again
        with Session(engine) as s:
            assert _count(s, RegistryRecord) == 1 and _count(s, DrawRecord) == 1
            assert _count(s, VisitRecord) == len(visits)
            assert audit_store.verify(s).head == head
    finally:
        engine.dispose()


def test_nothing_personal_of_the_sample_registry_is_public(configured):
    """Every legal representative id, relative id, inspector id and name of the sample county is
    absent from the public results (JSON pages and CSV) and the published draws."""
    from data import sample_dir
    from scheduler.importer import load_registry

    assert cli.main(["demo", "--load"]) == 0
    reg = load_registry(sample_dir())
    secrets = {x for x in reg.enterprises["legal_rep_id"] if x}
    secrets |= {r for ins in reg.inspectors.values() for r in ins.relatives_ids}
    secrets |= {ins.inspector_id for ins in reg.inspectors.values()}
    secrets |= {ins.certificate_no for ins in reg.inspectors.values() if ins.certificate_no}
    names = {ins.name for ins in reg.inspectors.values()}
    assert len(secrets) > 30_000 and any(ins.relatives_ids for ins in reg.inspectors.values())
    with TestClient(create_app(Settings(database_url=configured))) as client:
        texts = [client.get("/api/public/results.csv").text, client.get("/api/public/draws").text]
        total = client.get("/api/public/results", params={"limit": 1}).json()["total"]
        for offset in range(0, total, 500):
            texts.append(client.get("/api/public/results", params={"limit": 500, "offset": offset}).text)
        texts.append(client.get("/public").text)
    assert total >= SAMPLE_VISITS.start
    blob = "\n".join(texts)
    leaked = [s for s in secrets if s in blob]
    assert leaked == []
    cells = {c.strip('"') for text in texts[:1] for line in text.splitlines() for c in line.split(",")}
    assert not names & cells


def test_demo_load_accounts(configured, capsys):
    """``--accounts``: a province, a city and a county account of each role, random passwords
    printed once, each signs in and sees its own scope; a second run changes no password."""
    assert cli.main(["demo", "--accounts"]) == 2  # only with --load
    assert cli.main(["demo", "--load", "--accounts"]) == 0
    out = capsys.readouterr().out
    names = {f"demo-{level}-{role}" for level in ("province", "city", "county") for role in ("planner", "leader", "auditor", "admin")}
    passwords = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in names:
            passwords[parts[0]] = parts[3]
    assert set(passwords) == names and len(set(passwords.values())) == 12
    with TestClient(create_app(Settings(database_url=configured))) as client:
        for name, password in passwords.items():
            r = client.post("/api/login", data={"username": name, "password": password})
            assert r.status_code == 200, name
        county = client.post("/api/login", data={"username": "demo-county-auditor", "password": passwords["demo-county-auditor"]})
        headers = {"Authorization": f"Bearer {county.json()['access_token']}"}
        assert client.get("/api/plans", headers=headers).json() == []  # the demo plan is the province's
        province = client.post("/api/login", data={"username": "demo-province-auditor", "password": passwords["demo-province-auditor"]})
        headers = {"Authorization": f"Bearer {province.json()['access_token']}"}
        assert len(client.get("/api/plans", headers=headers).json()) == 1
    assert cli.main(["demo", "--load", "--accounts"]) == 0
    again = capsys.readouterr().out
    assert again.count("(existed: unchanged)") == 12 and not any(p in again for p in passwords.values())
