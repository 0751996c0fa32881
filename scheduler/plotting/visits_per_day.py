"""Visits per working day."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import plotly.graph_objects as go

from scheduler.plan_run import PlanResult
from scheduler.plotting._common import styled


def plot_visits_per_day(result: PlanResult, enterprises: pd.DataFrame | None = None) -> go.Figure:
    """Bar chart of visits on each working day of the quarter (``result.workdays``,
    days without visits shown at 0); a visit dated off the working days is still
    counted, on its own date. Visits not yet dated are left out. (``enterprises`` is
    not used: every chart takes it.)"""
    counts = Counter(v.date for v in result.visits if v.date is not None)
    days = sorted(set(result.workdays) | set(counts))
    fig = go.Figure(
        go.Bar(
            x=[d.isoformat() for d in days],
            y=[counts.get(d, 0) for d in days],
            marker_color="#2ca02c",
        )
    )
    fig.update_xaxes(type="category", nticks=20)
    return styled(fig, "每个工作日检查户次", "日期", "检查户次")
