"""Visits per region code."""

from __future__ import annotations

from collections import Counter

import plotly.graph_objects as go

from scheduler.plotting._common import enterprise_rows, styled
from scheduler.result import PlanResult


def plot_visits_by_region(result: PlanResult) -> go.Figure:
    """Bar chart of visits per region code (GB/T 2260) of the visited enterprise,
    sorted by code; an enterprise missing from the registry counts as ``未知``."""
    rows = enterprise_rows(result)
    counts = Counter(str(rows.get(v.credit_code, {}).get("region_code") or "未知") for v in result.visits)
    order = sorted(counts)
    fig = go.Figure(
        go.Bar(
            x=order,
            y=[counts[r] for r in order],
            text=[counts[r] for r in order],
            textposition="outside",
            marker_color="#17becf",
        )
    )
    fig.update_xaxes(type="category")
    return styled(fig, "各行政区划检查户次", "行政区划代码", "检查户次")
