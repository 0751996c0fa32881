"""The planner's and the leader's pages in a real Chromium against a real server: from a
registry upload through the official flow (编制 → 负责人审批 → 承诺公示 → 录入公开号码 → 抽取 →
审批公示) to a published plan and its Excel export, all through the browser.

The registry is generated (3000 enterprises, 150 inspectors, registry seed 21); the plan is the
generated plan file loaded through the form's own "load from plan file" helper, with one of its
tasks removed and typed in again by hand (a count instead of ratios), approved by a leader on
the leader's page, committed, and drawn with the public numbers ``BEACON``. It runs on a server
of its own (see ``own_server``).
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from api.web.planner import COOKIE
from tests.web.conftest import AUDITOR, LEADER, PLANNER, api_token, run_server
from tests.web.seed import published_draw  # noqa: F401  (the session fixture)

REGISTRY_ARGS = {"enterprises": 3000, "inspectors": 150, "seed": 21}
SOURCE = "福彩双色球 2026012期"
BEACON = "3 11 17 22 28 31; 9"
HAND_TASK = {
    "task_id": "T130102-S",
    "name": "雄西区特种设备使用单位双随机抽查（手工录入）",
    "agency_id": "SJ130102",
    "items": "I-003",
    "specialty": "special_equipment",
    "industries": "C34;C35;K70;H61;F5261",
    "count": "60",
    "window_start": "2026-02-02",
    "window_end": "2026-03-31",
}


@pytest.fixture(scope="module")
def own_server(tmp_path_factory) -> Iterator[dict]:
    """A server of this module's own, started as ``live_server`` is (fresh SQLite, planner1 and
    auditor1): this test publishes a whole plan, which must not show up in the public pages that
    the other browser tests check against the session's shared server."""
    with run_server(tmp_path_factory.mktemp("planner-web")) as server:
        yield server


@pytest.fixture(scope="module")
def registry_dir(tmp_path_factory) -> Path:
    from data.generate import generate_registry

    return generate_registry(tmp_path_factory.mktemp("planner-registry"), **REGISTRY_ARGS)


