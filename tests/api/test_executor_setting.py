"""The service's RANDINSPECT_EXECUTOR: checked at start-up, and a draw on worker processes stores
the same outputs as one in the service's own process (issue 6)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.main import create_app
from api.migrate import upgrade
from api.models import DrawRecord
from api.settings import Settings
from tests.api.conftest import load_test_tree
from tests.api.test_registries import bearer, make_plan, upload_generated, wait_for_draw


def test_an_unknown_executor_is_refused_at_start_up():
    with pytest.raises(ValidationError, match="executor 'threads': expected local, processes"):
        Settings(executor="threads")
    with pytest.raises(ValidationError, match="after 'processes:' must be a number"):
        Settings(executor="processes:many")
    assert Settings(executor="dask://10.0.0.5:8786").executor == "dask://10.0.0.5:8786"


def _draw_outputs(tmp_path, name: str, executor: str) -> dict:
    url = f"sqlite:///{tmp_path / name}.db"
    upgrade(url)
    app = create_app(Settings(database_url=url, executor=executor))
    load_test_tree(app)
    with TestClient(app) as client:
        headers = bearer(app, "planner1", "planner")
        registry_id, spec = upload_generated(client, headers)
        plan = make_plan(client, headers, registry_id, spec)
        r = client.post(f"/api/plans/{plan['id']}/draws", json={"seed": "exec-1"}, headers=headers)
        assert r.status_code == 202, r.text
        done = wait_for_draw(client, headers, r.json()["id"], timeout=120)
        assert done["status"] == "done", done
        with app.state.read_sessions() as s:
            return s.get(DrawRecord, done["id"]).manifest["outputs"]


def test_a_draw_on_worker_processes_stores_the_same_outputs(tmp_path):
    local = _draw_outputs(tmp_path, "local", "local")
    assert len(local) > 10
    assert _draw_outputs(tmp_path, "processes", "processes:2") == local
