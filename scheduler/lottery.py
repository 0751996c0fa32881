"""Dependent rounding of a fractional flow: the assignment lottery (第二个随机).

Given a flow whose values are multiples of ``1/unit`` and whose node
imbalances are whole, :func:`round_flow` returns a whole flow such that

- every edge ends at the floor or the ceiling of its value (a pair with
  marginal 0.3 is assigned with probability exactly 0.3; a load of 7.4 ends
  at 7 or 8);
- conservation holds at every node, so every slot gets exactly one inspector;
- the only randomness is a :class:`~scheduler.tickets.HashStream` keyed by
  the seed, so anyone re-running it gets the same teams.

The method (Gandhi, Khuller, Parthasarathy, Srinivasan 2006, on a flow
network): the fractional edges form a graph in which no node has exactly
one, so it has a cycle; push ``+a`` or ``-b`` around it, the first with
probability ``b / (a + b)``, until some edge becomes whole. The expected
change of every edge is zero, hence the marginals are exact. All arithmetic
is on integers.
"""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.tickets import HashStream


def round_flow(
    tails: Sequence[int],
    heads: Sequence[int],
    values: Sequence[int],
    unit: int,
    stream: HashStream,
) -> list[int]:
    """Round ``values`` (flow in units of 1/unit) to multiples of ``unit``."""
    x = [int(v) for v in values]
    n_nodes = max(max(tails, default=-1), max(heads, default=-1)) + 1
    adj: list[dict[int, None]] = [dict() for _ in range(n_nodes)]
    for e, v in enumerate(x):
        if v % unit:
            adj[tails[e]][e] = None
            adj[heads[e]][e] = None
    for node, edges in enumerate(adj):
        if len(edges) == 1:
            raise ValueError(f"node {node} has exactly one fractional edge: node imbalances are not whole")

    path_nodes: list[int] = []
    path_edges: list[int] = []
    pos: dict[int, int] = {}
    start = 0
    while True:
        if not path_nodes:
            while start < n_nodes and not adj[start]:
                start += 1
            if start == n_nodes:
                return x
            path_nodes.append(start)
            pos[start] = 0
        u = path_nodes[-1]
        last = path_edges[-1] if path_edges else -1
        e = next(f for f in adj[u] if f != last)
        w = heads[e] if tails[e] == u else tails[e]
        if w not in pos:
            pos[w] = len(path_nodes)
            path_nodes.append(w)
            path_edges.append(e)
            continue
        # A cycle: path_nodes[k:] and back to w via e.
        k = pos[w]
        cyc_edges = path_edges[k:] + [e]
        cyc_nodes = path_nodes[k:]
        signs = []
        up = down = None
        for j, f in enumerate(cyc_edges):
            a = cyc_nodes[j]
            sign = 1 if tails[f] == a else -1
            signs.append(sign)
            lo = x[f] - x[f] % unit
            hi = lo + unit
            room_up = hi - x[f] if sign > 0 else x[f] - lo
            room_down = x[f] - lo if sign > 0 else hi - x[f]
            up = room_up if up is None else min(up, room_up)
            down = room_down if down is None else min(down, room_down)
        delta = up if stream.chance(down, up + down) else -down
        for f, sign in zip(cyc_edges, signs, strict=False):
            x[f] += sign * delta
            if x[f] % unit == 0:
                del adj[tails[f]][f]
                del adj[heads[f]][f]
        # Keep the path up to w; the edges before w are untouched and still fractional.
        for node in path_nodes[k + 1 :]:
            del pos[node]
        del path_nodes[k + 1 :]
        del path_edges[k:]
        if not adj[w]:
            # w lost its last fractional edges; only possible when it starts the path.
            del pos[w]
            path_nodes.pop()
            if path_edges:
                raise AssertionError("path node left without fractional edges")
