"""The auditor page in a real Chromium: sign in, the record, its verification; English."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import expect

from tests.web import seed
from tests.web.conftest import AUDITOR

published_draw = seed.published_draw  # the session's drawn and published draw (fixture)
TIMEOUT = 15_000


def _sign_in(page, base, who=AUDITOR, lang="zh"):
    page.goto(f"{base}/auditor?lang={lang}")
    page.fill("#username", who[0])
    page.fill("#password", who[1])
    page.click("#login-btn")


def test_the_record_and_its_verification(page, published_draw):
    base = published_draw.base
    _sign_in(page, base)
    status = page.locator("#verify-status")
    expect(status).to_have_text("完整", timeout=TIMEOUT)
    expect(status).to_have_attribute("data-ok", "true")
    records = httpx.get(f"{base}/api/audit", headers=published_draw.auditor, timeout=30).json()
    kinds = {r["kind"] for r in records}
    assert {"draw", "publication"} <= kinds
    rows = page.locator("#audit-table tbody tr")
    expect(rows).to_have_count(min(len(records), 50))
    body = page.locator("#audit-table tbody")
    for r in records[:50]:
        expect(rows.nth(r["seq"]).locator("td").nth(0)).to_have_text(str(r["seq"]))
        expect(rows.nth(r["seq"]).locator("td").nth(5)).to_contain_text(r["hash"][:12])
    # record types in Chinese, times in China's time zone (the record holds UTC)
    kind_zh = {"draw": "抽取", "publication": "公示", "import": "导入名录", "note": "备注", "recusal": "回避", "result": "检查结果",
               "commit": "承诺"}
    assert kinds <= set(kind_zh)  # every record type on the page has its Chinese name
    for r in records[:50]:
        cells = rows.nth(r["seq"]).locator("td")
        shanghai = dt.datetime.fromisoformat(r["time"].replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Shanghai"))
        expect(cells.nth(1)).to_have_text(shanghai.strftime("%Y-%m-%d %H:%M:%S"))
        expect(cells.nth(2)).to_have_text(kind_zh.get(r["kind"], r["kind"]))
    expect(page.locator("#audit-table thead")).to_contain_text("北京时间")
    expect(body).to_contain_text("公示")
    expect(body).to_contain_text("planner1")
    expect(page.locator("#verify-count")).to_have_text(str(len(records)))
    expect(page.locator("#who")).to_contain_text("auditor1")
    assert page.evaluate("sessionStorage.getItem('randinspect.token')")

    # English: the token is kept for the session, the labels switch
    page.click("#switch-lang")
    expect(page.locator("#verify-status")).to_have_text("Intact", timeout=TIMEOUT)
    expect(page.locator("h1")).to_have_text("The audit record")
    expect(page.locator("#audit-table thead")).to_contain_text("Actor")


def test_a_wrong_password_is_refused(page, published_draw):
    _sign_in(page, published_draw.base, ("auditor1", "not-the-password"))
    expect(page.locator("#login-msg")).to_contain_text("登录失败", timeout=TIMEOUT)
    expect(page.locator("#record")).to_be_hidden()


def test_verify_against_a_published_head(page, published_draw):
    """The auditor enters a head from the public page: held by the chain → 完整; a head the chain
    does not hold (its end was cut) → 已被篡改, saying records were removed."""
    base = published_draw.base
    _sign_in(page, base)
    expect(page.locator("#verify-status")).to_have_text("完整", timeout=TIMEOUT)
    entry = next(d for d in httpx.get(f"{base}/api/public/draws", timeout=30).json() if d["draw_id"] == published_draw.draw_id)
    page.fill("#published-head", entry["publication_head"])
    page.click("#head-verify")
    expect(page.locator("#verify-message")).to_contain_text(entry["publication_head"], timeout=TIMEOUT)
    expect(page.locator("#verify-status")).to_have_attribute("data-ok", "true")
    page.fill("#published-head", "ab" * 32)
    page.click("#head-verify")
    expect(page.locator("#verify-status")).to_have_attribute("data-ok", "false", timeout=TIMEOUT)
    expect(page.locator("#verify-status")).to_have_text("已被篡改")
    expect(page.locator("#verify-message")).to_contain_text("removed")
