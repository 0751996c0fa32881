"""``scheduler``'s small public API (issue 13, item 6): every exported name resolves, importing the
package is cheap (no pandas, no OR-Tools, never the service)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import scheduler

ROOT = Path(__file__).resolve().parents[1]


def test_every_exported_name_resolves_to_its_module():
    assert sorted(scheduler.__all__) == sorted(scheduler._EXPORTS)
    for name in scheduler.__all__:
        value = getattr(scheduler, name)
        assert value is not None, name
        module = scheduler._EXPORTS[name]
        assert getattr(sys.modules[module], name) is value


def test_an_unknown_name_is_an_attribute_error():
    try:
        scheduler.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_package_pulls_in_nothing_heavy():
    code = "import sys, scheduler, scheduler.messages; print(sorted(m for m in ('pandas', 'ortools', 'api') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"
