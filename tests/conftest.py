"""Every test speaks the default language (Chinese) unless it chooses: the machine's LANG must
not change what the tests see."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _chinese_by_default(monkeypatch):
    from scheduler.messages import set_language

    monkeypatch.setenv("RANDINSPECT_LANG", "zh")
    set_language(None)
    yield
    set_language(None)
