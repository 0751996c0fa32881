"""The report's charts: one function per file, each returning a plotly Figure."""

from scheduler.plotting.inspector_load import plot_inspector_load
from scheduler.plotting.load_expected_actual import plot_load_expected_actual
from scheduler.plotting.visits_by_region import plot_visits_by_region
from scheduler.plotting.visits_by_risk import plot_visits_by_risk
from scheduler.plotting.visits_by_task import plot_visits_by_task
from scheduler.plotting.visits_map import plot_visits_map
from scheduler.plotting.visits_per_day import plot_visits_per_day

__all__ = [
    "plot_inspector_load",
    "plot_load_expected_actual",
    "plot_visits_by_region",
    "plot_visits_by_risk",
    "plot_visits_by_task",
    "plot_visits_map",
    "plot_visits_per_day",
]
