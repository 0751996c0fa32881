"""Visits per credit risk class."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import plotly.graph_objects as go

from scheduler.plan_run import PlanResult
from scheduler.plotting._common import RISK_COLOURS, RISK_LABELS, RISK_ORDER, styled, visit_values


def plot_visits_by_risk(result: PlanResult, enterprises: pd.DataFrame | None = None) -> go.Figure:
    """Bar chart of visits per credit risk class A-D (信用风险分类监管: higher risk,
    higher ratio); every class is shown, even with no visit."""
    counts = Counter(str(r or "?") for r in visit_values(result, "risk_class", enterprises))
    order = list(RISK_ORDER) + sorted(set(counts) - set(RISK_ORDER))
    fig = go.Figure(
        go.Bar(
            x=[RISK_LABELS.get(c, c) for c in order],
            y=[counts.get(c, 0) for c in order],
            text=[counts.get(c, 0) for c in order],
            textposition="outside",
            marker_color=[RISK_COLOURS.get(c, "#7f7f7f") for c in order],
        )
    )
    fig.update_xaxes(type="category")
    return styled(fig, "各信用风险类别检查户次", "信用风险分类", "检查户次")
