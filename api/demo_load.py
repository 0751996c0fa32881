"""``randinspect demo --load``: the bundled sample county, loaded into the service's database.

A new user who runs ``randinspect demo --load`` and then ``randinspect serve`` finds a filled
service: the sample county's agencies in the agency tree, the sample registry, a plan made from
its ``plan.yaml``, approved, its public commitment, the OFFICIAL draw made with the demo's fixed
numbers (``DEMO_BEACON``, named as a demonstration, not a lottery) with a notice and a notice
code per visit, and its publication.

Nothing here writes those rows itself (except the tree's missing sample agencies). The app is
driven in-process (FastAPI's TestClient) with a temporary planner and a temporary leader (and
tokens) created directly in the database: upload the registry, create the plan, approve it,
commit, draw it with the numbers (polling until the background job is done), publish it — so
exactly what the API stores is stored, audit records included. The temporary accounts and their
tokens are deleted afterwards (the audit records keep their names as the actors).

``--accounts`` also creates a province, a city and a county account of each role (planner,
leader, auditor, admin) with random passwords, printed once.

Running it again does not load a second copy: when a published draw of the demo seed on the demo
registry is already in the database, it says so and prints the same summary.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import delete, select

from api.db import make_engine, session_factory
from api.migrate import upgrade
from api.models import ApiToken, DrawRecord, PlanRecord, RegistryRecord, User, VisitRecord, utcnow
from api.security import hash_password, new_token
from api.settings import Settings, get_settings
from data import sample_dir

REGISTRY_NAME = "示例县（正定县）2026Q1 · randinspect demo"
DEMO_SOURCE = "演示用固定号码（randinspect demo，不是真实开奖）"
DEMO_BEACON = "3 11 17 22 28 31; 9"
DEMO_AGENCIES = {"province": "SJ130000", "city": "SJ130100", "county": "SJ130123"}
DEMO_ROLES = ("planner", "leader", "auditor", "admin")
PLAN_NAME = "正定县 2026年第一季度双随机抽查计划（示例）"
ACTOR = "randinspect-demo"
SKIP = {"plan.yaml", "README.md", "traps.json"}  # not registry tables
DRAW_TIMEOUT = 900.0  # seconds; the sample county draws in well under a minute


class DemoLoadError(RuntimeError):
    """A step of the load was refused by the service (the message names the step)."""


@dataclass
class DemoLoad:
    """What is in the database after the load."""

    database_url: str
    registry_id: int
    plan_id: int
    draw_id: int
    visits: int
    public_rows: int
    audit_records: int
    audit_head: str
    already_loaded: bool
    examples: list[dict] = field(default_factory=list)  # credit_code, notice_code, enterprise, date, visit_id
    seconds: float = 0.0
    accounts: list[tuple[str, str, str, str]] = field(default_factory=list)  # name, role, agency, password ("" if it existed)


def plan_spec(plan_file: Path) -> dict:
    """The plan file as JSON data (dates as ISO text, as the API takes them)."""
    return json.loads(json.dumps(yaml.safe_load(plan_file.read_text(encoding="utf-8")), default=str))


def _existing(session) -> tuple[int, int, int] | None:
    """(registry, plan, draw) of a published demo draw already in the database, if any."""
    row = session.execute(
        select(RegistryRecord.id, PlanRecord.id, DrawRecord.id)
        .join(PlanRecord, PlanRecord.registry_id == RegistryRecord.id)
        .join(DrawRecord, DrawRecord.plan_id == PlanRecord.id)
        .where(
            RegistryRecord.name == REGISTRY_NAME,
            DrawRecord.seed_kind == "public",
            DrawRecord.status == "done",
            DrawRecord.published_at.is_not(None),
        )
        .order_by(DrawRecord.id)
    ).first()
    return tuple(row) if row else None


def _sample_tree(write_sessions, sample: Path) -> None:
    """The sample county's agencies in the agency tree: missing ones added; one that is there
    with other facts is an error (the demo never changes a tree)."""
    from api.agencies import read_agencies
    from api.models import AgencyRecord
    from scheduler.tables import find_table

    agencies = read_agencies(find_table(sample, "agencies"))
    with write_sessions() as s:
        for a in agencies.values():
            row = s.get(AgencyRecord, a.agency_id)
            facts = (a.name, a.department, a.level.name.lower(), a.parent_id, a.region_code)
            if row is None:
                s.add(
                    AgencyRecord(
                        agency_id=a.agency_id, name=a.name, department=a.department, level=facts[2],
                        parent_id=a.parent_id, region_code=a.region_code,
                    )
                )
            elif (row.name, row.department, row.level, row.parent_id, row.region_code) != facts:
                raise DemoLoadError(f"agency {a.agency_id} of the agency tree differs from the sample county's")
        s.commit()


def _temporary_account(write_sessions, role: str = "planner") -> tuple[int, str]:
    """An account of the sample's province agency with an unusable password and a one-hour
    token: (user id, token)."""
    with write_sessions() as s:
        actor = ACTOR if role == "planner" else f"{ACTOR}-{role}"
        taken = set(s.scalars(select(User.username).where(User.username.startswith(actor))))
        name = actor if actor not in taken else f"{actor}-{secrets.token_hex(4)}"
        user = User(
            username=name,
            role=role,
            agency_id=DEMO_AGENCIES["province"],
            password_hash=hash_password(secrets.token_urlsafe(32)),
            active=True,
        )
        s.add(user)
        s.flush()
        raw, digest = new_token()
        s.add(ApiToken(user_id=user.id, token_hash=digest, expires_at=utcnow() + dt.timedelta(hours=1)))
        s.commit()
        return user.id, raw


def _drop_account(write_sessions, user_id: int) -> None:
    with write_sessions() as s:
        s.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
        s.execute(delete(User).where(User.id == user_id))
        s.commit()


def _check(response, step: str, expected: int) -> dict:
    if response.status_code != expected:
        raise DemoLoadError(f"{step}: HTTP {response.status_code}: {response.text[:2000]}")
    return response.json()


def _drive(
    client, headers: dict, leader: dict, sample: Path, say: Callable[[str], None]
) -> tuple[int, int, int]:
    """Upload, plan, approve, commit, draw, publish through the API; (registry id, plan id, draw id)."""
    files = [
        ("files", (p.name, p.read_bytes(), "application/octet-stream"))
        for p in sorted(sample.iterdir())
        if p.is_file() and p.name not in SKIP
    ]
    reg = _check(
        client.post("/api/registries", data={"name": REGISTRY_NAME}, files=files, headers=headers), "upload registry", 201
    )
    say(f"registry {reg['id']} uploaded: {', '.join(f['name'] for f in reg['files'])}")
    plan = _check(
        client.post(
            "/api/plans",
            json={"registry_id": reg["id"], "name": PLAN_NAME, "spec": plan_spec(sample / "plan.yaml")},
            headers=headers,
        ),
        "create plan",
        201,
    )
    say(f"plan {plan['id']} created from plan.yaml ({len(plan['spec']['tasks'])} tasks)")
    _check(client.post(f"/api/plans/{plan['id']}/approve", headers=leader), "approve plan", 200)
    commitment = _check(
        client.post(f"/api/plans/{plan['id']}/commitment", json={"source": DEMO_SOURCE}, headers=headers),
        "commitment",
        201,
    )
    say(f"plan approved; commitment {commitment['commitment']} ({DEMO_SOURCE})")
    draw = _check(
        client.post(f"/api/plans/{plan['id']}/draws", json={"beacon": DEMO_BEACON}, headers=headers), "draw", 202
    )
    say(f"draw {draw['id']} started (numbers {DEMO_BEACON!r}, seed {draw['seed'][:16]}…); waiting for it …")
    deadline = time.monotonic() + DRAW_TIMEOUT
    while draw["status"] == "running":
        if time.monotonic() > deadline:
            raise DemoLoadError(f"draw {draw['id']} still running after {DRAW_TIMEOUT:.0f} s (stage {draw['stage']})")
        time.sleep(0.5)
        draw = _check(client.get(f"/api/draws/{draw['id']}", headers=headers), "poll draw", 200)
    if draw["status"] != "done":
        raise DemoLoadError(f"draw {draw['id']} {draw['status']}: {draw.get('error', '')}")
    pub = _check(
        client.post(f"/api/draws/{draw['id']}/publish", json={"confirm": True}, headers=leader), "publish", 200
    )
    say(f"draw {draw['id']} done and published ({pub['public_rows']} public rows)")
    return reg["id"], plan["id"], draw["id"]


def make_accounts(write_sessions) -> list[tuple[str, str, str, str]]:
    """``demo-<level>-<role>`` for the sample's province, city and county and each role, with
    random passwords: (name, role, agency, password); an existing account is left alone ("")."""
    out = []
    with write_sessions() as s:
        for level, agency in DEMO_AGENCIES.items():
            for role in DEMO_ROLES:
                name = f"demo-{level}-{role}"
                if s.scalar(select(User.id).where(User.username == name)) is not None:
                    out.append((name, role, agency, ""))
                    continue
                password = secrets.token_urlsafe(12)
                s.add(User(username=name, role=role, agency_id=agency, password_hash=hash_password(password), active=True))
                out.append((name, role, agency, password))
        s.commit()
    return out


def load_demo(
    database_url: str | None = None,
    *,
    examples: int = 3,
    say: Callable[[str], None] = lambda _m: None,
    accounts: bool = False,
) -> DemoLoad:
    """Load the sample county into ``database_url`` (default: the configured database),
    migrating it first. Idempotent: a second call finds the published demo draw and loads nothing."""
    from sqlalchemy import func

    from api import audit_store
    from api.main import create_app
    from api.models import PublicRow

    t0 = time.perf_counter()
    settings = get_settings()
    url = database_url or settings.database_url
    upgrade(url)
    sample = sample_dir()
    engine = make_engine(url)
    try:
        _sample_tree(session_factory(engine, write=True), sample)
        with session_factory(engine)() as s:
            found = _existing(s)
        if found is None:
            with warnings.catch_warnings():  # starlette's note about httpx, irrelevant in-process
                warnings.simplefilter("ignore", DeprecationWarning)
                from fastapi.testclient import TestClient
            app = create_app(Settings(**{**settings.model_dump(), "database_url": url}))
            user_id, token = _temporary_account(app.state.write_sessions, "planner")
            leader_id, leader_token = _temporary_account(app.state.write_sessions, "leader")
            try:
                with TestClient(app) as client:
                    found = _drive(
                        client,
                        {"Authorization": f"Bearer {token}"},
                        {"Authorization": f"Bearer {leader_token}"},
                        sample,
                        say,
                    )
            finally:
                _drop_account(app.state.write_sessions, user_id)
                _drop_account(app.state.write_sessions, leader_id)
            already = False
        else:
            already = True
        registry_id, plan_id, draw_id = found
        with session_factory(engine)() as s:
            n_visits = s.scalar(select(func.count()).select_from(VisitRecord).where(VisitRecord.draw_id == draw_id))
            n_public = s.scalar(select(func.count()).select_from(PublicRow).where(PublicRow.draw_id == draw_id))
            rows = s.execute(
                select(VisitRecord.visit_id, VisitRecord.credit_code, VisitRecord.notice_code, VisitRecord.enterprise, VisitRecord.date)
                .where(VisitRecord.draw_id == draw_id)
                .order_by(VisitRecord.visit_id)
                .limit(examples)
            ).all()
            report = audit_store.verify(s)
        made = make_accounts(session_factory(engine, write=True)) if accounts else []
        if not report.ok:
            raise DemoLoadError(f"the audit record does not verify: {report.message}")
        return DemoLoad(
            database_url=url,
            registry_id=registry_id,
            plan_id=plan_id,
            draw_id=draw_id,
            visits=int(n_visits or 0),
            public_rows=int(n_public or 0),
            audit_records=report.count,
            audit_head=report.head,
            already_loaded=already,
            examples=[
                {"visit_id": r.visit_id, "credit_code": r.credit_code, "notice_code": r.notice_code, "enterprise": r.enterprise, "date": r.date.isoformat()}
                for r in rows
            ],
            seconds=time.perf_counter() - t0,
            accounts=made,
        )
    finally:
        engine.dispose()


def summary(load: DemoLoad, shown_url: str) -> str:
    """What was loaded and how to use it (printed by ``randinspect demo --load``)."""
    head = (
        f"the sample county is already loaded in {shown_url} (nothing added)"
        if load.already_loaded
        else f"sample county loaded into {shown_url} in {load.seconds:.1f}s"
    )
    lines = [
        head,
        f"  registry {load.registry_id}: {REGISTRY_NAME}",
        f"  plan {load.plan_id}: {PLAN_NAME} (drawn)",
        f"  draw {load.draw_id}: official draw of the public commitment ({DEMO_SOURCE}: {DEMO_BEACON}), "
        f"{load.visits} visits with notices and notice codes, published ({load.public_rows} public rows)",
        f"  audit record intact: {load.audit_records} records, head {load.audit_head}",
        "next:",
        "  randinspect serve                                  # then open http://127.0.0.1:8000/ and /docs",
        *(
            [
                "accounts (passwords shown once; an account that existed keeps its password):",
                *[f"  {n:<24} {r:<8} {a:<9} {p or '(existed: unchanged)'}" for n, r, a, p in load.accounts],
            ]
            if load.accounts
            else [
                "  no account is created: run `randinspect user add NAME --role admin --agency SJ130000` "
                "(or demo --load --accounts) to sign in"
            ]
        ),
        "  the public results need no account: GET /api/public/results, /api/public/draws",
        "enterprise look-up (POST /api/notices/lookup, or the enterprise page) — credit code + notice code:",
    ]
    lines += [
        f"  {e['credit_code']}  {e['notice_code']}   {e['visit_id']} on {e['date']}  {e['enterprise']}" for e in load.examples
    ]
    return "\n".join(lines)
