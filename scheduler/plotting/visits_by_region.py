"""Visits per region code (per prefecture when a plan spans too many to read)."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import plotly.graph_objects as go

from scheduler.plan_run import PlanResult
from scheduler.plotting._common import city_code, region_labels, styled, visit_values

REGION_BARS_MAX = 60
"""Above this many region codes the bars are per prefecture (地市): a province has ~170
counties, too many bars to read; the report lists every county in its own table."""


def plot_visits_by_region(result: PlanResult, enterprises: pd.DataFrame | None = None) -> go.Figure:
    """Bar chart of visits per region code (GB/T 2260) of the visited enterprise, sorted by
    code and labelled by the name of the agency whose jurisdiction it is (the code on hover); an enterprise missing from the registry counts as ``未知``. When there
    are more than :data:`REGION_BARS_MAX` codes, one bar per prefecture (``130102`` counts
    under ``130100``) and the title says so."""
    counts = Counter(str(r or "未知") for r in visit_values(result, "region_code", enterprises))
    title, x_title = "各行政区划检查户次", "行政区划（所属机构）"
    if len(counts) > REGION_BARS_MAX:
        by_city: Counter = Counter()
        for code, n in counts.items():
            by_city[city_code(code)] += n
        title = f"各地市检查户次（{len(counts)} 个区县级行政区划按地市汇总）"
        x_title = "地市（所属机构）"
        counts = by_city
    order = sorted(counts)
    labels = region_labels(result, order)
    fig = go.Figure(
        go.Bar(
            x=[labels[r] for r in order],
            customdata=order,
            hovertemplate="%{x}<br>行政区划代码 %{customdata}<br>检查户次 %{y}<extra></extra>",
            y=[counts[r] for r in order],
            text=[counts[r] for r in order],
            textposition="outside",
            marker_color="#17becf",
        )
    )
    fig.update_xaxes(type="category")
    return styled(fig, title, x_title, "检查户次")
