"""randinspect's domain: the small public API the command line, the service and the notebooks use.

    from scheduler import load_registry, load_plan, run_plan, write_outputs, verify_run

Names are imported on first use (PEP 562), so ``import scheduler`` stays cheap and a submodule
(``scheduler.messages``) never pulls in pandas or OR-Tools. The domain never imports the service
(``api``); everything else is in the submodules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    # reading the inputs
    "Registry": "scheduler.registry",
    "load_registry": "scheduler.importer",
    "Plan": "scheduler.plan",
    "Policy": "scheduler.plan",
    "Task": "scheduler.plan",
    "load_plan": "scheduler.plan",
    "parse_plan": "scheduler.plan",
    "check_plan_against_registry": "scheduler.plan",
    "WorkCalendar": "scheduler.workdays",
    "load_calendar": "scheduler.workdays",
    # running a plan and writing its folder
    "PlanResult": "scheduler.plan_run",
    "run_plan": "scheduler.pipeline",
    "make_executor": "scheduler.executor",
    "write_outputs": "scheduler.outputs",
    "read_manifest": "scheduler.outputs",
    "check_out_folder": "scheduler.outputs",
    # a run folder over its life
    "RecusalRequest": "scheduler.recusal",
    "recuse": "scheduler.runfolder",
    "enter_result": "scheduler.runfolder",
    "publish_results": "scheduler.runfolder",
    "verify_run": "scheduler.runfolder",
    "locate_inputs": "scheduler.runfolder",
    "AuditLog": "scheduler.audit",
    "verify_log": "scheduler.audit",
    "ticket": "scheduler.tickets",
    "check_selection": "scheduler.checks",
    "check_visits": "scheduler.checks",
    # errors and messages
    "InputError": "scheduler.errors",
    "InfeasibleError": "scheduler.errors",
    "Problem": "scheduler.errors",
    "t": "scheduler.messages",
    "set_language": "scheduler.messages",
}

__all__ = [
    "AuditLog",
    "InfeasibleError",
    "InputError",
    "Plan",
    "PlanResult",
    "Policy",
    "Problem",
    "RecusalRequest",
    "Registry",
    "Task",
    "WorkCalendar",
    "check_out_folder",
    "check_plan_against_registry",
    "check_selection",
    "check_visits",
    "enter_result",
    "load_calendar",
    "load_plan",
    "load_registry",
    "locate_inputs",
    "make_executor",
    "parse_plan",
    "publish_results",
    "read_manifest",
    "recuse",
    "run_plan",
    "set_language",
    "t",
    "ticket",
    "verify_log",
    "verify_run",
    "write_outputs",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scheduler' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from scheduler.audit import AuditLog, verify_log
    from scheduler.checks import check_selection, check_visits
    from scheduler.errors import InfeasibleError, InputError, Problem
    from scheduler.executor import make_executor
    from scheduler.importer import load_registry
    from scheduler.messages import set_language, t
    from scheduler.outputs import check_out_folder, read_manifest, write_outputs
    from scheduler.pipeline import run_plan
    from scheduler.plan import Plan, Policy, Task, check_plan_against_registry, load_plan, parse_plan
    from scheduler.plan_run import PlanResult
    from scheduler.recusal import RecusalRequest
    from scheduler.registry import Registry
    from scheduler.runfolder import enter_result, locate_inputs, publish_results, recuse, verify_run
    from scheduler.tickets import ticket
    from scheduler.workdays import WorkCalendar, load_calendar
