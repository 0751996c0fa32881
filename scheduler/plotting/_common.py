"""Shared look and data helpers for the report's charts (not public API)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from scheduler.plan_run import PlanResult
from scheduler.publication import enterprise_column, visited_enterprises

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


def task_label(result: PlanResult, task_id: str) -> str:
    """A task as people call it: its name with its id (``食品生产企业抽查（T1）``), else the id."""
    try:
        name = result.plan.task(task_id).name
    except KeyError:
        return task_id
    return f"{name}（{task_id}）" if name else task_id


def issuing_agency(result: PlanResult) -> str:
    """The bureau that issues the plan: the lowest agency above (or equal to) every task's lead
    agency in the registry's parent chain; the lead agencies' names when they share none."""
    agencies = result.registry.agencies
    leads = sorted({t.agency_id for t in result.plan.tasks})
    chains = []
    for lead in leads:
        chain, seen, current = [], set(), lead
        while current and current in agencies and current not in seen:
            seen.add(current)
            chain.append(current)
            current = agencies[current].parent_id or ""
        chains.append(chain)
    if chains and all(chains):
        common = set(chains[0]).intersection(*map(set, chains[1:]))
        for agency_id in chains[0]:  # from the lead upwards: the first shared one is the lowest
            if agency_id in common:
                return agencies[agency_id].name
    return "、".join(agencies[a].name if a in agencies else a for a in leads)


def region_labels(result: PlanResult, codes: list[str]) -> dict[str, str]:
    """Each region code by the name of the agency whose jurisdiction it is: the agency of that
    very code (preferring the issuing bureau's department), else ``code（covering agency 辖区）``
    for the most specific agency covering it, else the code itself."""
    agencies = sorted(result.registry.agencies.values(), key=lambda a: a.agency_id)
    departments = {result.registry.agencies[t.agency_id].department
                   for t in result.plan.tasks if t.agency_id in result.registry.agencies}
    out = {}
    for code in codes:
        exact = [a for a in agencies if a.region_code == code]
        exact.sort(key=lambda a: a.department not in departments)
        if exact:
            out[code] = exact[0].name
            continue
        covering = [a for a in agencies if a.covers(code)]
        covering.sort(key=lambda a: (-len(a.prefix), a.department not in departments, a.agency_id))
        out[code] = f"{code}（{covering[0].name}辖区）" if covering else code
    return out
