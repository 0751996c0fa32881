"""Background draws. Placeholder: filled in by the issue-4 work."""

from __future__ import annotations


def recover_interrupted_draws(app) -> None:
    """Draws left 'running' by a killed server are failed and their plans made drawable again."""
