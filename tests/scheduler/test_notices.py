"""Inspection notices (检查通知书): one per visit, with team, items, date and rights."""

from __future__ import annotations

import csv
import dataclasses
import re

from scheduler.notices import (
    RIGHTS,
    chinese_date,
    chinese_quarter,
    notice_filename,
    render_notice,
    write_notices,
)
from tests.scheduler.conftest import ADDRESS_E3, E2, E4, HTML_NAME, PHONE_E3


def _visit(result, visit_id):
    return next(v for v in result.visits if v.visit_id == visit_id)


def test_one_notice_per_visit_and_index(plan_result, tmp_path):
    paths = write_notices(plan_result, tmp_path)
    folder = tmp_path / "notices"
    assert [p.name for p in paths] == ["V0001.html", "V0002.html", "V0003.html", "V0004.html"]
    assert sorted(p.name for p in folder.glob("*.html")) == [p.name for p in paths]
    with open(folder / "index.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["visit_id"], r["credit_code"], r["file"]) for r in rows] == [
        (v.visit_id, v.credit_code, f"{v.visit_id}.html") for v in plan_result.visits
    ]
    for r in rows:
        assert (folder / r["file"]).is_file()


def test_team_names_and_certificates(plan_result):
    html = render_notice(plan_result, _visit(plan_result, "V0003"))
    for name, cert in [("张伟", "13010219003"), ("赵敏", "HB2021-0456")]:
        assert name in html and cert in html
    assert "执法证号" in html
    # nobody else's name or certificate
    for name, cert in [("王建国", "13010219001"), ("李秀英", "13010219002"), ("刘洋", "HB2021-0789")]:
        assert name not in html and cert not in html
    # slot order: the lead department's inspector first
    assert html.index("张伟") < html.index("赵敏")


def test_items_with_legal_basis_and_fallbacks(plan_result):
    html = render_notice(plan_result, _visit(plan_result, "V0003"))
    for text in [
        "食品生产企业监督检查",
        "《中华人民共和国食品安全法》第一百一十条",
        "餐饮服务食品安全检查",
        "《食品经营许可和备案管理办法》第四十三条",
        "排污许可证执行情况检查",
        "《排污许可管理条例》第三十四条",
    ]:
        assert text in html
    # I-102 has no legal basis in the items table: a dash, not an empty cell
    assert "<td>工业产品生产许可证后检查</td><td>—</td>" in html
    # a task without items, and an item not in the table, fall back to their ids
    plan = plan_result.plan
    bare = dataclasses.replace(plan.tasks[0], items=("I-999",))
    plan_result.plan = dataclasses.replace(plan, tasks=(bare, dataclasses.replace(plan.tasks[1], items=())))
    html = render_notice(plan_result, _visit(plan_result, "V0003"))
    assert "<td>T1</td><td>I-999</td><td>—</td>" in html
    assert "<td>T2</td><td>T2</td><td>—</td>" in html


def test_agencies_enterprise_and_date(plan_result):
    html = render_notice(plan_result, _visit(plan_result, "V0003"))
    assert "长安区市场监督管理局" in html
    assert "石家庄市生态环境局长安区分局" in html  # the joint agency
    assert "河北绿源化工有限公司" in html and E4 in html
    assert "2026年1月8日" in html
    assert "2026-01-08" not in html
    assert "2026年第一季度" in html
    assert chinese_date(_visit(plan_result, "V0004").date) == "2026年1月12日"
    assert chinese_quarter("2026Q4") == "2026年第四季度"


def test_rights_and_double_random(plan_result):
    html = render_notice(plan_result, _visit(plan_result, "V0001"))
    assert "申请回避" in html
    assert "陈述" in html and "申辩" in html
    assert "双随机、一公开" in html
    for title, _ in RIGHTS:
        assert title in html


def test_escapes_html(plan_result):
    html = render_notice(plan_result, _visit(plan_result, "V0002"))
    assert HTML_NAME not in html
    assert "<b>" not in html
    assert "&lt;b&gt;美味&lt;/b&gt;&amp;餐饮&quot;有限公司" in html
    assert E2 in html
    plan_result.registry.inspectors["I002"] = dataclasses.replace(
        plan_result.registry.inspectors["I002"], name="<script>alert(1)</script>"
    )
    html = render_notice(plan_result, _visit(plan_result, "V0002"))
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_no_personal_data_beyond_the_team(plan_result, tmp_path):
    write_notices(plan_result, tmp_path)
    texts = [p.read_text(encoding="utf-8") for p in sorted((tmp_path / "notices").glob("*.html"))]
    reps = list(plan_result.registry.enterprises["legal_rep_id"])
    relatives = [r for i in plan_result.registry.inspectors.values() for r in i.relatives_ids]
    for text in texts:
        for token in [*reps, *relatives, PHONE_E3]:
            assert token not in text
    # inspector ids are internal; names and certificates identify the team
    assert all(re.search(r"I00\d", t) is None for t in texts)
    assert all(ADDRESS_E3 not in t for t in texts)


def test_printable_and_self_contained(plan_result):
    html = render_notice(plan_result, _visit(plan_result, "V0001"))
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html
    assert "@page" in html and "A4" in html and "@media print" in html
    assert "http" not in html and "<script" not in html and "<link" not in html


def test_undated_visit_gives_window(plan_result):
    visit = dataclasses.replace(_visit(plan_result, "V0001"), date=None)
    html = render_notice(plan_result, visit)
    assert "2026年1月5日至2026年3月31日" in html
    assert "另行通知" in html


def test_bytes_stable_and_match_render(plan_result, tmp_path):
    first = [p.read_bytes() for p in write_notices(plan_result, tmp_path / "a")]
    second = [p.read_bytes() for p in write_notices(plan_result, tmp_path / "b")]
    assert first == second
    assert (tmp_path / "a/notices/index.csv").read_bytes() == (tmp_path / "b/notices/index.csv").read_bytes()
    assert first[1].decode("utf-8") == render_notice(plan_result, _visit(plan_result, "V0002"))
    assert all(b"\r" not in data for data in first)


def test_unsafe_visit_ids(plan_result, tmp_path):
    assert notice_filename("../V 1") == "_V_1.html"
    v1 = dataclasses.replace(plan_result.visits[0], visit_id="V/1")
    v2 = dataclasses.replace(plan_result.visits[1], visit_id="V:1")
    plan_result.visits = [v1, v2]
    try:
        write_notices(plan_result, tmp_path)
    except ValueError as exc:
        assert "V_1.html" in str(exc)
    else:
        raise AssertionError("two visits mapped to one notice file")
