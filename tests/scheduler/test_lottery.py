"""Dependent rounding: whole, conserving, and exact in its marginals."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.lottery import random_stream, round_flow

UNIT = 100
# source 0 -> inspectors 1..3 -> slots 4, 5 (each slot needs exactly one unit)
TAILS = [0, 0, 0, 1, 1, 2, 2, 3, 3]
HEADS = [1, 2, 3, 4, 5, 4, 5, 4, 5]
VALUES = [60, 70, 70, 30, 30, 40, 30, 30, 40]


def test_result_is_whole_and_conserves_flow():
    for s in range(200):
        r = round_flow(TAILS, HEADS, VALUES, UNIT, f"s{s}")
        assert all(v % UNIT == 0 for v in r)
        assert r[3] + r[5] + r[7] == UNIT and r[4] + r[6] + r[8] == UNIT
        for i, (a, b) in enumerate([(3, 4), (5, 6), (7, 8)]):
            assert r[i] == r[a] + r[b]
            assert r[i] in (0, UNIT)  # floor or ceiling of 0.6 / 0.7


def test_marginals_are_exact_within_sampling_error():
    n = 3000
    counts = Counter()
    for s in range(n):
        r = round_flow(TAILS, HEADS, VALUES, UNIT, f"m{s}")
        counts.update(e for e, v in enumerate(r) if v)
    for e, v in enumerate(VALUES):
        p = v / UNIT
        sd = math.sqrt(p * (1 - p) / n)
        assert abs(counts[e] / n - p) < 4.5 * sd, (e, counts[e] / n, p)


def test_same_stream_same_result():
    a = round_flow(TAILS, HEADS, VALUES, UNIT, "k")
    assert a == round_flow(TAILS, HEADS, VALUES, UNIT, "k")


def test_a_node_with_one_fractional_edge_is_refused():
    with pytest.raises(ValueError, match="node 0 has exactly one fractional edge"):
        round_flow([0, 1], [1, 2], [50, 100], UNIT, "k")


def test_compiled_and_plain_python_agree_exactly():
    for s in range(50):
        a = round_flow(TAILS, HEADS, VALUES, UNIT, f"c{s}", compiled=True)
        assert a == round_flow(TAILS, HEADS, VALUES, UNIT, f"c{s}", compiled=False)


def test_random_stream_is_splitmix64_of_the_key():
    import hashlib

    state = int.from_bytes(hashlib.sha256(b"k").digest()[:8], "big")
    mask = (1 << 64) - 1
    z = (state + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    z ^= z >> 31
    assert random_stream("k", 3)[0] == z >> 24


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=3, max_size=3), min_size=2, max_size=6), st.text(max_size=5))
def test_random_bipartite_assignments_round_to_valid_ones(weights, key):
    """Slots each spread one unit over three inspectors; rounding keeps one per slot."""
    n_slots = len(weights)
    tails, heads, values = [], [], []
    loads = [0, 0, 0]
    for s, w in enumerate(weights):
        w = [x + 1 for x in w]
        total = sum(w)
        shares = [UNIT * x // total for x in w]
        shares[0] += UNIT - sum(shares)
        for i, share in enumerate(shares):
            tails.append(1 + i)
            heads.append(4 + s)
            values.append(share)
            loads[i] += share
    tails = [0, 0, 0] + tails
    heads = [1, 2, 3] + heads
    values = loads + values
    r = round_flow(tails, heads, values, UNIT, key)
    for s in range(n_slots):
        assert sum(r[3 + 3 * s + i] for i in range(3)) == UNIT
    for i in range(3):
        assert r[i] in (loads[i] // UNIT * UNIT, -(-loads[i] // UNIT) * UNIT)
