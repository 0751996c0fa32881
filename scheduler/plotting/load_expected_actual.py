"""Expected against actual load per inspector."""

from __future__ import annotations

import plotly.graph_objects as go

from scheduler.plotting._common import styled
from scheduler.result import PlanResult


def plot_load_expected_actual(result: PlanResult) -> go.Figure:
    """Scatter of each inspector's expected load (the assignment lottery's
    inclusion probabilities summed) against the visits actually drawn, with the
    line actual = expected; points far from it show a lottery that was not even."""
    staffing = result.staffing
    people = sorted(set(staffing.load) | set(staffing.expected_load))
    expected = [round(float(staffing.expected_load.get(p, 0.0)), 6) for p in people]
    actual = [int(staffing.load.get(p, 0)) for p in people]
    top = max([*expected, *actual, 1])
    fig = go.Figure(
        [
            go.Scatter(
                x=[0, top],
                y=[0, top],
                mode="lines",
                line={"dash": "dash", "color": "#7f7f7f"},
                hoverinfo="skip",
                name="实际 = 期望",
            ),
            go.Scatter(
                x=expected,
                y=actual,
                mode="markers",
                text=people,
                hovertemplate="%{text}<br>期望 %{x:.2f}<br>实际 %{y}<extra></extra>",
                marker={"size": 9, "color": "#9467bd", "opacity": 0.75},
                name="检查人员",
            ),
        ]
    )
    return styled(fig, "检查人员期望与实际工作量", "期望检查户次", "实际检查户次")
