"""Fixtures for the security tests: a service on SQLite (or the shared PostgreSQL where the
test says so) with settings a test may tighten, and a signed-in planner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.migrate import upgrade
from api.settings import Settings
from tests.api.conftest import load_test_tree, login, make_user

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample_county"
PASSWORD = "correct horse battery"


def sample_files(**replace: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes]]]:
    """The sample county's tables as multipart files; ``replace`` swaps a table (by stem) for
    ``(file name, content)``."""
    out = []
    for p in sorted(SAMPLE.iterdir()):
        if p.suffix not in (".csv", ".xlsx"):
            continue
        name, data = replace.pop(p.stem, (p.name, p.read_bytes()))
        out.append(("files", (name, data)))
    out += [("files", v) for v in replace.values()]
    return out


@pytest.fixture
def make_service(tmp_path) -> Iterator:
    """``make_service(**settings)`` → (app, client with a planner's token in its headers)."""
    clients = []

    def make(**overrides):
        url = overrides.pop("database_url", f"sqlite:///{tmp_path / 'service.db'}")
        upgrade(url)
        settings = Settings(database_url=url, data_dir=str(tmp_path / "data"), **overrides)
        app = create_app(settings)
        load_test_tree(app)  # accounts belong to agencies of the tree (issue 10)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        make_user(app, "planner1", "planner", PASSWORD)
        client.headers.update(login(client, "planner1", PASSWORD))
        return app, client

    yield make
    for c in clients:
        c.__exit__(None, None, None)
