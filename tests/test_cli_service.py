"""``randinspect agencies load`` fills the agency tree, ``randinspect user add … --agency`` makes the
first account (there is none built in), ``user disable`` and ``user password`` revoke its tokens,
and ``randinspect serve`` starts the service on a fresh machine with the default SQLite file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from api.main import create_app
from api.models import User
from api.settings import Settings, get_settings
from randinspect import cli
from tests.api.conftest import database_url  # noqa: F401  (SQLite and PostgreSQL)

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / "tests" / "api" / "data" / "agencies_tree.csv"


def _env(url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RANDINSPECT_")}
    if url:
        env["RANDINSPECT_DATABASE_URL"] = url
    env["PYTHONPATH"] = str(ROOT)
    return env


def _cli(url: str, *args: str, password: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "randinspect.cli", *args],
        input=password + "\n", capture_output=True, text=True, env=_env(url), cwd=ROOT, timeout=120,
    )


def _user_add(url: str, *args: str, password: str) -> subprocess.CompletedProcess:
    return _cli(url, "user", "add", *args, password=password)


def _users(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(text("SELECT username, role FROM users ORDER BY id"))]
    finally:
        engine.dispose()


def test_agencies_load_user_add_disable_password(database_url, tmp_path):  # noqa: F811
    # no tree yet: the agency is unknown (exit 2, nothing added)
    early = _user_add(database_url, "zhang", "--role", "admin", "--agency", "SJ130000", "--password-stdin", password="a good long password")
    assert early.returncode == 2 and "agencies load" in early.stderr
    bad = tmp_path / "agencies.csv"
    bad.write_text("agency_id,name,department,level,parent_id,region_code\nA1,甲,market,province,,130000\nA2,乙,market,city,A9,130100\n", encoding="utf-8")
    refused = _cli(database_url, "agencies", "load", str(bad))
    assert refused.returncode == 2 and "agencies.csv，第 3 行，列 parent_id" in refused.stderr
    loaded = _cli(database_url, "agencies", "load", str(TREE))
    assert loaded.returncode == 0 and "新增 9 个" in loaded.stdout, loaded.stderr
    again = _cli(database_url, "agencies", "load", str(TREE))
    assert again.returncode == 0 and "新增 0 个，更新 0 个，共 9 个机构" in again.stdout
    smaller = tmp_path / "smaller.csv"
    smaller.write_text("\n".join(TREE.read_text(encoding="utf-8").splitlines()[:-1]) + "\n", encoding="utf-8")
    dropped = _cli(database_url, "agencies", "load", str(smaller))
    assert dropped.returncode == 2 and "ST130123" in dropped.stderr and "never removed" in dropped.stderr

    done = _user_add(database_url, "zhang", "--role", "admin", "--agency", "SJ130000", "--password-stdin", password="a good long password")
    assert done.returncode == 0, done.stderr
    assert "zhang" in done.stdout and "admin" in done.stdout and "SJ130000" in done.stdout
    assert _users(database_url) == [("zhang", "admin")]
    # the same name again, a short password, an unknown agency: exit 2, nothing added
    again = _user_add(database_url, "zhang", "--role", "auditor", "--agency", "SJ130000", "--password-stdin", password="another long password")
    assert again.returncode == 2 and "已存在" in again.stderr
    short = _user_add(database_url, "li", "--role", "auditor", "--agency", "SJ130000", "--password-stdin", password="short")
    assert short.returncode == 2 and "12 characters" in short.stderr
    unknown = _user_add(database_url, "li", "--role", "leader", "--agency", "XX1", "--password-stdin", password="a good long password")
    assert unknown.returncode == 2 and "'XX1' 不在机构库中" in unknown.stderr
    assert _users(database_url) == [("zhang", "admin")]
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        assert client.post("/api/login", data={"username": "zhang", "password": "wrong password!"}).status_code == 401
        r = client.post("/api/login", data={"username": "zhang", "password": "a good long password"})
        assert r.status_code == 200 and r.json()["role"] == "admin" and r.json()["agency_id"] == "SJ130000"
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert client.get("/api/me", headers=headers).json()["username"] == "zhang"
        # a new password revokes the tokens
        assert _cli(database_url, "user", "password", "zhang", "--password-stdin", password="a newer long password").returncode == 0
        assert client.get("/api/me", headers=headers).status_code == 401
        r = client.post("/api/login", data={"username": "zhang", "password": "a newer long password"})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert client.get("/api/me", headers=headers).status_code == 200
        # disabled: tokens revoked, no sign-in
        assert _cli(database_url, "user", "disable", "zhang").returncode == 0
        assert client.get("/api/me", headers=headers).status_code == 401
        assert client.post("/api/login", data={"username": "zhang", "password": "a newer long password"}).status_code == 401
    assert _cli(database_url, "user", "disable", "nobody").returncode == 2


def test_user_add_prompts_twice(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'prompt.db'}"
    monkeypatch.setenv("RANDINSPECT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert cli.main(["agencies", "load", str(TREE)]) == 0
        answers = iter(["first long password", "other long password"])
        monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
        assert cli.main(["user", "add", "wang", "--role", "auditor", "--agency", "SJ130102"]) == 2
        assert "两次输入的密码不同" in capsys.readouterr().err
        answers = iter(["same long password", "same long password"])
        assert cli.main(["user", "add", "wang", "--role", "auditor", "--agency", "SJ130102"]) == 0
        assert _users(url) == [("wang", "auditor")]
        answers = iter(["short", "short"])
        assert cli.main(["user", "add", "zhao", "--role", "planner", "--agency", "SJ130102"]) == 2
    finally:
        get_settings.cache_clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_on_a_fresh_machine(tmp_path):
    """Default settings (./randinspect.db created in the working folder), migrations run, the
    API and its documentation answer, and there is no account to guess."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "randinspect.cli", "serve", "--port", str(port)],
        cwd=tmp_path, env=_env(None), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not come up: {proc.stdout.read() if proc.poll() is not None else ''}")
            time.sleep(0.2)
        assert httpx.get(f"{base}/docs").status_code == 200
        paths = httpx.get(f"{base}/openapi.json").json()["paths"]
        assert {"/api/login", "/api/notices/lookup", "/api/public/results", "/api/audit/verify"} <= set(paths)
        assert httpx.post(f"{base}/api/login", data={"username": "admin", "password": "admin"}).status_code == 401
        assert (tmp_path / "randinspect.db").exists()
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert f"http://127.0.0.1:{port}/api" in out and f"http://127.0.0.1:{port}/docs" in out
    engine = create_engine(f"sqlite:///{tmp_path / 'randinspect.db'}")
    with engine.connect() as c:
        assert c.execute(select(User)).all() == []
    engine.dispose()
