"""The admin page in a real Chromium: the accounts of the admin's scope (create one, it signs in;
disable it, it cannot), and the agency tree shown."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.web.conftest import ADMIN, PLANNER

TIMEOUT = 15_000


def test_admin_creates_and_disables_an_account(live_server, page, tmp_path):
    base = live_server["base"]
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{base}/admin")
    expect(page.locator("h1")).to_have_text("账号管理")
    # a planner is not an admin: refused by the page (the API answers 403)
    page.fill("#username", PLANNER[0])
    page.fill("#password", PLANNER[1])
    page.click("#login-btn")
    expect(page.locator("#login-msg")).to_have_text("此页面需要管理员账号")
    page.fill("#username", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.click("#login-btn")
    expect(page.locator("#workspace")).to_be_visible()
    expect(page.locator("#agencies tbody")).to_contain_text("SJ130102")
    expect(page.locator("#agencies tbody")).not_to_contain_text("ST130000")  # another department
    page.fill("#new-name", "county-leader-web")
    page.select_option("#new-role", "leader")
    page.select_option("#new-agency", "SJ130102")
    page.fill("#new-password", "a long web password")
    page.click("#create-user")
    expect(page.locator("#msg")).to_contain_text("已创建")
    row = page.locator('#users tr[data-user="county-leader-web"]')
    expect(row).to_contain_text("负责人")
    expect(row).to_contain_text("SJ130102")
    r = httpx.post(f"{base}/api/login", data={"username": "county-leader-web", "password": "a long web password"}, timeout=30)
    assert r.status_code == 200 and r.json()["agency_id"] == "SJ130102"
    page.screenshot(path=str(tmp_path / "admin.png"), full_page=True)
    row.locator('button[data-action="disable"]').click()
    expect(page.locator("#msg")).to_contain_text("已停用")
    expect(row).to_contain_text("已停用")
    r = httpx.post(f"{base}/api/login", data={"username": "county-leader-web", "password": "a long web password"}, timeout=30)
    assert r.status_code == 401
