"""Solver outcomes, independent of OR-Tools' own status objects."""

from __future__ import annotations

from enum import StrEnum


class SolveStatus(StrEnum):
    """How a model ended. Only OPTIMAL and FEASIBLE carry a usable answer."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"

    @property
    def ok(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
