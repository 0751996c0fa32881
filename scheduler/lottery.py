"""Dependent rounding of a fractional flow: the assignment lottery (第二个随机).

Given a flow whose values are multiples of ``1/unit`` and whose node
imbalances are whole, :func:`round_flow` returns a whole flow such that

- every edge ends at the floor or the ceiling of its value (a pair with
  marginal 0.3 is assigned with probability exactly 0.3; a load of 7.4 ends
  at 7 or 8);
- conservation holds at every node, so every slot gets exactly one inspector;
- the only randomness is :func:`random_stream`, keyed by the seed, so anyone
  re-running it gets the same teams.

The method (Gandhi, Khuller, Parthasarathy, Srinivasan 2006, on a flow
network): the fractional edges form a graph in which no node has exactly
one, so it has a cycle; push ``+a`` or ``-b`` around it, the first with
probability ``b / (a + b)``, until some edge becomes whole. The expected
change of every edge is zero, hence the marginals are exact. The walk that
finds cycles always leaves a node by its first remaining fractional edge
(in edge order) other than the one it came by. All arithmetic is on
integers, so the compiled (numba) and the plain-Python runs agree exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

try:  # numba compiles the walk; without it the same code runs as plain Python.
    from numba import njit
except ImportError:  # pragma: no cover - exercised where numba is absent
    njit = None  # type: ignore[assignment]

RANDOM_BITS = 40
GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def random_stream(key: str, n: int) -> np.ndarray:
    """``n`` 40-bit integers: SplitMix64 of ``state0 + k * 0x9E3779B97F4A7C15`` (k = 1..n),
    top 40 bits, ``state0`` the first 8 bytes (big-endian) of SHA-256(key)."""
    state0 = np.uint64(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
    with np.errstate(over="ignore"):
        z = state0 + np.arange(1, n + 1, dtype=np.uint64) * GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(64 - RANDOM_BITS)).astype(np.int64)


def _walk(tails, heads, x, unit, offsets, incident, randoms):  # noqa: C901 - one tight loop, kept whole
    n_nodes = len(offsets) - 1
    n_edges = len(x)
    frac = np.zeros(n_edges, dtype=np.bool_)
    for e in range(n_edges):
        frac[e] = x[e] % unit != 0
    first = offsets[:-1].copy()  # per node: index in `incident` before which no edge is fractional
    pos = np.full(n_nodes, -1, dtype=np.int64)
    path_nodes = np.empty(n_nodes + 1, dtype=np.int64)
    path_edges = np.empty(n_nodes + 1, dtype=np.int64)
    cyc = np.empty(n_nodes + 1, dtype=np.int64)
    sgn = np.empty(n_nodes + 1, dtype=np.int64)
    n_path = 0
    start = 0
    r = 0
    while True:
        if n_path == 0:
            while start < n_nodes:
                while first[start] < offsets[start + 1] and not frac[incident[first[start]]]:
                    first[start] += 1
                if first[start] < offsets[start + 1]:
                    break
                start += 1
            if start == n_nodes:
                return x
            path_nodes[0] = start
            pos[start] = 0
            n_path = 1
        u = path_nodes[n_path - 1]
        last = path_edges[n_path - 2] if n_path > 1 else -1
        while first[u] < offsets[u + 1] and not frac[incident[first[u]]]:
            first[u] += 1
        e = -1
        for k in range(first[u], offsets[u + 1]):
            f = incident[k]
            if frac[f] and f != last:
                e = f
                break
        if e < 0:
            raise ValueError("a node has exactly one fractional edge: node imbalances are not whole")
        w = heads[e] if tails[e] == u else tails[e]
        if pos[w] < 0:
            pos[w] = n_path
            path_nodes[n_path] = w
            path_edges[n_path - 1] = e
            n_path += 1
            continue
        # A cycle: path_nodes[k0:] and back to w via e.
        k0 = pos[w]
        m = n_path - k0
        up = -1
        down = -1
        for j in range(m):
            f = path_edges[k0 + j] if j < m - 1 else e
            a = path_nodes[k0 + j]
            s = 1 if tails[f] == a else -1
            cyc[j] = f
            sgn[j] = s
            lo = x[f] - x[f] % unit
            hi = lo + unit
            room_up = hi - x[f] if s > 0 else x[f] - lo
            room_down = x[f] - lo if s > 0 else hi - x[f]
            if up < 0 or room_up < up:
                up = room_up
            if down < 0 or room_down < down:
                down = room_down
        # +up with probability down / (up + down): a 40-bit uniform integer decides, exactly.
        delta = up if randoms[r] * (up + down) < (down << 40) else -down
        r += 1
        for j in range(m):
            f = cyc[j]
            x[f] += sgn[j] * delta
            if x[f] % unit == 0:
                frac[f] = False
        for j in range(k0 + 1, n_path):
            pos[path_nodes[j]] = -1
        n_path = k0 + 1
        # w keeps its fractional edge from the path unless it starts the path.
        if k0 == 0:
            while first[w] < offsets[w + 1] and not frac[incident[first[w]]]:
                first[w] += 1
            if first[w] == offsets[w + 1]:
                pos[w] = -1
                n_path = 0


_walk_compiled = njit(cache=True)(_walk) if njit is not None else None


def round_flow(
    tails: Sequence[int],
    heads: Sequence[int],
    values: Sequence[int],
    unit: int,
    key: str,
    compiled: bool = True,
) -> list[int]:
    """Round ``values`` (flow in units of 1/unit) to multiples of ``unit``, driven by ``key``."""
    return round_flow_array(tails, heads, values, unit, key, compiled).tolist()


def round_flow_array(
    tails: Sequence[int] | np.ndarray,
    heads: Sequence[int] | np.ndarray,
    values: Sequence[int] | np.ndarray,
    unit: int,
    key: str,
    compiled: bool = True,
) -> np.ndarray:
    """:func:`round_flow`, as an array."""
    tails_a = np.asarray(tails, dtype=np.int64)
    heads_a = np.asarray(heads, dtype=np.int64)
    x = np.array(values, dtype=np.int64)
    n_nodes = int(max(tails_a.max(initial=-1), heads_a.max(initial=-1))) + 1
    frac = x % unit != 0
    degree = np.bincount(tails_a[frac], minlength=n_nodes) + np.bincount(heads_a[frac], minlength=n_nodes)
    lonely = np.flatnonzero(degree == 1)
    if len(lonely):
        raise ValueError(
            f"node {int(lonely[0])} has exactly one fractional edge: node imbalances are not whole"
        )
    # Only the fractional edges take part (whole ones never change); in edge order, so the walk
    # is the one it would be on the whole network.
    f_idx = np.flatnonzero(frac)
    ft, fh, fx = tails_a[f_idx], heads_a[f_idx], x[f_idx]
    # Incidence lists in edge order (each edge listed at both ends).
    ends = np.concatenate([ft, fh])
    edge_ids = np.concatenate([np.arange(len(fx)), np.arange(len(fx))])
    order = np.lexsort((edge_ids, ends))
    incident = edge_ids[order].astype(np.int64)
    offsets = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n_nodes), out=offsets[1:])
    randoms = random_stream(key, len(fx) + 1)
    walk = _walk_compiled if (compiled and _walk_compiled is not None) else _walk
    x[f_idx] = walk(ft, fh, fx, np.int64(unit), offsets, incident, randoms)
    return x
