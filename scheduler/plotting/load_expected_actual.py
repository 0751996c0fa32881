"""Expected against actual load per inspector."""

from __future__ import annotations

import math
from collections import Counter

import pandas as pd
import plotly.graph_objects as go

from scheduler.plan_run import PlanResult
from scheduler.plotting._common import styled

INSPECTOR_POINTS_MAX = 5_000
"""Above this many inspectors the points are grouped (see :func:`plot_load_expected_actual`)."""
EXPECTED_BIN = 0.5
"""Width, in expected visits, of a group of inspectors above :data:`INSPECTOR_POINTS_MAX`."""


def plot_load_expected_actual(result: PlanResult, enterprises: pd.DataFrame | None = None) -> go.Figure:
    """Scatter of each inspector's expected load (the assignment lottery's
    inclusion probabilities summed) against the visits actually drawn, with the
    line actual = expected; points far from it show a lottery that was not even.

    With more than :data:`INSPECTOR_POINTS_MAX` inspectors (a province), one point per
    (expected load rounded to :data:`EXPECTED_BIN`, actual load) with the number of
    inspectors as its size and hover text, so the page stays small; the title says so."""
    staffing = result.staffing
    people = sorted(set(staffing.load) | set(staffing.expected_load))
    expected = [round(float(staffing.expected_load.get(p, 0.0)), 6) for p in people]
    actual = [int(staffing.load.get(p, 0)) for p in people]
    top = max([*expected, *actual, 1])
    diagonal = go.Scatter(
        x=[0, top],
        y=[0, top],
        mode="lines",
        line={"dash": "dash", "color": "#7f7f7f"},
        hoverinfo="skip",
        name="实际 = 期望",
    )
    title = "检查人员期望与实际工作量"
    if len(people) <= INSPECTOR_POINTS_MAX:
        points = go.Scatter(
            x=expected,
            y=actual,
            mode="markers",
            text=people,
            hovertemplate="%{text}<br>期望 %{x:.2f}<br>实际 %{y}<extra></extra>",
            marker={"size": 9, "color": "#9467bd", "opacity": 0.75},
            name="检查人员",
        )
    else:
        groups = Counter(
            (round(e / EXPECTED_BIN) * EXPECTED_BIN, a) for e, a in zip(expected, actual, strict=True)
        )
        keys = sorted(groups)
        most = max(groups.values())  # the largest group is drawn 36 px wide, the others by area
        points = go.Scatter(
            x=[x for x, _ in keys],
            y=[y for _, y in keys],
            mode="markers",
            text=[f"{groups[k]} 人" for k in keys],
            customdata=[groups[k] for k in keys],
            hovertemplate="期望约 %{x:.1f}<br>实际 %{y}<br>%{text}<extra></extra>",
            marker={
                "size": [round(6 + 30 * math.sqrt(groups[k] / most), 2) for k in keys],
                "color": "#9467bd",
                "opacity": 0.6,
            },
            name="检查人员（分组）",
        )
        title += (
            f"<br><span style='font-size:11px'>{len(people):,} 名人员按期望工作量每 {EXPECTED_BIN:g} 户分组，"
            "点越大人数越多（悬停查看人数）</span>"
        )
    fig = go.Figure([diagonal, points])
    styled(fig, title, "期望检查户次", "实际检查户次")
    if len(people) > INSPECTOR_POINTS_MAX:
        fig.update_layout(margin={"t": 80})
    return fig
