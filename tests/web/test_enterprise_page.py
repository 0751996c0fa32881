"""The enterprise page in a real Chromium: its notice by codes, a refusal, a recusal, the ticket check."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from scheduler.tickets import ticket
from tests.web import seed

published_draw = seed.published_draw  # the session's drawn and published draw (fixture)
TIMEOUT = 15_000


def _lookup(page, base, credit_code, notice_code, lang="zh"):
    page.goto(f"{base}/enterprise?lang={lang}")
    page.fill("#credit_code", credit_code)
    page.fill("#notice_code", notice_code)
    page.click("#lookup-btn")


def test_lookup_shows_the_team_and_the_rights(page, published_draw):
    v = published_draw.visits[0]
    _lookup(page, published_draw.base, v.credit_code, v.notice_code)
    notice = page.locator("#notice")
    expect(notice).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#n-visit")).to_have_text(v.visit_id)
    expect(page.locator("#n-date")).to_have_text(v.date)
    team = page.locator("#n-team tbody")
    expect(team.locator("tr")).to_have_count(len(v.team))
    for member in v.team:
        expect(team).to_contain_text(member["name"])
        expect(team).to_contain_text(member["certificate_no"])
    expect(page.locator("#n-rights")).to_contain_text("申请回避")
    expect(page.locator("#n-rights")).to_contain_text("陈述、申辩")
    expect(page.locator("#n-items tbody tr").first).to_be_visible()
    expect(page.locator("#n-agencies")).not_to_be_empty()
    expect(page.locator("#print-btn")).to_have_text("打印")
    expect(page.locator("#recusal h2")).to_have_text("申请回避")


def test_a_wrong_notice_code_is_refused(page, published_draw):
    v = published_draw.visits[0]
    wrong = ("Z" if v.notice_code[0] != "Z" else "Y") + v.notice_code[1:]
    _lookup(page, published_draw.base, v.credit_code, wrong)
    msg = page.locator("#lookup-msg")
    expect(msg).to_be_visible(timeout=TIMEOUT)
    expect(msg).to_contain_text("不匹配")
    expect(page.locator("#notice")).to_be_hidden()
    assert v.team[0]["name"] not in page.content()


def test_the_recusal_request_is_accepted_and_pending(page, published_draw):
    v = published_draw.visits[1]
    member = v.team[-1]
    _lookup(page, published_draw.base, v.credit_code, v.notice_code)
    expect(page.locator("#recusal")).to_be_visible(timeout=TIMEOUT)
    page.select_option("#recusal-member", member["inspector_id"])
    page.fill("#recusal-reason", "该检查人员曾在我单位任职")
    page.click("#recusal-btn")
    msg = page.locator("#recusal-msg")
    expect(msg).to_contain_text("待审核", timeout=TIMEOUT)
    r = httpx.get(
        f"{published_draw.base}/api/draws/{published_draw.draw_id}/recusals",
        headers=published_draw.planner,
        timeout=30,
    )
    r.raise_for_status()
    mine = [x for x in r.json() if x["visit_id"] == v.visit_id and x["inspector_id"] == member["inspector_id"]]
    assert len(mine) == 1
    assert mine[0]["status"] == "pending"
    assert mine[0]["requested_by"] == "enterprise"
    assert mine[0]["reason"] == "该检查人员曾在我单位任职"
    assert str(mine[0]["id"]) in msg.inner_text()


def test_the_ticket_check_says_drawn_for_a_drawn_enterprise(page, published_draw):
    v = published_draw.visits[0]
    _lookup(page, published_draw.base, v.credit_code, v.notice_code)
    verdict = page.locator("#ticket-verdict")
    expect(verdict).to_have_attribute("data-verdict", "drawn", timeout=TIMEOUT)
    expect(verdict).to_contain_text("正确抽中")
    expected = ticket(published_draw.seed, v.task_ids[0], v.credit_code)
    expect(page.locator("#ticket-value")).to_have_text(expected)


def test_the_ticket_check_says_not_drawn_for_an_enterprise_above_every_threshold(page, published_draw):
    base = published_draw.base
    draw = next(d for d in httpx.get(f"{base}/api/public/draws", timeout=30).json() if d["draw_id"] == published_draw.draw_id)
    task = published_draw.visits[0].task_ids[0]
    limits = [s["threshold"] for s in draw["strata"] if s["task_id"] == task and s["threshold"]]
    codes = published_draw.registry.enterprises["credit_code"]
    code = next(c for c in codes if ticket(draw["seed"], task, c) > max(limits))
    page.goto(f"{base}/enterprise")
    expect(page.locator(f"#ticket-task option[value='{task}']")).to_have_count(1, timeout=TIMEOUT)
    page.select_option("#ticket-draw", str(published_draw.draw_id))
    page.select_option("#ticket-task", task)
    page.fill("#ticket-credit", code)
    page.click("#ticket-btn")
    expect(page.locator("#ticket-verdict")).to_have_attribute("data-verdict", "not_drawn", timeout=TIMEOUT)
    expect(page.locator("#ticket-value")).to_have_text(ticket(draw["seed"], task, code))


def test_english_labels(page, published_draw):
    v = published_draw.visits[0]
    _lookup(page, published_draw.base, v.credit_code, v.notice_code, lang="en")
    expect(page.locator("#notice")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("h1")).to_have_text("Look up your inspection notice")
    expect(page.locator("#print-btn")).to_have_text("Print")
    expect(page.locator("#recusal h2")).to_have_text("Ask for a recusal")
    expect(page.locator("#ticket h2")).to_have_text("Was I rightly drawn?")
    expect(page.locator("#ticket-verdict")).to_contain_text("rightly drawn", timeout=TIMEOUT)
