"""Registries: upload (validated by the importer, stored byte for byte, recorded), read, roles.

Also the helpers the plan, draw and visit tests share: a bearer token made straight in the
database (no dependence on the login endpoint), a generated registry uploaded through the API,
a plan made from its plan.yaml, and waiting for a draw.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import time
from functools import cache
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from api.models import ApiToken, AuditRecordRow, RegistryFile, RegistryRecord, User, utcnow
from api.security import new_token
from scheduler.importer import load_registry

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample_county"
_TMP = tempfile.TemporaryDirectory(prefix="randinspect-registry-tests-")

# ---------------------------------------------------------------- shared helpers


def bearer(app, username: str, role: str) -> dict:
    """Authorization header of a new user with a token inserted directly in the database."""
    raw, digest = new_token()
    with app.state.write_sessions() as s:
        user = User(username=username, role=role, password_hash="!", agency_id="SJ130000")
        s.add(user)
        s.flush()
        s.add(ApiToken(user_id=user.id, token_hash=digest, expires_at=utcnow() + dt.timedelta(hours=1)))
        s.commit()
    return {"Authorization": f"Bearer {raw}"}


@cache
def generated(enterprises: int = 2000, inspectors: int = 60, seed: int = 4) -> Path:
    """A generated registry folder with its plan.yaml (once per process and arguments).
    Seed 4 draws; seed 3 is infeasible under any draw seed (an ecology inspector is missing)."""
    from data.generate import generate_registry

    return generate_registry(
        Path(_TMP.name) / f"{enterprises}-{inspectors}-{seed}",
        enterprises=enterprises,
        inspectors=inspectors,
        seed=seed,
    )


def registry_files(folder: Path) -> list[tuple[str, bytes]]:
    return [
        (p.name, p.read_bytes())
        for p in sorted(folder.iterdir())
        if p.suffix in (".csv", ".xlsx", ".parquet")
    ]


def upload(client, headers: dict, files: list[tuple[str, bytes]], name: str = "test registry"):
    return client.post(
        "/api/registries",
        data={"name": name},
        files=[("files", (filename, data)) for filename, data in files],
        headers=headers,
    )


def plan_spec(folder: Path) -> dict:
    """plan.yaml as JSON data (dates as ISO text, as a JSON plan file has them)."""
    return json.loads(
        json.dumps(yaml.safe_load((folder / "plan.yaml").read_text(encoding="utf-8")), default=str)
    )


def upload_generated(client, headers: dict, **kwargs) -> tuple[int, dict]:
    """Upload a generated registry; (registry id, its plan spec)."""
    folder = generated(**kwargs)
    r = upload(client, headers, registry_files(folder), name=f"generated {kwargs}")
    assert r.status_code == 201, r.text
    return r.json()["id"], plan_spec(folder)


def make_plan(client, headers: dict, registry_id: int, spec: dict, name: str = "2026Q1 plan") -> dict:
    r = client.post(
        "/api/plans", json={"registry_id": registry_id, "name": name, "spec": spec}, headers=headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def wait_for_draw(client, headers: dict, draw_id: int, timeout: float = 60) -> dict:
    """Poll the draw until it is no longer running; the stages it was seen in are in 'seen'."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        r = client.get(f"/api/draws/{draw_id}", headers=headers)
        assert r.status_code == 200, r.text
        draw = r.json()
        if not seen or seen[-1] != draw["stage"]:
            seen.append(draw["stage"])
        if draw["status"] != "running":
            return {**draw, "seen": seen}
        assert time.monotonic() < deadline, f"draw {draw_id} still running after {timeout}s: {draw}"
        time.sleep(0.05)


def audit_records(app, kind: str) -> list[dict]:
    with app.state.read_sessions() as s:
        rows = s.scalars(
            select(AuditRecordRow).where(AuditRecordRow.kind == kind).order_by(AuditRecordRow.seq)
        )
        return [{"actor": r.actor, **json.loads(r.data)} for r in rows]


# ---------------------------------------------------------------- tests


@pytest.fixture
def as_planner(app, client) -> dict:
    return bearer(app, "planner1", "planner")


