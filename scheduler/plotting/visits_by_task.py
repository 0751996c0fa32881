"""Visits per task."""

from __future__ import annotations

from collections import Counter

import plotly.graph_objects as go

from scheduler.plotting._common import styled
from scheduler.result import PlanResult


def plot_visits_by_task(result: PlanResult) -> go.Figure:
    """Bar chart of visits per task, in plan order; a joint visit (进一次门、查多项事)
    counts once for every task it covers."""
    counts = Counter(t for v in result.visits for t in v.task_ids)
    order = [t.task_id for t in result.plan.tasks]
    order += sorted(set(counts) - set(order))
    fig = go.Figure(
        go.Bar(
            x=order,
            y=[counts.get(t, 0) for t in order],
            text=[counts.get(t, 0) for t in order],
            textposition="outside",
            marker_color="#1f77b4",
        )
    )
    fig.update_xaxes(type="category")
    return styled(fig, "各抽查任务检查户次", "抽查任务", "检查户次")
