"""report.html and its charts: offline, deterministic, the right numbers."""

from __future__ import annotations

import datetime as dt
import json
import re

import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.offline import get_plotlyjs

from scheduler.plotting import (
    plot_inspector_load,
    plot_load_expected_actual,
    plot_visits_by_region,
    plot_visits_by_risk,
    plot_visits_by_task,
    plot_visits_per_day,
)
from scheduler.report import CHARTS, render_report, write_report


@pytest.fixture(scope="module")
def plotlyjs() -> str:
    return get_plotlyjs()


def test_plotlyjs_embedded_once_and_offline(plan_result, tmp_path, plotlyjs):
    html = write_report(plan_result, tmp_path).read_text(encoding="utf-8")
    assert html.count(plotlyjs) == 1
    assert html.count("plotly.js v") == 1
    rest = html.replace(plotlyjs, "")
    assert "<script src" not in rest and "cdn.plot.ly" not in rest and "http" not in rest
    assert 'lang="zh-CN"' in html and '<meta charset="utf-8">' in html


def test_each_chart_div_once(plan_result):
    html = render_report(plan_result)
    ids = [div_id for div_id, _ in CHARTS]
    assert len(set(ids)) == len(ids) == 7
    for div_id in ids:
        assert html.count(f'<div id="{div_id}"') == 1
        assert f'document.getElementById("{div_id}")' in html
    # no random (uuid-like) plotly div ids
    assert not re.search(r'id="[0-9a-f]{8}-[0-9a-f]{4}-', html)
    for title in [
        "各抽查任务检查户次",
        "各行政区划检查户次",
        "各信用风险类别检查户次",
        "检查人员工作量分布",
        "检查人员期望与实际工作量",
        "每个工作日检查户次",
    ]:
        assert json.dumps(title)[1:-1] in html  # plotly's JSON escapes non-ASCII


def test_two_writes_byte_identical(plan_result, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write_report(plan_result, tmp_path / "a").read_bytes()
    old = pio.templates.default
    try:
        pio.templates.default = "ggplot2"  # a changed global default must not change the bytes
        b = write_report(plan_result, tmp_path / "b").read_bytes()
    finally:
        pio.templates.default = old
    assert a == b
    assert b"\r" not in a


def test_summary_table(plan_result):
    html = render_report(plan_result)
    summary = html[html.index('<table id="summary">') : html.index("</table>")]
    assert "<td>2026Q1</td>" in summary
    assert "<td>20260105</td>" in summary
    assert "<th>检查户次（进一次门、查多项事）</th><td>4</td>" in summary
    assert "<th>分层数</th><td>6</td>" in summary
    assert "0.2500 / 0.5000" in summary
    assert "2026-01-06 至 2026-01-12" in summary
    # warnings are listed and escaped
    assert "&lt;certified&gt;" in html and "<certified>" not in html
    # the strata table
    assert '<table id="strata">' in html
    assert "<td>T1</td><td>A</td>" in html


def test_report_leaks_no_legal_rep_ids(plan_result):
    html = render_report(plan_result)
    for rep in plan_result.registry.enterprises["legal_rep_id"]:
        assert rep not in html


def _bar(fig: go.Figure) -> dict:
    trace = fig.data[0]
    return dict(zip(list(trace.x), list(trace.y), strict=True))


def test_visits_by_task(plan_result):
    fig = plot_visits_by_task(plan_result)
    assert _bar(fig) == {"T1": 4, "T2": 1}
    assert fig.layout.title.text == "各抽查任务检查户次"


def test_visits_by_region(plan_result):
    # by the name of the agency whose jurisdiction the code is (the market bureau, the department
    # that leads the tasks, not the ecology branch of the same district); a code without its own
    # agency by the agency covering it
    fig = plot_visits_by_region(plan_result)
    assert _bar(fig) == {"长安区市场监督管理局": 3, "130104（石家庄市市场监督管理局辖区）": 1}
    assert list(fig.data[0].customdata) == ["130102", "130104"]


def test_report_names_the_bureau_tasks_by_name_and_regions_by_agency(plan_result):
    import dataclasses

    named = dataclasses.replace(
        plan_result,
        plan=dataclasses.replace(
            plan_result.plan,
            tasks=tuple(dataclasses.replace(t, name=f"任务名{t.task_id}") for t in plan_result.plan.tasks),
        ),
    )
    html = render_report(named)
    assert "<th>发布机关</th><td>长安区市场监督管理局</td>" in html
    assert "<h1>长安区市场监督管理局 双随机、一公开 抽查计划报告 2026Q1</h1>" in html
    assert "<td>任务名T1（T1）</td><td>A</td>" in html
    assert _bar(plot_visits_by_task(named)) == {"任务名T1（T1）": 4, "任务名T2（T2）": 1}


def test_visits_by_risk(plan_result):
    bars = _bar(plot_visits_by_risk(plan_result))
    assert list(bars) == ["A 低风险", "B 一般风险", "C 较高风险", "D 高风险"]
    assert list(bars.values()) == [1, 1, 1, 1]


def test_inspector_load(plan_result):
    fig = plot_inspector_load(plan_result)
    # loads 2, 2, 3, 1, 0: one inspector each at 0, 1, 3; two at 2
    assert _bar(fig) == {0: 1, 1: 1, 2: 2, 3: 1}
    assert sum(fig.data[0].y) == len(plan_result.registry.inspectors)


def test_load_expected_actual(plan_result):
    fig = plot_load_expected_actual(plan_result)
    points = fig.data[1]
    assert list(points.text) == ["I001", "I002", "I003", "I004", "I005"]
    assert list(points.x) == [1.6, 1.6, 2.4, 1.0, 0.4]
    assert list(points.y) == [2, 2, 3, 1, 0]
    assert list(fig.data[0].x) == [0, 3] and list(fig.data[0].y) == [0, 3]  # the diagonal


def test_visits_per_day(plan_result):
    bars = _bar(plot_visits_per_day(plan_result))
    assert list(bars) == [d.isoformat() for d in plan_result.workdays]  # zeros kept, weekends out
    assert bars["2026-01-06"] == 2 and bars["2026-01-08"] == 1 and bars["2026-01-12"] == 1
    assert bars["2026-01-05"] == 0
    assert sum(bars.values()) == len(plan_result.visits)
    assert dt.date(2026, 1, 10).isoformat() not in bars


def test_empty_plan_still_renders(plan_result):
    plan_result.visits = []
    plan_result.staffing.load = {}
    html = render_report(plan_result)
    for div_id, _ in CHARTS:
        assert f'<div id="{div_id}"' in html
    assert _bar(plot_visits_by_task(plan_result)) == {"T1": 0, "T2": 0}