@pytest.fixture
def as_auditor(app, client) -> dict:
    return bearer(app, "auditor1", "auditor")


def test_upload_the_sample_county(app, client, as_planner, as_auditor):
    files = [(p.name, p.read_bytes()) for p in sorted(SAMPLE.iterdir()) if p.suffix in (".csv", ".xlsx")]
    r = upload(client, as_planner, files, name="正定县 2026Q1")
    assert r.status_code == 201, r.text
    body = r.json()
    expected = load_registry(SAMPLE)
    summary = body["summary"]
    assert summary["agencies"] == len(expected.agencies)
    assert summary["enterprises"] == len(expected.enterprises) == 30_000
    assert summary["inspectors"] == len(expected.inspectors)
    assert summary["conflicts"] == len(expected.conflicts)
    assert summary["history"] == len(expected.history)
    assert summary["leave"] == len(expected.leave)
    assert summary["items"] == len(expected.items)
    assert sum(summary["enterprises_by_risk_class"].values()) == 30_000
    assert summary["departments"] == ["ecology", "market"]
    assert body["name"] == "正定县 2026Q1" and body["created_by"] == "planner1"
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in files}
    assert {f["name"]: f["sha256"] for f in body["files"]} == hashes

    # stored byte for byte, and the import is in the audit record with every file's hash
    with app.state.read_sessions() as s:
        stored = {f.filename: f.content for f in s.scalars(select(RegistryFile))}
    assert stored == dict(files)
    (record,) = audit_records(app, "import")
    assert record["actor"] == "planner1" and record["registry_id"] == body["id"]
    assert {f["name"]: f["sha256"] for f in record["files"]} == hashes

    # planners and auditors read it
    for who in (as_planner, as_auditor):
        one = client.get(f"/api/registries/{body['id']}", headers=who)
        assert one.status_code == 200 and one.json() == body
        assert client.get("/api/registries", headers=who).json() == [body]


