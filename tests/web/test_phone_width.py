"""The planner's pages and the draw page at phone width (390 px): the page itself never scrolls
sideways (a wide table scrolls inside its own box). Screenshots are kept under tmp_path."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web import seed
from tests.web.conftest import PLANNER

published_draw = seed.published_draw  # the session's drawn and published draw (fixture)
WIDTH = 390


def _no_sideways_scroll(page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )
    wide = page.evaluate(
        """() => Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                    || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible'))
            .filter(e => { for (let a = e.parentElement; a && a !== document.body && a !== document.documentElement; a = a.parentElement) {
                if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return false; }
                return true; })
            .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + '/' + e.scrollWidth)"""
    )
    assert max(widths[:2]) <= widths[2] == WIDTH, (widths, wide)  # names what sticks out


def test_planner_and_draw_pages_fit_a_phone(browser, published_draw, tmp_path):
    context = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        base = published_draw.base
        page.goto(f"{base}/planner")
        _no_sideways_scroll(page)
        page.fill("#username", PLANNER[0])
        page.fill("#password", PLANNER[1])
        page.click("#login-btn")
        expect(page.locator("#workspace")).to_be_visible()
        expect(page.locator("fieldset.task").first).to_be_visible()
        page.wait_for_timeout(300)
        _no_sideways_scroll(page)
        page.screenshot(path=str(tmp_path / "planner-390.png"), full_page=True)

        page.goto(f"{base}/planner/draws/{published_draw.draw_id}")
        expect(page.locator("#done-sections")).to_be_visible()
        expect(page.locator("#visits tbody tr").first).to_be_visible()
        page.wait_for_timeout(300)
        _no_sideways_scroll(page)
        page.screenshot(path=str(tmp_path / "draw-390.png"))
        page.locator("#visits tbody tr").nth(2).scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "draw-visits-390.png"))
        # the result search is there and works at this width
        code = page.locator("#visits tbody tr").first.locator("td").nth(2).inner_text()
        page.fill("#visits-q", code)
        with page.expect_response(lambda r: "/visits?" in r.url and "q=" in r.url):
            page.click("#visits-search-btn")
        expect(page.locator("#visits tbody tr")).to_have_count(1)
        _no_sideways_scroll(page)
    finally:
        print("screenshots in", tmp_path)
        context.close()
