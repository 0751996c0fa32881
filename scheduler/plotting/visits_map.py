"""Visits on a map of their enterprises' coordinates (no map tiles: readable offline)."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from scheduler.hashing import smallest_digests
from scheduler.plan_run import PlanResult
from scheduler.plotting._common import chart_enterprises, styled
from scheduler.publication import enterprise_column

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

MAP_MAX_POINTS = 20_000
"""At most this many visits are drawn; above it a deterministic sample (see
:func:`plot_visits_map`) keeps the report a few megabytes and the page responsive."""


def _coord(value) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def plot_visits_map(result: PlanResult, enterprises: pd.DataFrame | None = None) -> go.Figure:
    """Scatter of the visited enterprises' longitude and latitude, one colour per task (a joint
    visit covering several tasks is coloured by their combination, e.g. ``T1+T2``). A plain
    scatter on equal-scaled axes, not a geo/tile map, so nothing is fetched from the network.
    Visits whose enterprise has no coordinates are left out (the title says how many).

    With more than :data:`MAP_MAX_POINTS` located visits, the :data:`MAP_MAX_POINTS` of them
    whose visit id has the smallest SHA-256 are drawn (:func:`scheduler.hashing.smallest_digests`:
    an even spread anyone can re-derive); the title says how many of how many."""
    if enterprises is None:
        enterprises = chart_enterprises(result)
    lons, lats = enterprise_column(enterprises, "lon"), enterprise_column(enterprises, "lat")
    names = enterprise_column(enterprises, "name")
    order = [t.task_id for t in result.plan.tasks]
    rank = {t: i for i, t in enumerate(order)}
    located = []
    for v in result.visits:
        lon, lat = _coord(lons.get(v.credit_code)), _coord(lats.get(v.credit_code))
        if lon is not None and lat is not None:
            located.append((v, lon, lat))
    missing = len(result.visits) - len(located)
    shown = located
    if len(located) > MAP_MAX_POINTS:
        shown = [located[k] for k in smallest_digests([v.visit_id for v, _, _ in located], MAP_MAX_POINTS)]
    groups: dict[str, list[tuple[float, float, str]]] = {}
    for v, lon, lat in shown:
        key = "+".join(v.task_ids)
        day = v.date.isoformat() if v.date else ""
        groups.setdefault(key, []).append((lon, lat, f"{v.visit_id} {names.get(v.credit_code, '')} {day}"))

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
    if len(shown) < len(located):
        title += (
            f"<br><span style='font-size:11px'>抽样绘出 {len(shown):,} / {len(located):,} 户"
            "（检查编号 SHA-256 最小者，确定性抽样）</span>"
        )
    styled(fig, title, "经度", "纬度")
    fig.update_layout(showlegend=True, height=520, legend={"title": {"text": "抽查任务"}})
    if len(shown) < len(located):
        fig.update_layout(margin={"t": 80})
    fig.update_yaxes(scaleanchor="x", scaleratio=1 / max(math.cos(math.radians(_mean_lat(groups))), 0.1))
    return fig


def _mean_lat(groups: dict[str, list[tuple[float, float, str]]]) -> float:
    lats = [p[1] for pts in groups.values() for p in pts]
    return sum(lats) / len(lats) if lats else 0.0