def test_chinese_file_names_and_roles(app, client, as_planner, as_auditor):
    files = dict(registry_files(generated()))
    files["检查对象名录库.csv"] = files.pop("enterprises.csv")
    r = upload(client, as_planner, sorted(files.items()))
    assert r.status_code == 201, r.text
    assert r.json()["summary"]["enterprises"] == 2000
    assert r.json()["summary"]["tables"]["enterprises"] == "检查对象名录库.csv"
    # an auditor may not upload, nobody unsigned may read; both refusals are recorded
    assert upload(client, as_auditor, sorted(files.items())).status_code == 403
    assert client.get("/api/registries").status_code == 401
    assert client.get("/api/registries/1", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    with app.state.read_sessions() as s:
        assert s.scalar(select(RegistryRecord.id).where(RegistryRecord.id == 2)) is None


def test_broken_files_name_file_row_and_column(app, client, as_planner):
    files = dict(registry_files(generated()))
    ent = files["enterprises.csv"].decode("utf-8").splitlines(keepends=True)
    header = ent[0].rstrip("\n").split(",")
    code_col, risk_col = header.index("credit_code"), header.index("risk_class")
    row = ent[4].rstrip("\n").split(",")  # spreadsheet row 5
    good = row[code_col]
    row[code_col] = good[:17] + ("0" if good[17] != "0" else "1")  # a wrong check character
    row[risk_col] = "E"
    ent[4] = ",".join(row) + "\n"
    files["enterprises.csv"] = "".join(ent).encode("utf-8")
    ins = files["inspectors.csv"].decode("utf-8").splitlines(keepends=True)
    header = ins[0].rstrip("\n").split(",")
    agency_col = header.index("agency_id")
    row = ins[2].rstrip("\n").split(",")  # spreadsheet row 3
    row[agency_col] = "NO-SUCH-AGENCY"
    ins[2] = ",".join(row) + "\n"
    files["inspectors.csv"] = "".join(ins).encode("utf-8")

    r = upload(client, as_planner, sorted(files.items()))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["detail"] == "bad input"
    where = {(p["file"], p["row"], p["column"]) for p in body["problems"]}
    assert ("enterprises.csv", 5, "credit_code") in where
    assert ("enterprises.csv", 5, "risk_class") in where
    assert ("inspectors.csv", 3, "agency_id") in where
    texts = " | ".join(p["text"] for p in body["problems"])
    assert any(
        p["text"].startswith("enterprises.csv，第 5 行，列 credit_code：") and "的校验位为" in p["text"]
        and "GB 32100-2015" in p["text"]
        for p in body["problems"]
    )
    assert "NO-SUCH-AGENCY" in texts
    # nothing is stored, nothing recorded
    assert client.get("/api/registries", headers=as_planner).json() == []
    assert audit_records(app, "import") == []


def test_missing_tables_and_file_names(client, as_planner):
    files = dict(registry_files(generated()))
    # a required table missing
    r = upload(client, as_planner, [(k, v) for k, v in files.items() if k != "inspectors.csv"])
    assert r.status_code == 422
    (problem,) = r.json()["problems"]
    assert problem["file"] == "inspectors.csv" and "缺少必需的表 inspectors" in problem["message"]
    # a file that is no table, the same file twice, a path: every problem at once
    r = upload(
        client,
        as_planner,
        [
            ("notes.txt", b"x"),
            ("agencies.csv", files["agencies.csv"]),
            ("agencies.csv", files["agencies.csv"]),
            ("../../etc/enterprises.exe", b"x"),
        ],
    )
    assert r.status_code == 422
    problems = {p["file"]: p["message"] for p in r.json()["problems"]}
    assert "not a registry table" in problems["notes.txt"]
    assert "uploaded twice" in problems["agencies.csv"]
    assert "not a registry table" in problems["enterprises.exe"]
    # two files for one table
    both = {**files, "检查对象名录库.csv": files["enterprises.csv"]}
    r = upload(client, as_planner, sorted(both.items()))
    assert r.status_code == 422 and "表 enterprises 有两个文件" in r.text
    # no name, no files: request validation
    assert client.post("/api/registries", data={"name": "x"}, headers=as_planner).status_code == 422
    assert upload(client, as_planner, sorted(files.items()), name="").status_code == 422
    assert upload(client, as_planner, sorted(files.items()), name="a\x00b").status_code == 422


def test_unknown_and_bad_ids(client, as_planner):
    assert client.get("/api/registries/7", headers=as_planner).status_code == 404
    assert client.get("/api/registries/7", headers=as_planner).json()["detail"] == "registry 7 not found"
    for bad in ("0", "-1", "abc", str(2**63)):
        assert client.get(f"/api/registries/{bad}", headers=as_planner).status_code == 422
    assert client.get("/api/registries?limit=0", headers=as_planner).status_code == 422


def test_a_mapping_file_is_uploaded_with_the_registry(app, client, as_planner):
    """mapping.yaml travels with the tables: validated, stored byte for byte, in the import record."""
    files = dict(registry_files(generated()))
    lines = files["enterprises.csv"].decode("utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    header[header.index("credit_code")] = "主体身份代码"
    lines[0] = ",".join(header) + "\n"
    files["enterprises.csv"] = "".join(lines).encode("utf-8")
    r = upload(client, as_planner, sorted(files.items()))
    assert r.status_code == 422 and "credit_code" in r.text  # not understood without the mapping
    bad = {**files, "mapping.yaml": "columns: {enterprises: {code: 主体身份代码}}".encode()}
    r = upload(client, as_planner, sorted(bad.items()))
    assert r.status_code == 422
    assert [(p["file"], p["column"]) for p in r.json()["problems"]] == [("mapping.yaml", "columns.enterprises.code")]
    files["mapping.yaml"] = "columns: {enterprises: {credit_code: 主体身份代码}}\n".encode()
    r = upload(client, as_planner, sorted(files.items()))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["summary"]["enterprises"] == 2000 and body["summary"]["tables"]["mapping"] == "mapping.yaml"
    assert {f["name"]: f["sha256"] for f in body["files"]}["mapping.yaml"] == hashlib.sha256(files["mapping.yaml"]).hexdigest()
    (record,) = audit_records(app, "import")
    assert "mapping.yaml" in {f["name"] for f in record["files"]}
