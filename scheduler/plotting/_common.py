"""Shared look and data helpers for the report's charts (not public API)."""

from __future__ import annotations

import plotly.graph_objects as go

from scheduler.result import PlanResult

FONT = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif'
RISK_ORDER = ("A", "B", "C", "D")
RISK_LABELS = {"A": "A 低风险", "B": "B 一般风险", "C": "C 较高风险", "D": "D 高风险"}
RISK_COLOURS = {"A": "#2ca02c", "B": "#1f77b4", "C": "#ff7f0e", "D": "#d62728"}


def styled(fig: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    """Apply the report's fixed look (explicit template, so a changed global default
    cannot change the bytes)."""
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.02},
        font={"family": FONT, "size": 13},
        xaxis_title=x_title,
        yaxis_title=y_title,
        margin={"l": 60, "r": 20, "t": 60, "b": 60},
        height=380,
        showlegend=False,
    )
    return fig


def enterprise_rows(result: PlanResult) -> dict[str, dict]:
    """Registry rows of the visited enterprises, by credit code (one pass over the table)."""
    codes = {v.credit_code for v in result.visits}
    df = result.registry.enterprises
    if df.empty or not codes:
        return {}
    sub = df[df["credit_code"].isin(codes)]
    return {str(row["credit_code"]): row for row in sub.to_dict("records")}
