"""Keyed tickets: the only source of randomness in a draw.

A ticket is ``SHA-256(seed | task_id | credit_code)`` as 64 lowercase hex
characters (UTF-8, ``|`` between the parts). Within a stratum the ``n``
enterprises with the smallest tickets are drawn: simple random sampling
without replacement, inclusion probability ``n / N`` exactly, independent of
row order and of any library's random number generator, and checkable by
every enterprise from three public strings.

Sub-seeds for later stages are ``SHA-256(seed | label)`` the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def ticket(seed: str, task_id: str, credit_code: str) -> str:
    """The ticket of one enterprise in one task."""
    return hashlib.sha256(f"{seed}|{task_id}|{credit_code}".encode()).hexdigest()


def tickets(seed: str, task_id: str, credit_codes: Iterable[str]) -> list[str]:
    """Tickets of many enterprises (same order)."""
    prefix = hashlib.sha256(f"{seed}|{task_id}|".encode())
    out = []
    for code in credit_codes:
        h = prefix.copy()
        h.update(code.encode())
        out.append(h.hexdigest())
    return out


def subseed(seed: str, *labels: str) -> str:
    """A seed for one stage/part, derived from the plan's seed."""
    return hashlib.sha256("|".join((seed, *labels)).encode()).hexdigest()


class HashStream:
    """Counter-mode SHA-256 random integers: reproducible in any language.

    ``below(n)`` is ``int(SHA-256(key | counter)[:8]) * n >> 64``, the
    counter starting at 0 and increasing by one per call.
    """

    def __init__(self, key: str):
        self.key = key.encode()
        self.counter = 0

    def bits64(self) -> int:
        digest = hashlib.sha256(self.key + b"|" + str(self.counter).encode()).digest()
        self.counter += 1
        return int.from_bytes(digest[:8], "big")

    def chance(self, numerator: int, denominator: int) -> bool:
        """True with probability exactly ``numerator / denominator`` (up to 2**-64)."""
        return self.bits64() * denominator < numerator << 64
