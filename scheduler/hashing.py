"""SHA-256 of files (manifest, commitment, audit), and the deterministic samples drawn by it."""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Sequence
from pathlib import Path


def sha256_file(path: str | Path) -> str:
    """Lowercase hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def smallest_digests(keys: Sequence[str], k: int) -> list[int]:
    """Positions of the ``k`` keys whose SHA-256 (of the UTF-8 text) is smallest, in the keys'
    own order: a sample anyone can re-derive from the keys alone, the same whatever order they
    come in (equal keys: the earlier first). All positions when ``k >= len(keys)``."""
    if k >= len(keys):
        return list(range(len(keys)))
    if k <= 0:
        return []
    sha = hashlib.sha256
    chosen = heapq.nsmallest(k, ((sha(key.encode("utf-8")).digest(), i) for i, key in enumerate(keys)))
    return sorted(i for _, i in chosen)
