"""A re-draw through the pages, on a server of its own: a planner's request decided by a leader
on the leader's page (the requester could not decide it), a new commitment and new numbers, and
the public page listing both official draws, the replaced one 已作废 with the reason and the
approver."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
import yaml
from playwright.sync_api import expect

from tests.web.conftest import LEADER, PLANNER, api_token, run_server

TIMEOUT = 20_000
REASON = "检查对象名录未及时更新"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[dict]:
    with run_server(tmp_path_factory.mktemp("redraw-web")) as s:
        yield s


def _ok(r: httpx.Response, *codes: int) -> dict:
    assert r.status_code in codes, f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:300]}"
    return r.json()


def _official(c: httpx.Client, plan_id: int, source: str, beacon: str) -> int:
    _ok(c.post(f"/api/plans/{plan_id}/commitment", json={"source": source}), 201)
    draw_id = _ok(c.post(f"/api/plans/{plan_id}/draws", json={"beacon": beacon}), 202)["id"]
    deadline = time.monotonic() + 180
    while (d := _ok(c.get(f"/api/draws/{draw_id}"), 200))["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert d["status"] == "done", d
    return draw_id


def test_a_redraw_decided_on_the_leaders_page_stays_public(server, page, tmp_path):
    from data.generate import generate_registry

    base = server["base"]
    reg = generate_registry(tmp_path / "registry", enterprises=2000, inspectors=60, seed=4)
    planner, leader = api_token(base, PLANNER), api_token(base, LEADER)
    with httpx.Client(base_url=base, headers=planner, timeout=60) as c:
        files = [("files", (p.name, p.read_bytes())) for p in sorted(reg.iterdir()) if p.name != "plan.yaml"]
        registry_id = _ok(c.post("/api/registries", data={"name": "re-draw"}, files=files), 201)["id"]
        spec = json.loads(json.dumps(yaml.safe_load((reg / "plan.yaml").read_text(encoding="utf-8")), default=str))
        plan_id = _ok(c.post("/api/plans", json={"registry_id": registry_id, "name": "重新抽取测试", "spec": spec}), 201)["id"]
        _ok(c.post(f"/api/plans/{plan_id}/approve", headers=leader), 200)
        first = _official(c, plan_id, "福彩双色球 2026012期", "3 11 17 22 28 31; 9")
        request_id = _ok(c.post(f"/api/plans/{plan_id}/redraws", json={"reason": REASON}), 201)["id"]

    page.set_default_timeout(TIMEOUT)
    page.goto(f"{base}/leader")
    page.fill("#username", LEADER[0])
    page.fill("#password", LEADER[1])
    page.click("#login-btn")
    row = page.locator(f'#redraws tr[data-redraw="{request_id}"]')
    expect(row).to_contain_text(REASON)
    expect(row).to_contain_text(PLANNER[0])
    row.locator("input").fill("同意，名录已更新")
    row.locator('button[data-action="approve"]').click()
    expect(page.locator("#msg")).to_contain_text(f"已审批申请 #{request_id}")
    expect(row).to_have_count(0)
    # the replaced draw is no longer offered for publication once the new one exists
    with httpx.Client(base_url=base, headers=planner, timeout=60) as c:
        second = _official(c, plan_id, "福彩双色球 2026013期", "1 5 9 12 20 33; 4")
    page.reload()
    expect(page.locator(f'#draws tr[data-draw="{second}"]')).to_have_count(1)
    expect(page.locator(f'#draws tr[data-draw="{first}"]')).to_have_count(0)

    page.goto(f"{base}/public")
    rows = page.locator("#draws-table tbody tr")
    expect(rows).to_have_count(2)
    void = page.locator('#draws-table tbody tr[data-status="superseded"]')
    expect(void).to_contain_text("已作废")
    expect(void).to_contain_text(f"{first}")
    new = page.locator('#draws-table tbody tr[data-status="drawn"]')
    expect(new).to_contain_text(REASON)
    expect(new).to_contain_text(LEADER[0])
    expect(new).to_contain_text("1 5 9 12 20 33; 4")
    page.screenshot(path=str(tmp_path / "public-redraw.png"), full_page=True)
