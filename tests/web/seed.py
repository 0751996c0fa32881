"""A drawn AND published draw in the live server, made through the HTTP API with a planner token
(upload the registry files, create the plan, draw, poll until done, publish), once per session.

    from tests.web.seed import published_draw  # noqa: F401   (the session fixture)

    def test_x(live_server, published_draw):
        published_draw.draw_id, published_draw.visits[0].notice_code, published_draw.registry ...

The registry is generated (``data.generate.generate_registry``: 2000 enterprises, 60 inspectors,
registry seed 4 — seed 3 cannot be drawn, see ``tests/api/helpers.py``) in a session temp folder.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml

from tests.web.conftest import AUDITOR, LEADER, PLANNER, api_token

REGISTRY_ARGS = {"enterprises": 2000, "inspectors": 60, "seed": 4}
DRAW_SEED = "web-test-1"  # a test draw's seed (not published)
SOURCE = "福彩双色球 2026012期"
BEACON = "3 11 17 22 28 31; 9"
VISITS_READ = 4  # visits whose notice (and code) are read back


@dataclass(frozen=True)
class SeedVisit:
    visit_id: str
    credit_code: str
    enterprise: str
    notice_code: str
    task_ids: tuple[str, ...]
    inspector_ids: tuple[str, ...]
    team: tuple[dict, ...]  # {inspector_id, name, certificate_no}
    date: str


@dataclass(frozen=True)
class PublishedDraw:
    base: str
    registry_id: int
    plan_id: int
    draw_id: int
    seed: str
    registry_dir: Path
    visits: list[SeedVisit]  # the first VISITS_READ visits, with their notice codes
    publication: dict
    planner: dict = field(repr=False)  # Authorization header
    auditor: dict = field(repr=False)

    @property
    def registry(self):
        """The registry as loaded by the importer (enterprises frame, inspectors dict, ...)."""
        from scheduler.importer import load_registry

        return load_registry(self.registry_dir)


def _check(r: httpx.Response, *ok: int) -> httpx.Response:
    if r.status_code not in ok:
        raise AssertionError(f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text[:500]}")
    return r


def publish_generated_draw(base: str, folder: Path, *, seed: str = DRAW_SEED, timeout: float = 120) -> PublishedDraw:
    """Generate a registry into ``folder`` and draw and publish it on the server at ``base``."""
    from data.generate import generate_registry

    reg_dir = generate_registry(folder / "registry", **REGISTRY_ARGS)
    planner = api_token(base, PLANNER)
    auditor = api_token(base, AUDITOR)
    leader = api_token(base, LEADER)
    with httpx.Client(base_url=base, headers=planner, timeout=60) as c:
        files = [
            ("files", (p.name, p.read_bytes(), "application/octet-stream"))
            for p in sorted(reg_dir.iterdir())
            if p.is_file() and p.name != "plan.yaml"
        ]
        registry_id = _check(c.post("/api/registries", data={"name": "web test registry"}, files=files), 201).json()["id"]
        spec = json.loads(json.dumps(yaml.safe_load((reg_dir / "plan.yaml").read_text(encoding="utf-8")), default=str))
        plan_id = _check(
            c.post("/api/plans", json={"registry_id": registry_id, "name": "web test plan", "spec": spec}), 201
        ).json()["id"]
        # the official flow: a leader approves, the commitment is public, then the numbers
        _check(c.post(f"/api/plans/{plan_id}/approve", headers=leader), 200)
        _check(c.post(f"/api/plans/{plan_id}/commitment", json={"source": SOURCE}), 201)
        draw_id = _check(c.post(f"/api/plans/{plan_id}/draws", json={"beacon": BEACON}), 202).json()["id"]
        deadline = time.monotonic() + timeout
        while True:
            d = _check(c.get(f"/api/draws/{draw_id}"), 200).json()
            if d["status"] == "done":
                break
            if d["status"] == "failed":
                raise AssertionError(f"draw {draw_id} failed: {d['error']}")
            if time.monotonic() > deadline:
                raise AssertionError(f"draw {draw_id} not done after {timeout}s: {d}")
            time.sleep(0.2)
        seed = c.get(f"/api/draws/{draw_id}").json()["seed"]
        publication = _check(c.post(f"/api/draws/{draw_id}/publish", json={"confirm": True}, headers=leader), 200).json()
        page = _check(c.get(f"/api/draws/{draw_id}/visits", params={"limit": VISITS_READ}), 200).json()
        visits = []
        for item in page["items"]:
            v = _check(c.get(f"/api/draws/{draw_id}/visits/{item['visit_id']}"), 200).json()
            visits.append(
                SeedVisit(
                    visit_id=v["visit_id"],
                    credit_code=v["credit_code"],
                    enterprise=v["enterprise"],
                    notice_code=v["notice_code"],
                    task_ids=tuple(v["task_ids"]),
                    inspector_ids=tuple(v["inspector_ids"]),
                    team=tuple(v["team"]),
                    date=str(dt.date.fromisoformat(v["date"])),
                )
            )
    return PublishedDraw(base, registry_id, plan_id, draw_id, seed, reg_dir, visits, publication, planner, auditor)


_MADE: dict[str, PublishedDraw] = {}  # by server: one draw however many modules import the fixture


@pytest.fixture(scope="session")
def published_draw(live_server, tmp_path_factory) -> PublishedDraw:
    """One drawn and published draw of a generated registry in the session's live server."""
    base = live_server["base"]
    if base not in _MADE:
        _MADE[base] = publish_generated_draw(base, tmp_path_factory.mktemp("seed"))
    return _MADE[base]
