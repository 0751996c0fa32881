"""Visits per task (per prefecture of the lead agency when a plan has too many tasks to read)."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import plotly.graph_objects as go

from scheduler.plan_run import PlanResult
from scheduler.plotting._common import city_code, region_labels, styled, task_label

TASK_BARS_MAX = 60
"""Above this many tasks the bars are per prefecture (地市) of the task's lead agency: a
province plan has hundreds of tasks (a few per county bureau); the strata table lists each."""


def plot_visits_by_task(result: PlanResult, enterprises: pd.DataFrame | None = None) -> go.Figure:
    """Bar chart of visits per task, in plan order, labelled by the task's name; a joint visit (进一次门、查多项事)
    counts once for every task it covers. When the plan has more than :data:`TASK_BARS_MAX`
    tasks, one bar per prefecture of the lead agencies' region codes (a province-level task
    under its own code, e.g. ``130000``), and the title says so."""
    counts = Counter(t for v in result.visits for t in v.task_ids)
    order = [t.task_id for t in result.plan.tasks]
    order += sorted(set(counts) - set(order))
    title, x_title = "各抽查任务检查户次", "抽查任务"
    if len(order) > TASK_BARS_MAX:
        lead = {t.task_id: t.agency_id for t in result.plan.tasks}
        agencies = result.registry.agencies

        def group(task_id: str) -> str:
            agency = agencies.get(lead.get(task_id, ""))
            return city_code(agency.region_code) if agency else "未知"

        grouped: Counter = Counter()
        for task_id in order:
            grouped[group(task_id)] += counts.get(task_id, 0)
        title = f"各地市抽查任务检查户次（{len(order)} 项任务按牵头机构所在地市汇总）"
        x_title = "牵头机构所在地市"
        counts, order = grouped, sorted(grouped)
        labels = region_labels(result, order)
    else:
        labels = {task_id: task_label(result, task_id) for task_id in order}
    fig = go.Figure(
        go.Bar(
            x=[labels[t] for t in order],
            y=[counts.get(t, 0) for t in order],
            text=[counts.get(t, 0) for t in order],
            textposition="outside",
            marker_color="#1f77b4",
        )
    )
    fig.update_xaxes(type="category")
    return styled(fig, title, x_title, "检查户次")
