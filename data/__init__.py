"""The bundled sample county and the synthetic registry generator."""

from __future__ import annotations

from pathlib import Path

DEMO_SEED = "randinspect-demo-2026Q1"
"""The seed of ``randinspect demo`` (a test draw of the sample county)."""


def sample_dir() -> Path:
    """The bundled sample county (``data/sample_county``)."""
    return Path(__file__).resolve().parent / "sample_county"
