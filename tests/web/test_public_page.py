"""The public page in a real Chromium: search by name and credit code, the CSV download, and no
personal data in the page's HTML, its API answers or the CSV."""

from __future__ import annotations

import csv
import io

import httpx
from playwright.sync_api import expect

from tests.web import seed

published_draw = seed.published_draw  # the session's drawn and published draw (fixture)
TIMEOUT = 15_000


def _personal(registry) -> tuple[set[str], set[str]]:
    """(long, short) personal values: every legal representative's and relative's id, every
    inspector's id, name and certificate number. Long ones (8+ characters) must appear nowhere;
    short ones (two- or three-character names) not as a whole value."""
    values: set[str] = set()
    ent = registry.enterprises
    assert "legal_rep_id" in ent.columns
    values.update(str(x).strip() for x in ent["legal_rep_id"] if str(x).strip() and str(x) != "nan")
    assert len(values) == len(ent) and registry.inspectors
    for insp in registry.inspectors.values():
        values.update({insp.inspector_id, insp.name, insp.certificate_no or ""})
        values.update(insp.relatives_ids)  # (a generated registry this small has none)
    values.discard("")
    return {v for v in values if len(v) >= 8}, {v for v in values if len(v) < 8}


def _cells(page) -> list[str]:
    return [c.strip() for c in page.locator("td").all_inner_texts()]


def _search(page, **fields):
    for name, value in fields.items():
        page.fill(f"#f-{name}", value)
    with page.expect_response(lambda r: "/api/public/results?" in r.url):
        page.click("#search-btn")
    page.wait_for_timeout(50)


def test_search_by_name_and_by_credit_code(page, published_draw):
    base = published_draw.base
    v = published_draw.visits[0]
    page.goto(f"{base}/public")
    expect(page.locator("#results-table tbody tr").first).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#draws-table tbody")).to_contain_text(published_draw.seed)

    _search(page, q=v.enterprise)
    rows = page.locator("#results-table tbody tr")
    expect(rows.first).to_contain_text(v.enterprise)
    expected = httpx.get(f"{base}/api/public/results", params={"q": v.enterprise}, timeout=30).json()
    assert rows.count() == min(expected["total"], 50) >= 1
    for k in range(rows.count()):
        assert v.enterprise in rows.nth(k).inner_text() or v.enterprise in expected["items"][k]["items"]
    assert v.credit_code in page.locator("#results-table tbody").inner_text()

    _search(page, q="", credit=v.credit_code.lower())
    expected = httpx.get(f"{base}/api/public/results", params={"credit_code": v.credit_code}, timeout=30).json()
    assert expected["total"] >= len(v.task_ids)
    expect(rows).to_have_count(expected["total"])
    for k in range(rows.count()):
        expect(rows.nth(k).locator("td").nth(3)).to_have_text(v.credit_code)
    assert {r.locator("td").nth(0).inner_text() for r in rows.all()} == set(v.task_ids)
    expect(page.locator("#total")).to_contain_text(f"共 {expected['total']} 条")

    # the CSV link carries the same filters and downloads a CSV
    href = page.locator("#csv-link").get_attribute("href")
    assert href.startswith("/api/public/results.csv?") and f"credit_code={v.credit_code}" in href
    with page.expect_download() as info:
        page.click("#csv-link")
    path = info.value.path()
    assert info.value.suggested_filename.endswith(".csv")
    text = open(path, encoding="utf-8-sig").read()
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == expected["total"]
    assert {r["credit_code"] for r in table} == {v.credit_code}
    assert {r["task_id"] for r in table} == set(v.task_ids)


def test_paging(page, published_draw):
    page.goto(f"{published_draw.base}/public")
    rows = page.locator("#results-table tbody tr")
    expect(rows).to_have_count(50, timeout=TIMEOUT)
    first = rows.first.inner_text()
    with page.expect_response(lambda r: "offset=50" in r.url):
        page.click("#next-btn")
    expect(page.locator("#total")).to_contain_text("第 51–", timeout=TIMEOUT)
    assert rows.first.inner_text() != first
    expect(page.locator("#prev-btn")).to_be_enabled()


def test_nothing_personal_in_the_page_the_api_or_the_csv(page, published_draw):
    base = published_draw.base
    long, short = _personal(published_draw.registry)
    # the public data in full: every row through the API (JSON) and the CSV
    everything = httpx.get(f"{base}/api/public/results", params={"limit": 1000}, timeout=30)
    assert 0 < everything.json()["total"] <= 1000
    csv_text = httpx.get(f"{base}/api/public/results.csv", timeout=30).content.decode("utf-8-sig")
    draws = httpx.get(f"{base}/api/public/draws", timeout=30).text
    csv_values = {c.strip() for row in csv.reader(io.StringIO(csv_text)) for c in row}
    json_values = {str(x).strip() for item in everything.json()["items"] for x in item.values()}
    # the page: first page, a search, and the next page (HTML after the script ran)
    page.goto(f"{base}/public")
    expect(page.locator("#results-table tbody tr")).to_have_count(50, timeout=TIMEOUT)
    htmls, cells = [page.content()], _cells(page)
    with page.expect_response(lambda r: "offset=50" in r.url):
        page.click("#next-btn")
    expect(page.locator("#total")).to_contain_text("第 51–", timeout=TIMEOUT)
    htmls.append(page.content())
    cells += _cells(page)
    texts = {"csv": csv_text, "json": everything.text, "draws": draws, **{f"html{k}": h for k, h in enumerate(htmls)}}
    for name, text in texts.items():
        leaked = sorted(t for t in long if t in text)
        assert not leaked, f"{name} shows personal data: {leaked[:5]}"
    for name, values in (("csv", csv_values), ("json", json_values), ("page cells", set(cells))):
        leaked = sorted(values & short)
        assert not leaked, f"{name} shows an inspector's name or id: {leaked[:5]}"
    for insp in published_draw.registry.inspectors.values():
        assert insp.inspector_id not in csv_text and insp.inspector_id not in htmls[0]


def test_english_labels(page, published_draw):
    page.goto(f"{published_draw.base}/public?lang=en")
    expect(page.locator("h1")).to_have_text("Published inspection results")
    expect(page.locator("#csv-link")).to_have_text("Download CSV")
    expect(page.locator("#results-table thead")).to_contain_text("Credit code")
    expect(page.locator("#total")).to_contain_text("rows", timeout=TIMEOUT)
    page.click("#switch-lang")
    expect(page.locator("h1")).to_have_text("抽查结果公示")
