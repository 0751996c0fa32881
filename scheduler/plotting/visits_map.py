"""Visits on a map of their enterprises' coordinates (no map tiles: readable offline)."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from scheduler.plotting._common import enterprise_rows, styled
from scheduler.result import PlanResult

COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _coord(value) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def plot_visits_map(result: PlanResult) -> go.Figure:
    """Scatter of the visited enterprises' longitude and latitude, one colour per task (a joint
    visit covering several tasks is coloured by their combination, e.g. ``T1+T2``). A plain
    scatter on equal-scaled axes, not a geo/tile map, so nothing is fetched from the network.
    Visits whose enterprise has no coordinates are left out (the title says how many)."""
    rows = enterprise_rows(result)
    order = [t.task_id for t in result.plan.tasks]
    rank = {t: i for i, t in enumerate(order)}
    groups: dict[str, list[tuple[float, float, str]]] = {}
    missing = 0
    for v in result.visits:
        row = rows.get(v.credit_code, {})
        lon, lat = _coord(row.get("lon")), _coord(row.get("lat"))
        if lon is None or lat is None:
            missing += 1
            continue
        key = "+".join(v.task_ids)
        groups.setdefault(key, []).append(
            (lon, lat, f"{v.visit_id} {row.get('name', '')} {v.date.isoformat()}")
        )

    def sort_key(key: str) -> tuple:
        return (tuple(rank.get(t, len(order)) for t in key.split("+")), key)

    fig = go.Figure()
    for i, key in enumerate(sorted(groups, key=sort_key)):
        pts = groups[key]
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in pts],
                y=[p[1] for p in pts],
                text=[p[2] for p in pts],
                mode="markers",
                name=key,
                marker={"size": 6, "color": COLOURS[i % len(COLOURS)], "opacity": 0.8},
                hovertemplate="%{text}<br>%{x:.4f}, %{y:.4f}<extra>" + key + "</extra>",
            )
        )
    title = "检查户次分布（经纬度）"
    if missing:
        title += f"，{missing} 户无坐标未绘出"
    styled(fig, title, "经度", "纬度")
    fig.update_layout(showlegend=True, height=520, legend={"title": {"text": "抽查任务"}})
    fig.update_yaxes(scaleanchor="x", scaleratio=1 / max(math.cos(math.radians(_mean_lat(groups))), 0.1))
    return fig


def _mean_lat(groups: dict[str, list[tuple[float, float, str]]]) -> float:
    lats = [p[1] for pts in groups.values() for p in pts]
    return sum(lats) / len(lats) if lats else 0.0
