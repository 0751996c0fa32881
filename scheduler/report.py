"""``report.html``: the plan's summary and charts, readable offline.

plotly.js is embedded inline exactly once, in the page head; each chart is a
``<div>`` with a fixed id (plotly's default ids are random and would break
byte-identical re-runs, which ``randinspect verify`` relies on). Nothing in
the page depends on the clock.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from html import escape
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from scheduler.plan_run import PlanResult
from scheduler.plotting import (
    plot_inspector_load,
    plot_load_expected_actual,
    plot_visits_by_region,
    plot_visits_by_risk,
    plot_visits_by_task,
    plot_visits_map,
    plot_visits_per_day,
    visits_by_region,
)
from scheduler.plotting._common import (
    RISK_ORDER,
    chart_enterprises,
    city_code,
    issuing_agency,
    region_labels,
    task_label,
    visit_values,
)

REPORT_FILE = "report.html"

CHARTS: tuple[tuple[str, Callable[[PlanResult, pd.DataFrame | None], go.Figure]], ...] = (
    ("chart-visits-by-task", plot_visits_by_task),
    ("chart-visits-by-region", plot_visits_by_region),
    ("chart-visits-by-risk", plot_visits_by_risk),
    ("chart-inspector-load", plot_inspector_load),
    ("chart-load-expected-actual", plot_load_expected_actual),
    ("chart-visits-per-day", plot_visits_per_day),
    ("chart-visits-map", plot_visits_map),
)
"""(fixed div id, chart function), in page order. Each function takes the result and the visited
enterprises' rows (:func:`scheduler.plotting._common.chart_enterprises`, looked up once for all)."""

_CONFIG = {"responsive": True, "displaylogo": False}

_CSS = """\
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", sans-serif;
       margin: 24px auto; max-width: 1100px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; }
h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
th { background: #f3f3f3; font-weight: normal; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { height: 400px; margin: 12px 0 24px; }
.warn { color: #a94400; }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _summary_rows(result: PlanResult) -> list[tuple[str, str]]:
    s = result.staffing
    dated = [v.date for v in result.visits if v.date is not None]
    span = f"{min(dated).isoformat()} 至 {max(dated).isoformat()}" if dated else "—"
    over = "" if s.max_pair_probability <= s.pair_probability_cap else "（超过上限）"
    return [
        ("发布机关", issuing_agency(result)),
        ("季度", result.plan.quarter),
        ("随机种子", result.seed),
        (
            "种子来源",
            "公开随机数（先承诺、后开奖）"
            if result.seed_kind == "public"
            else "测试种子（非正式抽取，不得用于正式公示）",
        ),
        ("抽查任务数", str(len(result.plan.tasks))),
        ("抽中（任务, 企业）数", str(len(result.selection))),
        ("检查户次（进一次门、查多项事）", str(len(result.visits))),
        ("分层数", str(len(result.strata))),
        ("工作日数", str(len(result.workdays))),
        ("检查日期范围", span),
        ("参检人员数", str(sum(1 for n in s.load.values() if n > 0))),
        ("两人同组最大概率 / 上限", f"{s.max_pair_probability:.4f} / {s.pair_probability_cap:.4f}{over}"),
        ("超过上限的人员组合数", str(s.pairs_over_cap)),
        ("可组队人员组合数", str(s.eligible_pairs)),
        ("警告数", str(len(result.warnings))),
    ]


def _summary_html(result: PlanResult) -> str:
    rows = "\n".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in _summary_rows(result))
    parts = [f'<table id="summary">\n{rows}\n</table>']
    if result.warnings:
        items = "\n".join(f"<li>{_e(w)}</li>" for w in result.warnings)
        parts.append(f'<h2>警告</h2>\n<ul class="warn" id="warnings">\n{items}\n</ul>')
    return "\n".join(parts)


def _strata_html(result: PlanResult) -> str:
    strata = sorted(result.strata, key=lambda s: (s.task_id, s.stratum))
    rows = "\n".join(
        f"<tr><td>{_e(task_label(result, s.task_id))}</td><td>{_e(s.stratum)}</td>"
        f'<td class="num">{s.population_size}</td><td class="num">{s.sample_size}</td>'
        f'<td class="num">{s.inclusion_probability:.4f}</td></tr>'
        for s in strata
    )
    head = "<tr><th>任务</th><th>分层</th><th>总体数</th><th>抽取数</th><th>入样概率</th></tr>"
    return f'<table id="strata">\n<thead>{head}</thead>\n<tbody>\n{rows}\n</tbody>\n</table>'


EXCLUSION_HEADS = (
    ("task_id", "任务"),
    ("jurisdiction", "辖区内检查对象"),
    ("not_active", "非存续"),
    ("industry", "行业不符"),
    ("risk_class", "信用风险分类不符"),
    ("entity_type", "市场主体类型不符"),
    ("population", "总体"),
    ("dedup_history", "上级已检查"),
    ("dedup_plan", "上级本期已抽"),
    ("frequency_cap", "检查频次上限"),
    ("eligible", "抽取范围"),
)
"""The exclusion table's columns (:class:`scheduler.plan_run.TaskFrame`, in funnel order)."""


