"""Faults (issue 12 item 4): the database stopped (a private PostgreSQL this test starts, stops
and restarts itself; never the shared server) gives 503 naming it, never 500; a draw interrupted
by it records that cause; the personal-data check on agency names runs at upload, and an
inspector's name inside an agency's name no longer stops a draw."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient

import api.jobs
from api.main import create_app
from api.settings import Settings
from scheduler.errors import InputError
from scheduler.importer import load_registry
from tests.api.conftest import load_test_tree, login, make_user

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1] if glob.glob("/usr/lib/postgresql/*/bin") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivatePostgres:
    """initdb into a temporary folder, pg_ctl on a free loopback port (as user postgres when run
    as root: PostgreSQL refuses to run as root)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="ri-pg-", dir="/tmp"))
        self.port = _free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, f"{PG_BIN}/{tool}", *args], check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_pg():
    if PG_BIN is None:
        pytest.fail("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
    pg = PrivatePostgres()
    pg.start()
    try:
        yield pg
    finally:
        pg.remove()


def test_database_stopped_503_naming_it_and_the_draw_keeps_its_true_cause(private_pg, tmp_path, monkeypatch):
    from tests.api.test_registries import make_plan, upload_generated

    app = create_app(Settings(database_url=private_pg.url, data_dir=str(tmp_path / "data"), draw_heartbeat_seconds=1))
    release = threading.Event()
    real_run_plan = api.jobs.run_plan

    def held_run_plan(*args, **kwargs):  # the draw waits here until the database is down
        release.wait(60)
        return real_run_plan(*args, **kwargs)

    monkeypatch.setattr(api.jobs, "run_plan", held_run_plan)
    with TestClient(app) as client:
        load_test_tree(app)
        make_user(app, "planner1", "planner", "correct horse battery")
        headers = login(client, "planner1", "correct horse battery")
        registry_id, spec = upload_generated(client, headers)
        plan = make_plan(client, headers, registry_id, spec)
        draw = client.post(f"/api/plans/{plan['id']}/draws", json={"seed": "fault-1"}, headers=headers)
        assert draw.status_code == 202, draw.text
        assert client.get("/api/health").json() == {"status": "ok"}

        private_pg.stop()
        release.set()
        name = f"postgresql 127.0.0.1:{private_pg.port}/postgres"
        r = client.get("/api/health")
        assert r.status_code == 503 and name in r.json()["detail"] and r.headers["retry-after"]
        for method, path in [("GET", "/api/registries"), ("GET", f"/api/draws/{draw.json()['id']}"),
                             ("GET", "/api/public/draws"), ("GET", "/api/public/results"), ("GET", "/api/me")]:
            r = client.request(method, path, headers=headers)
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert name in r.json()["detail"]
        r = client.post("/api/login", data={"username": "planner1", "password": "correct horse battery"})
        assert r.status_code == 503
        time.sleep(2)  # the draw meets the stopped database and cannot record its failure

        private_pg.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if client.get("/api/health").status_code == 200:
                break
            time.sleep(0.3)
        assert client.get("/api/health").json() == {"status": "ok"}
        time.sleep(1.5)  # past the heartbeat: the next poll fails the draw with the cause it kept
        d = client.get(f"/api/draws/{draw.json()['id']}", headers=headers).json()
        assert d["status"] == "failed"
        assert "the database became unreachable during the draw" in d["error"], d["error"]
        assert "server stopped" not in d["error"]


def _registry_copy(tmp_path: Path) -> Path:
    from tests.api.test_registries import generated

    folder = tmp_path / "reg"
    shutil.copytree(generated(), folder)
    return folder


def test_inspector_name_inside_an_agency_name_is_no_personal_data(tmp_path):
    from randinspect.cli import main

    reg = _registry_copy(tmp_path)
    plan = yaml.safe_load((reg / "plan.yaml").read_text(encoding="utf-8"))
    agencies = pd.read_csv(reg / "agencies.csv", dtype=str, keep_default_na=False)
    lead = plan["tasks"][0]["agency_id"]
    agency_name = agencies.loc[agencies["agency_id"] == lead, "name"].iloc[0]
    assert len(agency_name) >= 9
    inspectors = pd.read_csv(reg / "inspectors.csv", dtype=str, keep_default_na=False)
    inspectors.loc[0, "name"] = agency_name[1:]  # a long name, found inside the lead agency's name
    inspectors.to_csv(reg / "inspectors.csv", index=False)
    out = tmp_path / "out"
    assert main(["plan", str(reg), str(reg / "plan.yaml"), "--seed", "x", "--out", str(out)]) == 0
    assert agency_name in (out / "publication.csv").read_text(encoding="utf-8-sig")


def test_personal_ids_in_agency_names_are_refused_at_upload(tmp_path):
    reg = _registry_copy(tmp_path)
    inspectors = pd.read_csv(reg / "inspectors.csv", dtype=str, keep_default_na=False)
    certificate = inspectors.loc[0, "certificate_no"]
    agencies = pd.read_csv(reg / "agencies.csv", dtype=str, keep_default_na=False)
    agencies.loc[2, "name"] = agencies.loc[2, "name"] + certificate
    agencies.to_csv(reg / "agencies.csv", index=False)
    with pytest.raises(InputError) as caught:
        load_registry(reg)
    texts = [str(p) for p in caught.value.problems]
    assert any(t.startswith("agencies.csv，第 4 行，列 name") and certificate in t for t in texts), texts