def _broken_copy(registry_dir: Path, folder: Path) -> list[Path]:
    """agencies, inspectors and an enterprises.csv whose row 3 has a wrong USCC check character."""
    folder.mkdir()
    lines = (registry_dir / "enterprises.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[2].split(",")
    code = cells[0]
    cells[0] = code[:-1] + ("0" if code[-1] != "0" else "1")
    lines[2] = ",".join(cells)
    (folder / "enterprises.csv").write_text("".join(lines), encoding="utf-8")
    for name in ("agencies.csv", "inspectors.csv"):
        (folder / name).write_bytes((registry_dir / name).read_bytes())
    return sorted(folder.iterdir())


def _leader_page(browser, base):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    leader = context.new_page()
    leader.set_default_timeout(20_000)
    leader.goto(f"{base}/leader")
    expect(leader.locator("h1")).to_have_text("负责人审批")
    leader.fill("#username", LEADER[0])
    leader.fill("#password", LEADER[1])
    leader.click("#login-btn")
    expect(leader.locator("#workspace")).to_be_visible()
    return context, leader


def test_planner_flow_from_upload_to_published_plan(own_server, page, browser, registry_dir, tmp_path):
    started = time.monotonic()
    base = own_server["base"]
    page.set_default_timeout(20_000)

    # The report of a draw is refused without a planner/auditor token (checked server-side).
    assert httpx.get(f"{base}/planner/draws/1/report", timeout=10).status_code == 401
    assert httpx.get(f"{base}/planner/draws/1/report?token=nonsense", timeout=10).status_code == 401
    assert "Planning" in httpx.get(f"{base}/planner?lang=en", timeout=10).text

    # Sign in.
    page.goto(f"{base}/planner")
    expect(page.locator("h1")).to_have_text("计划编制")
    page.fill("#username", PLANNER[0])
    page.fill("#password", PLANNER[1])
    page.click("#login-btn")
    expect(page.locator("#workspace")).to_be_visible()
    expect(page.locator("#who")).to_have_text(PLANNER[0])

    # A broken registry: the problems table names file, row and column.
    page.set_input_files("#registry-files", [str(p) for p in _broken_copy(registry_dir, tmp_path / "broken")])
    page.click("#registry-upload")
    problems = page.locator("#registry-problems table.problems tbody tr")
    expect(problems.first).to_be_visible()
    cells = [c.strip() for c in problems.filter(has_text="credit_code").first.locator("td").all_inner_texts()]
    assert cells[0] == "enterprises.csv" and cells[1] == "3" and cells[2] == "credit_code", cells
    assert "GB 32100" in cells[3] or "check character" in cells[3], cells
    expect(page.locator("#registry-summary")).to_be_empty()

    # The real registry: its summary.
    files = [str(p) for p in sorted(registry_dir.iterdir()) if p.name != "plan.yaml"]
    page.fill("#registry-name", "生成名录库 seed 21")
    page.set_input_files("#registry-files", files)
    page.click("#registry-upload")
    expect(page.locator("#summary-table")).to_be_visible(timeout=30_000)
    expect(page.locator('#summary-table tr[data-table="enterprises"] td').nth(1)).to_have_text("3000")
    with (registry_dir / "inspectors.csv").open(encoding="utf-8") as f:
        inspectors = sum(1 for _ in csv.reader(f)) - 1  # the generator may drop a few of the 150
    expect(page.locator('#summary-table tr[data-table="inspectors"] td').nth(1)).to_have_text(str(inspectors))
    expect(page.locator("#registry-problems")).to_be_empty()
    # The new registry is offered (and chosen) for the plan (other tests may have uploaded others).
    expect(page.locator("#plan-registry option:checked")).to_contain_text("生成名录库 seed 21")

    # The plan, by the form: the plan file's tasks loaded by the form's helper, one removed and
    # typed again by hand; a second hand row added and removed.
    page.fill("#plan-name", "2026Q1 浏览器测试计划")
    page.set_input_files("#plan-file", str(registry_dir / "plan.yaml"))
    tasks = page.locator("#tasks fieldset.task")
    expect(tasks).to_have_count(5)
    expect(page.locator("#plan-msg")).to_contain_text("plan.yaml")
    assert page.eval_on_selector_all('#tasks [data-field="task_id"]', "ns => ns.map(n => n.value)") == [
        "T130000-D",
        "T130100-F",
        "T130102-F",
        "T130102-S",
        "T130102-J",
    ]
    tasks.nth(3).locator(".remove-task").click()
    expect(tasks).to_have_count(4)
    page.click("#add-task")
    page.click("#add-task")
    expect(tasks).to_have_count(6)
    tasks.nth(5).locator(".remove-task").click()
    expect(tasks).to_have_count(5)
    hand = tasks.nth(4)
    for name in (
        "task_id",
        "name",
        "agency_id",
        "items",
        "specialty",
        "industries",
        "window_start",
        "window_end",
    ):
        hand.locator(f'[data-field="{name}"]').fill(HAND_TASK[name])
    hand.locator('[data-field="staffing"]').select_option("lead")
    hand.locator('[data-field="mode"]').select_option("count")
    expect(hand.locator(".per-class").first).to_be_hidden()
    hand.locator('[data-field="count"]').fill(HAND_TASK["count"])
    page.click("#save-plan")
    expect(page.locator("#plan-msg")).to_contain_text("计划已保存")
    plan_id = int(re.search(r"#(\d+)", page.locator("#plan-msg").inner_text()).group(1))
    page.screenshot(path=str(tmp_path / "plan-form.png"), full_page=True)

    planner = api_token(base)
    spec = httpx.get(f"{base}/api/plans/{plan_id}", headers=planner, timeout=10).json()["spec"]
    assert [t["task_id"] for t in spec["tasks"]] == [
        "T130000-D",
        "T130100-F",
        "T130102-F",
        "T130102-J",
        "T130102-S",
    ]
    typed = spec["tasks"][-1]
    assert typed["count"] == 60 and "ratio" not in typed
    assert typed["population"] == {
        "industries": HAND_TASK["industries"].split(";"),
        "risk_classes": ["A", "B", "C", "D"],
    }
    assert typed["window"] == {"start": "2026-02-02", "end": "2026-03-31"} and typed["items"] == ["I-003"]
    assert spec["policy"]["team_size"] == 2 and spec["policy"]["rotation"] is True
    assert spec["tasks"][0]["ratio"]["A"] == pytest.approx(0.3026)

    # The official flow: step 2 waits for a leader; a draw needs a commitment first.
    expect(page.locator("#flow-steps li.current")).to_have_text("负责人审批")
    expect(page.locator("#flow-approve")).to_be_visible()
    expect(page.locator("#flow-commit")).to_be_hidden()
    leader_context, leader = _leader_page(browser, base)
    row = leader.locator(f'#plans tr[data-plan="{plan_id}"]')
    row.locator('button[data-action="approve"]').click()
    expect(leader.locator("#msg")).to_contain_text(f"已批准计划 #{plan_id}")
    expect(row).to_have_count(0)

    page.locator(f'#plans tr[data-plan="{plan_id}"] button[data-action="choose"]').click()
    expect(page.locator("#flow-steps li.current")).to_have_text("承诺公示")
    page.fill("#commit-source", SOURCE)
    page.click("#commit-btn")
    expect(page.locator("#flow-commitment")).to_be_visible()
    expect(page.locator("#flow-steps li.current")).to_have_text("录入公开号码")
    commitment = page.locator("#commitment-hash").inner_text().strip()
    (entry,) = httpx.get(f"{base}/api/public/draws", timeout=10).json()  # public before the numbers exist
    assert entry["commitment_hash"] == commitment and entry["status"] == "awaiting_numbers"
    page.screenshot(path=str(tmp_path / "flow-committed.png"), full_page=True)

    # The public numbers; the draw, watching the progress bar until done.
    page.fill("#draw-beacon", BEACON)
    page.click("#official-draw-btn")
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and page.get_attribute("#draw-stage", "data-status") is None:
        seen.add(float(page.eval_on_selector("#draw-progress", "n => n.value")))
        page.wait_for_timeout(150)
    expect(page.locator("#draw-stage")).to_have_attribute("data-status", "done")
    assert float(page.eval_on_selector("#draw-progress", "n => n.value")) == 1.0
    assert any(0 < v < 1 for v in seen), seen  # it moved on the way, not only jumped to the end
    expect(page.locator("#draw-stage")).to_contain_text("检查户次")
    expect(page.locator("#flow-steps li.current")).to_have_text("审批公示")
    expect(page.locator("#flow-drawn")).to_be_visible()

    # The draw's page: charts really rendered by plotly inside the iframe (the map too).
    page.click("#draw-open")
    expect(page.locator("#done-sections")).to_be_visible()
    # the exclusion report per task (issue 11): its rows add up from the jurisdiction to the frame
    expect(page.locator("#exclusions tbody tr").first).to_be_visible()
    cells = [[c.strip() for c in row.split("\t")] for row in page.locator("#exclusions tbody tr").all_inner_texts()]
    assert cells and all(int(r[1]) - sum(map(int, r[2:6])) == int(r[6]) >= int(r[10]) for r in cells), cells
    page.locator("#exclusions-section").screenshot(path=str(tmp_path / "exclusions.png"))
    draw_id = int(re.search(r"/planner/draws/(\d+)", page.url).group(1))
    expect(page.locator("#draw-kind")).to_have_attribute("data-kind", "public")
    expect(page.locator("#draw-kind")).to_have_text("正式抽取")
    frame = page.frame_locator("#report-frame")
    expect(frame.locator("#chart-visits-by-task .main-svg").first).to_be_attached(timeout=30_000)
    expect(frame.locator("#chart-visits-map .main-svg").first).to_be_attached()
    expect(frame.locator("#chart-visits-map .scatterlayer .trace").first).to_be_attached()
    assert frame.locator(".main-svg").count() >= 7
    raw = planner["Authorization"].split()[1]
    # never a token in a URL: the report takes the HttpOnly cookie alone
    assert httpx.get(f"{base}/planner/draws/{draw_id}/report?token={raw}", timeout=30).status_code == 401
    cookie_only = httpx.get(f"{base}/planner/draws/{draw_id}/report", cookies={COOKIE: raw}, timeout=30)
    assert cookie_only.status_code == 200 and "chart-visits-map" in cookie_only.text
    auditor = api_token(base, AUDITOR)["Authorization"].split()[1]
    assert httpx.get(f"{base}/planner/draws/{draw_id}/report", cookies={COOKIE: auditor}, timeout=30).status_code == 200

    # Recusal: fill the form from the first visit's first inspector, record it, approve it.
    first = page.locator("#visits tbody tr").first
    visit_id = first.get_attribute("data-visit")
    first.locator(".recuse-fill").first.click()
    expect(page.locator("#recusal-visit")).to_have_value(visit_id)
    inspector = page.input_value("#recusal-inspector")
    page.fill("#recusal-reason", "与该企业法定代表人系近亲属")
    page.click("#recusal-record")
    row = page.locator("#recusals tbody tr").first
    expect(row.locator("td.status")).to_have_text("待处理")
    row.locator('button[data-action="approve"]').click()
    expect(row.locator("td.status")).to_have_text("已批准", timeout=30_000)
    replacement = row.locator("td.replacement").inner_text().strip()
    assert replacement and replacement != inspector
    first = page.locator(f'#visits tbody tr[data-visit="{visit_id}"]')
    expect(first).to_contain_text(replacement)
    expect(first).not_to_contain_text(f"（{inspector}）")

    # A result for that visit.
    first.locator("select.category").select_option("未发现问题")
    first.locator(".save-result").click()
    expect(first.locator(".result-msg")).to_contain_text("已保存")

    # Publish: only a leader, after the confirmation step.
    expect(page.locator("#publish-btn")).to_have_count(0)
    leader.reload()
    expect(leader.locator("#workspace")).to_be_visible()
    leader.locator(f'#draws tr[data-draw="{draw_id}"] button[data-action="publish"]').click()
    expect(leader.locator("#confirm-dialog")).to_be_visible()
    expect(leader.locator("#confirm-text")).to_contain_text(BEACON)
    expect(leader.locator("#confirm-publish")).to_be_disabled()
    leader.screenshot(path=str(tmp_path / "leader-confirm.png"), full_page=True)
    leader.check("#confirm-check")
    leader.click("#confirm-publish")
    expect(leader.locator("#msg")).to_contain_text(f"已公示抽取 #{draw_id}", timeout=30_000)
    head = leader.locator("#msg").inner_text().split()[-1]
    assert re.fullmatch(r"[0-9a-f]{64}", head)
    leader.screenshot(path=str(tmp_path / "leader-published.png"), full_page=True)
    leader_context.close()
    (entry,) = httpx.get(f"{base}/api/public/draws", timeout=10).json()
    assert entry["status"] == "published" and entry["publication_head"] == head and entry["beacon"] == BEACON
    credit_code = first.locator("td").nth(2).inner_text().strip()
    public = httpx.get(
        f"{base}/api/public/results", params={"draw_id": draw_id, "credit_code": credit_code}, timeout=10
    ).json()
    assert any(r["visit_id"] == visit_id and r["result"] == "未发现问题" for r in public["items"])

    # The Excel export downloads from the page.
    with page.expect_download() as info:
        page.click("#export-btn")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / "export.xlsx"
    download.save_as(path)
    wb = load_workbook(path, read_only=True)
    total = httpx.get(f"{base}/api/draws/{draw_id}/visits?limit=1", headers=planner, timeout=10).json()[
        "total"
    ]
    assert wb.sheetnames[0] == "检查户次"
    assert sum(1 for _ in wb["检查户次"].iter_rows()) == total + 1
    assert any(name.endswith(replacement) for name in wb.sheetnames[1:])

    assert time.monotonic() - started < 150


def test_a_test_draw_is_marked_everywhere_and_never_offered_for_publication(live_server, published_draw, page, browser, tmp_path):  # noqa: F811
    """A typed seed: the draw page says 测试抽取, the leader's page does not offer it."""
    base = live_server["base"]
    planner = published_draw.planner
    r = httpx.post(
        f"{base}/api/plans/{published_draw.plan_id}/draws", json={"seed": "typed", "reason": "试算"}, headers=planner, timeout=30
    )
    assert r.status_code == 202, r.text
    draw_id = r.json()["id"]
    deadline = time.monotonic() + 120
    while httpx.get(f"{base}/api/draws/{draw_id}", headers=planner, timeout=10).json()["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    page.goto(f"{base}/planner")
    page.fill("#username", PLANNER[0])
    page.fill("#password", PLANNER[1])
    page.click("#login-btn")
    expect(page.locator("#workspace")).to_be_visible()
    page.goto(f"{base}/planner/draws/{draw_id}")
    expect(page.locator("#draw-kind")).to_have_attribute("data-kind", "test")
    expect(page.locator("#draw-kind")).to_have_text("测试抽取")
    page.screenshot(path=str(tmp_path / "test-draw.png"), full_page=True)
    context, leader = _leader_page(browser, base)
    expect(leader.locator("#draws tbody")).not_to_contain_text(f"#{draw_id}")
    context.close()