def _exclusions_html(result: PlanResult) -> str:
    """Per task, the enterprises in the jurisdiction and how many each filter excluded, down to
    the frame drawn from (no silent emptiness: an empty frame shows here as 0)."""
    head = "".join(f"<th>{_e(label)}</th>" for _, label in EXCLUSION_HEADS)
    rows = []
    for f in result.frames:
        d = f.as_dict()
        cells = [f"<td>{_e(d['task_id'])}</td>"] + [f'<td class="num">{d[k]}</td>' for k, _ in EXCLUSION_HEADS[1:]]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    body = "\n".join(rows)
    return f'<table id="exclusions">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>'


def _regions_html(result: PlanResult, enterprises: pd.DataFrame) -> str:
    """Per county (区县) of the visited enterprises: visits by risk class, inspectors on the
    teams and the dates; only for a plan spanning more region codes than the region chart shows
    bars for (:data:`scheduler.plotting.visits_by_region.REGION_BARS_MAX`: it shows prefectures
    then), empty otherwise."""
    regions = [str(r or "未知") for r in visit_values(result, "region_code", enterprises)]
    if len(set(regions)) <= visits_by_region.REGION_BARS_MAX:
        return ""
    risks = visit_values(result, "risk_class", enterprises)
    visits: Counter = Counter()
    by_risk: dict[str, Counter] = defaultdict(Counter)
    people: dict[str, set[str]] = defaultdict(set)
    days: dict[str, tuple[dt.date, dt.date]] = {}
    for v, region, risk in zip(result.visits, regions, risks, strict=True):
        visits[region] += 1
        by_risk[region][str(risk or "?")] += 1
        people[region].update(v.inspector_ids)
        if v.date is not None:
            first, last = days.get(region, (v.date, v.date))
            days[region] = (min(first, v.date), max(last, v.date))
    names: dict[str, list[str]] = defaultdict(list)
    for agency in sorted(result.registry.agencies.values(), key=lambda a: a.agency_id):
        names[agency.region_code].append(agency.name)

    def num(n: object) -> str:
        return f'<td class="num">{n}</td>'

    rows = []
    cities = region_labels(result, sorted({city_code(r) for r in visits}))
    for region in sorted(visits):
        period = days.get(region)
        span = f"{period[0].isoformat()} 至 {period[1].isoformat()}" if period else "—"
        rows.append(
            f"<tr><td>{_e(region)}</td><td>{_e(cities[city_code(region)])}</td><td>{_e('、'.join(names[region]))}</td>"
            + num(visits[region])
            + "".join(num(by_risk[region].get(c, 0)) for c in RISK_ORDER)
            + num(len(people[region]))
            + f"<td>{_e(span)}</td></tr>"
        )
    head = (
        "<tr><th>行政区划代码</th><th>所属地市</th><th>本级机构</th><th>检查户次</th>"
        + "".join(f"<th>{c} 类</th>" for c in RISK_ORDER)
        + "<th>参检人员数</th><th>检查日期范围</th></tr>"
    )
    body = "\n".join(rows)
    return (
        f"<h2>各区县汇总（{len(visits)} 个行政区划）</h2>\n"
        f'<table id="regions">\n<thead>{head}</thead>\n<tbody>\n{body}\n</tbody>\n</table>\n'
    )


def chart_html(fig: go.Figure, div_id: str) -> str:
    """One figure as a ``<div>`` with the fixed id ``div_id`` and its script, without plotly.js."""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=_CONFIG,
        default_width="100%",
        default_height="400px",
    )


def render_report(result: PlanResult, enterprises: pd.DataFrame | None = None) -> str:
    """The whole report page as a string (deterministic for a given ``result``). ``enterprises``
    holds the visited enterprises' rows (at least :data:`scheduler.plotting._common.CHART_COLUMNS`)
    when the caller has them already."""
    if enterprises is None:
        enterprises = chart_enterprises(result)
    charts = "\n".join(
        f'<section class="chart-section">\n{chart_html(fn(result, enterprises), div_id)}\n</section>'
        for div_id, fn in CHARTS
    )
    title = f"{issuing_agency(result)} 双随机、一公开 抽查计划报告 {result.plan.quarter}"
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{_e(title)}</title>
<style>
{_CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<h1>{_e(title)}</h1>
<h2>概况</h2>
{_summary_html(result)}
{_regions_html(result, enterprises)}<h2>抽取范围与排除明细</h2>
{_exclusions_html(result)}
<h2>分层抽样</h2>
{_strata_html(result)}
<h2>图表</h2>
{charts}
</body>
</html>
"""


def write_report(result: PlanResult, out_dir: str | Path, enterprises: pd.DataFrame | None = None) -> Path:
    """Write ``report.html`` into ``out_dir`` (UTF-8, ``\\n`` line endings)."""
    path = Path(out_dir) / REPORT_FILE
    path.write_bytes(render_report(result, enterprises).encode("utf-8"))
    return path
