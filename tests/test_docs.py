"""The documentation stands on its own (issue 13, item 6): the README links nothing outside the
repository, and docs/contract.md carries the interchange contract word for word (compared with
the shared copy when it is present, ../shared/CONTRACT.md beside the repository)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "CONTRACT.md"


def test_the_readme_links_nothing_outside_the_repository():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    for link in links:
        if link.startswith(("http://", "https://", "#", "mailto:")):
            continue
        target = (ROOT / link.split("#")[0]).resolve()
        assert ROOT in target.parents or target == ROOT, link
        assert target.exists(), link
    assert "../shared" not in text and "CONTRACT.md" not in text, "the contract is docs/contract.md"
    assert "(docs/contract.md)" in text


def test_the_contract_is_in_the_repository_and_in_step():
    ours = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert "# Interchange contract" in ours and "## What randinspect adds" in ours
    if not SHARED.exists():
        pytest.skip("no shared copy beside the repository to compare with")
    shared = SHARED.read_text(encoding="utf-8").strip()
    assert shared in ours, "docs/contract.md is out of step with ../shared/CONTRACT.md: copy it again"
