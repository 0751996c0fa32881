"""Distribution of visits per inspector."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import plotly.graph_objects as go

from scheduler.plan_run import PlanResult
from scheduler.plotting._common import styled


def plot_inspector_load(result: PlanResult, enterprises: pd.DataFrame | None = None) -> go.Figure:
    """Histogram of visits per inspector (``result.staffing.load``), counting every
    eligible inspector (those in ``expected_load`` or ``capacity`` too) so that the
    ones never drawn show at 0; a dashed line marks the plan's quarterly cap. One bar per load,
    so the chart stays small for any number of inspectors."""
    staffing = result.staffing
    people = set(staffing.load) | set(staffing.expected_load) | set(staffing.capacity)
    loads = Counter(int(staffing.load.get(p, 0)) for p in people)
    top = max(loads, default=0)
    xs = list(range(top + 1))
    fig = go.Figure(
        go.Bar(
            x=xs,
            y=[loads.get(k, 0) for k in xs],
            text=[loads.get(k, 0) for k in xs],
            textposition="outside",
            marker_color="#9467bd",
        )
    )
    cap = result.plan.policy.quarterly_cap
    if cap <= top + 1:
        fig.add_vline(x=cap, line_dash="dash", line_color="#d62728", annotation_text=f"季度上限 {cap}")
    fig.update_xaxes(dtick=1)
    return styled(fig, "检查人员工作量分布", "每人检查户次", "人数")
