"""Shared look and data helpers for the report's charts (not public API)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from scheduler.publication import enterprise_column, visited_enterprises
from scheduler.result import PlanResult

FONT = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif'
RISK_ORDER = ("A", "B", "C", "D")
RISK_LABELS = {"A": "A 低风险", "B": "B 一般风险", "C": "C 较高风险", "D": "D 高风险"}
RISK_COLOURS = {"A": "#2ca02c", "B": "#1f77b4", "C": "#ff7f0e", "D": "#d62728"}

CHART_COLUMNS = ("name", "region_code", "risk_class", "lat", "lon")
"""The registry columns the charts read (see :func:`chart_enterprises`)."""


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


def chart_enterprises(result: PlanResult) -> pd.DataFrame:
    """The visited enterprises' rows the charts need: one scan of the registry for all charts."""
    return visited_enterprises(result, CHART_COLUMNS)


def visit_values(result: PlanResult, column: str, enterprises: pd.DataFrame | None = None) -> list:
    """Per visit (in ``result.visits`` order) its enterprise's registry value of ``column``;
    None when the enterprise or the column is missing. ``enterprises`` is
    :func:`chart_enterprises` when the caller has it already."""
    if enterprises is None:
        enterprises = visited_enterprises(result, (column,))
    values = enterprise_column(enterprises, column)
    return [values.get(v.credit_code) for v in result.visits]


def enterprise_rows(result: PlanResult) -> dict[str, dict]:
    """Registry rows of the visited enterprises, by credit code (one pass over the table)."""
    sub = visited_enterprises(result)
    return {str(row["credit_code"]): row for row in sub.to_dict("records")}


def city_code(region_code: str) -> str:
    """The prefecture (地市) of a 6-digit region code (GB/T 2260): ``130102`` -> ``130100``;
    anything else is returned unchanged."""
    if len(region_code) == 6 and region_code.isdigit():
        return region_code[:4] + "00"
    return region_code


def thousands(n: int) -> str:
    return f"{n:,}"
