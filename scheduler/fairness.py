"""Statistical checks of the two fairness claims, from many seeds.

Claim 1 (enterprises): within a stratum every enterprise is drawn with
probability exactly the reported ``n / N``. :func:`inclusion_frequencies`
draws under many seeds and counts, per (task, stratum, enterprise), how often
it was drawn and what probability was reported; :func:`stratum_tests` runs
:func:`frequency_test` on every stratum.

Claim 2 (teams): every (inspector, visit) pair is chosen with exactly its
marginal probability, and no marginal exceeds ``pair_probability_cap`` unless
the run's stats say so. :func:`pair_frequencies` solves the marginals once
and rounds them under many seeds.

Seed-dependent frames. A lower-level task drops enterprises that a higher
agency drew earlier in the same plan, so its frame (and ``N``, ``n``) can
change from seed to seed. Probabilities are conditional on the frame, so each
enterprise is compared with the sum, over the seeds in which it was in the
frame, of its stratum's reported probability in that seed (``expected``);
``seeds`` counts those seeds. A stratum whose frame never changed is flagged
``frame_static`` and tested with the exact fixed-sample-size correction.

Distribution functions (no scipy): chi-square upper tail through the
regularized incomplete gamma function, exact binomial tails by summing the
probability mass function.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scheduler import staffing
from scheduler.draw import KEY_AREA, allocate, frequency_capped, population_mask, recent_history, task_order
from scheduler.plan import Plan, Task
from scheduler.plan_run import Selected, StaffingStats, Stratum, Visit
from scheduler.registry import Registry
from scheduler.staffing import UNIT, Lottery, Roster
from scheduler.tickets import ticket
from solver.marginals import pairs_of

# A key function maps (seed, task_id, credit codes as UTF-8 bytes) to one sortable
# uint64 per code; the smallest keys are drawn. The default is the first 8 bytes of the
# ticket (big-endian), which orders exactly as the hex ticket up to ties, resolved below.
KeyFunction = Callable[[str, str, Sequence[bytes]], np.ndarray]


def ticket_keys(seed: str, task_id: str, codes: Sequence[bytes]) -> np.ndarray:
    """First 64 bits of ``SHA-256(seed | task_id | code)`` for every code (same order)."""
    sha = hashlib.sha256
    prefix = f"{seed}|{task_id}|".encode()
    digests = b"".join([sha(prefix + c).digest() for c in codes])
    return np.frombuffer(digests, dtype=">u8")[::4].astype(np.uint64)


# ---------------------------------------------------------------------------
# Distribution functions
# ---------------------------------------------------------------------------


def gammaincc(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) (series below a + 1, continued fraction above)."""
    if a <= 0:
        raise ValueError("a must be positive")
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        ap = a
        for _ in range(100_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    # Lentz's continued fraction for Q.
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(log_front) * h


def chi2_sf(x: float, dof: float) -> float:
    """P(X > x) for X ~ chi-square with ``dof`` (any positive real) degrees of freedom."""
    if math.isinf(x):
        return 0.0
    return gammaincc(dof / 2, x / 2)


def chi2_isf(q: float, dof: float) -> float:
    """The x with P(X > x) = q (upper quantile), by bisection from a Wilson–Hilferty start."""
    if not 0 < q < 1:
        raise ValueError("q must be in (0, 1)")
    z = normal_isf(q)
    k = 2 / (9 * dof)
    guess = dof * max(1e-3, 1 - k + z * math.sqrt(k)) ** 3
    lo, hi = guess / 2, guess * 2 + 10
    while chi2_sf(lo, dof) < q:
        lo /= 2
    while chi2_sf(hi, dof) > q:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if chi2_sf(mid, dof) > q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * hi:
            break
    return (lo + hi) / 2


def normal_isf(q: float) -> float:
    """Upper quantile of the standard normal, by bisection on ``erfc``."""
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(mid / math.sqrt(2)) > q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def binom_two_sided(counts: np.ndarray, trials: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Exact two-sided binomial p-values, ``min(1, 2 min(P(X <= c), P(X >= c)))`` per cell."""
    counts = np.asarray(counts, dtype=np.int64)
    trials = np.broadcast_to(np.asarray(trials, dtype=np.int64), counts.shape)
    p = np.broadcast_to(np.asarray(p, dtype=float), counts.shape)
    out = np.ones(counts.shape, dtype=float)
    if counts.size == 0:
        return out
    t_max = int(trials.max())
    lfact = np.array([math.lgamma(i + 1) for i in range(t_max + 1)])
    k = np.arange(t_max + 1)
    for idx in np.ndindex(counts.shape):
        c, t, pi = int(counts[idx]), int(trials[idx]), float(p[idx])
        if pi <= 0 or pi >= 1:
            out[idx] = 1.0 if c == round(pi * t) else 0.0
            continue
        kk = k[: t + 1]
        logpmf = lfact[t] - lfact[kk] - lfact[t - kk] + kk * math.log(pi) + (t - kk) * math.log1p(-pi)
        pmf = np.exp(logpmf)
        lower = pmf[: c + 1].sum()
        upper = pmf[c:].sum()
        out[idx] = min(1.0, 2 * min(lower, upper))
    return out


# ---------------------------------------------------------------------------
# The frequency test
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TestResult:
    """Outcome of one frequency test at a fixed significance level."""

    __test__ = False  # not a pytest test class

    statistic: float
    dof: float
    p_value: float
    passed: bool


def frequency_test(
    counts: Sequence[int] | np.ndarray,
    expected_p: Sequence[float] | np.ndarray,
    trials: int | Sequence[int] | np.ndarray,
    alpha: float = 1e-3,
    *,
    fixed_total: bool = False,
    method: str = "pearson",
) -> TestResult:
    """Test that every cell's count is Binomial(trials, expected_p), at level ``alpha``.

    Cells with ``p`` of 0 or 1 must match exactly (else the test fails outright).

    ``method="pearson"``: ``X = sum (c - T p)^2 / (T p (1 - p))`` over the other cells; each
    term has mean exactly 1. The first two moments of ``X`` under the null are matched to a
    scaled chi-square (Satterthwaite): ``statistic = X / s`` is compared with chi-square on
    ``dof = nu`` (not necessarily whole), ``p_value = chi2_sf(statistic, dof)``.

    - ``fixed_total``: simple random sampling of ``n`` from a fixed frame of ``C``, ``T``
      times, all ``p = n / C``. ``X' = X (C - 1) / C`` has mean ``C - 1`` and variance
      exactly ``2 (C - 1)(1 - 1/T)`` (the per-seed part of ``X`` is constant), so ``nu`` is
      close to ``C - 1``.
    - otherwise cells are taken as independent binomials: variance ``2 C + sum (1 - 6pq) /
      (T p q)`` (binomial excess kurtosis; matters when expected counts are small). For
      cells that are in fact negatively dependent (a varying frame) this overstates the
      variance, i.e. the test is conservative.

    ``method="bonferroni"``: exact two-sided binomial test per cell, the smallest p-value
    times the number of cells. Valid under any dependence between cells (as in the team
    lottery, where one inspector per slot and loads on floor/ceiling tie pairs together);
    ``statistic`` is the largest per-cell ``(c - T p)^2 / (T p (1 - p))``.
    """
    c = np.asarray(counts, dtype=np.int64)
    p = np.asarray(expected_p, dtype=float)
    t = np.broadcast_to(np.asarray(trials, dtype=np.int64), c.shape)
    if c.shape != p.shape:
        raise ValueError("counts and expected_p differ in shape")
    exact = (p <= 0) | (p >= 1)
    if np.any(c[exact] != np.rint(p[exact] * t[exact])):
        return TestResult(math.inf, float(len(c)), 0.0, False)
    c, p, t = c[~exact], p[~exact], t[~exact]
    cells = len(c)
    if cells == 0:
        return TestResult(0.0, 0.0, 1.0, True)
    q = 1 - p
    z2 = (c - t * p) ** 2 / (t * p * q)
    if method == "bonferroni":
        p_value = min(1.0, float(binom_two_sided(c, t, p).min()) * cells)
        return TestResult(float(z2.max()), 1.0, p_value, p_value >= alpha)
    if method != "pearson":
        raise ValueError(f"unknown method {method!r}")
    if fixed_total:
        if cells < 2:
            return TestResult(0.0, 0.0, 1.0, True)
        shrink = (cells - 1) / cells
        stat = float(z2.sum()) * shrink
        mean = cells - 1.0
        # Per seed, sum_i (x_i - p)^2 / (p q) = C exactly (n of C drawn), so no kurtosis term:
        # Var X' = 2 (C - 1)(1 - 1/T) exactly.
        var = 2 * (cells - 1) * (1 - 1 / float(t.mean()))
    else:
        stat = float(z2.sum())
        mean = float(cells)
        var = 2 * cells + float(((1 - 6 * p * q) / (t * p * q)).sum())
    scale = var / (2 * mean)
    nu = 2 * mean**2 / var
    p_value = chi2_sf(stat / scale, nu)
    return TestResult(stat / scale, nu, p_value, p_value >= alpha)


# ---------------------------------------------------------------------------
# Claim 1: inclusion frequencies of enterprises
# ---------------------------------------------------------------------------


@dataclass
class _TaskFrame:
    task: Task
    earlier: list[int]  # indices (in draw order) of earlier tasks of higher agencies
    key_pos: np.ndarray  # key-area enterprises of the seed-free frame (registry positions)
    rest_pos: np.ndarray  # the others
    rest_codes: list[bytes]
    rest_class: dict[str, np.ndarray]  # class -> indices into rest_pos


@dataclass
class SeedDraw:
    """One seed's draw as registry positions: per task, key-area and per class (N, n, drawn)."""

    seed: str
    key: list[np.ndarray]
    classes: list[dict[str, tuple[np.ndarray, int, np.ndarray]]]  # class -> (frame idx, n, drawn idx)
    excluded: list[bool]  # per task: did the in-plan dedup remove anyone from its frame


class FastDraw:
    """:func:`scheduler.draw.draw` with the seed-free work (population masks, history dedup,
    frequency cap) done once; per seed only the in-plan dedup and the tickets are recomputed.
    Gives exactly ``draw``'s strata and selection (tested)."""

    def __init__(
        self, plan: Plan, registry: Registry, keys: KeyFunction = ticket_keys, resolve_ties: bool | None = None
    ):
        """``resolve_ties`` (default: when ``keys`` is :func:`ticket_keys`): where keys tie at a
        stratum's cut, order by the full ticket, then the code, as ``draw`` does."""
        self.plan = plan
        self.registry = registry
        self.keys = keys
        self.resolve_ties = keys is ticket_keys if resolve_ties is None else resolve_ties
        ent = registry.enterprises
        self.codes = ent["credit_code"].to_numpy().astype(str)
        risk = ent["risk_class"].to_numpy()
        key = ent["key_area"].to_numpy(dtype=bool)
        hist = recent_history(plan, registry)
        positions = pd.Series(np.arange(len(ent)), index=ent["credit_code"])
        capped = frequency_capped(plan, hist, positions, risk)
        self.tasks = task_order(plan, registry)
        self.frames: list[_TaskFrame] = []
        for ti, task in enumerate(self.tasks):
            mask = population_mask(task, registry, plan.policy.drawn_statuses)
            higher = set(registry.ancestors(task.agency_id))
            out_hist = np.zeros(len(ent), dtype=bool)
            if higher and not hist.empty:
                inspected = hist.loc[hist["agency_id"].isin(higher), "credit_code"].unique()
                out_hist[positions.reindex(inspected).dropna().to_numpy(dtype=np.int64)] = True
            base = mask & ~out_hist & ~capped
            rest_pos = np.flatnonzero(base & ~key)
            self.frames.append(
                _TaskFrame(
                    task=task,
                    earlier=[k for k in range(ti) if self.tasks[k].agency_id in higher],
                    key_pos=np.flatnonzero(base & key),
                    rest_pos=rest_pos,
                    rest_codes=[c.encode() for c in self.codes[rest_pos]],
                    rest_class={c: np.flatnonzero(risk[rest_pos] == c) for c in task.population.risk_classes},
                )
            )

    def draw_positions(self, seed: str) -> SeedDraw:
        """Draw every task under ``seed``; results as registry positions."""
        drawn_by_task: list[np.ndarray] = []
        out = SeedDraw(seed, [], [], [])
        for fr in self.frames:
            task = fr.task
            earlier = [drawn_by_task[k] for k in fr.earlier]
            gone = np.concatenate(earlier) if earlier else np.zeros(0, dtype=np.int64)
            key_pos = fr.key_pos
            rest_keep = np.ones(len(fr.rest_pos), dtype=bool)
            if len(gone):
                key_pos = key_pos[~np.isin(key_pos, gone)]
                rest_keep = ~np.isin(fr.rest_pos, gone)
            out.excluded.append(len(key_pos) < len(fr.key_pos) or not rest_keep.all())
            frame_idx = {c: idx[rest_keep[idx]] for c, idx in fr.rest_class.items()}
            wanted = allocate(task, {c: len(v) for c, v in frame_idx.items()})
            keys = self.keys(seed, task.task_id, fr.rest_codes) if len(fr.rest_codes) else np.zeros(0, np.uint64)
            classes: dict[str, tuple[np.ndarray, int, np.ndarray]] = {}
            drawn = [key_pos]
            for c in sorted(frame_idx):
                idx, n = frame_idx[c], wanted[c]
                if len(idx) == 0:
                    continue
                chosen = self._smallest(seed, task.task_id, fr, idx, keys[idx], n)
                classes[c] = (idx, n, chosen)
                drawn.append(fr.rest_pos[chosen])
            out.key.append(key_pos)
            out.classes.append(classes)
            drawn_by_task.append(np.concatenate(drawn))
        return out

    def _smallest(self, seed: str, task_id: str, fr: _TaskFrame, idx: np.ndarray, k: np.ndarray, n: int) -> np.ndarray:
        """The ``n`` members of ``idx`` with the smallest keys (ties: full ticket, then code)."""
        if n >= len(idx):
            return idx
        if n == 0:
            return idx[:0]
        part = np.partition(k, (n - 1, n))
        if part[n - 1] != part[n] or not self.resolve_ties:
            return idx[np.argpartition(k, n - 1)[:n]]
        codes = [fr.rest_codes[j].decode() for j in idx]  # 64-bit tie at the boundary: compare in full
        full = sorted((ticket(seed, task_id, code), code, j) for code, j in zip(codes, idx, strict=True))
        return np.array([j for _, _, j in full[:n]], dtype=np.int64)

    def draw(self, seed: str) -> tuple[list[Stratum], list[Selected]]:
        """Strata and selection rows exactly as :func:`scheduler.draw.draw` returns them."""
        res = self.draw_positions(seed)
        strata: list[Stratum] = []
        selection: list[Selected] = []
        for fr, key_pos, classes in zip(self.frames, res.key, res.classes, strict=True):
            tid = fr.task.task_id
            if len(key_pos):
                n = len(key_pos)
                strata.append(Stratum(tid, KEY_AREA, n, n, None))
                for code in sorted(self.codes[key_pos]):
                    selection.append(Selected(tid, str(code), KEY_AREA, n, n, 1.0, ticket(seed, tid, str(code))))
            for c, (idx, n, chosen) in classes.items():
                rows = sorted((ticket(seed, tid, str(self.codes[fr.rest_pos[j]])), str(self.codes[fr.rest_pos[j]])) for j in chosen)
                strata.append(Stratum(tid, c, len(idx), n, rows[-1][0] if n else None))
                for t, code in rows:
                    selection.append(Selected(tid, code, c, len(idx), n, n / len(idx), t))
        plan_order = {t.task_id: k for k, t in enumerate(self.plan.tasks)}
        selection.sort(key=lambda s: (plan_order[s.task_id], s.credit_code))
        strata.sort(key=lambda s: (plan_order[s.task_id], s.stratum != KEY_AREA, s.stratum))
        return strata, selection


def inclusion_frequencies(
    plan: Plan, registry: Registry, seeds: Sequence[str], *, keys: KeyFunction = ticket_keys
) -> pd.DataFrame:
    """Draw under every seed; per (task_id, stratum, credit_code) count the draws.

    Columns: ``drawn`` (seeds in which it was drawn), ``seeds`` (seeds in which it was in
    the stratum's frame), ``expected`` (sum of the reported ``n / N`` over those seeds),
    ``probability`` (the reported ``n / N``, exactly as on the selection rows, when the frame
    never changed; else ``expected / seeds``), ``population_size`` / ``sample_size`` (the
    stratum's ``N`` and ``n``, <NA> when they varied with the seed), ``frame_static``.
    Key-area strata have probability 1. ``keys`` replaces the ticket order (for testing a
    biased sampler through the same machinery).
    """
    fast = FastDraw(plan, registry, keys)
    n_seeds = len(seeds)
    # Per task: arrays aligned with the seed-free frame.
    acc: list[dict[str, Any]] = []
    for fr in fast.frames:
        acc.append(
            {
                "key_drawn": np.zeros(len(fr.key_pos), np.int64),
                "key_seeds": np.zeros(len(fr.key_pos), np.int64),
                "drawn": np.zeros(len(fr.rest_pos), np.int64),
                "seeds": np.zeros(len(fr.rest_pos), np.int64),
                "expected": np.zeros(len(fr.rest_pos), float),
                "sizes": {c: set() for c in fr.rest_class},
                "key_sizes": set(),
            }
        )
    for seed in seeds:
        res = fast.draw_positions(seed)
        for fr, a, key_pos, classes in zip(fast.frames, acc, res.key, res.classes, strict=True):
            if len(key_pos) == len(fr.key_pos):
                a["key_drawn"] += 1
                a["key_seeds"] += 1
            else:
                kept = np.isin(fr.key_pos, key_pos)
                a["key_drawn"][kept] += 1
                a["key_seeds"][kept] += 1
            a["key_sizes"].add(len(key_pos))
            for c, (idx, n, chosen) in classes.items():
                a["seeds"][idx] += 1
                a["expected"][idx] += n / len(idx)
                a["drawn"][chosen] += 1
                a["sizes"][c].add((len(idx), n))
    parts = []
    for fr, a in zip(fast.frames, acc, strict=True):
        tid = fr.task.task_id
        if len(fr.key_pos):
            static = len(a["key_sizes"]) == 1 and bool((a["key_seeds"] == n_seeds).all())
            n_key = next(iter(a["key_sizes"])) if static else pd.NA
            parts.append(
                pd.DataFrame(
                    {
                        "task_id": tid,
                        "stratum": KEY_AREA,
                        "credit_code": fast.codes[fr.key_pos],
                        "drawn": a["key_drawn"],
                        "seeds": a["key_seeds"],
                        "expected": a["key_seeds"].astype(float),
                        "probability": 1.0,
                        "population_size": n_key,
                        "sample_size": n_key,
                        "frame_static": static,
                    }
                )
            )
        for c, idx in fr.rest_class.items():
            if len(idx) == 0:
                continue
            sizes = a["sizes"][c]
            static = len(sizes) == 1 and bool((a["seeds"][idx] == n_seeds).all())
            big_n, n = next(iter(sizes)) if static else (pd.NA, pd.NA)
            parts.append(
                pd.DataFrame(
                    {
                        "task_id": tid,
                        "stratum": c,
                        "credit_code": fast.codes[fr.rest_pos[idx]],
                        "drawn": a["drawn"][idx],
                        "seeds": a["seeds"][idx],
                        "expected": a["expected"][idx],
                        "probability": n / big_n if static else a["expected"][idx] / np.maximum(1, a["seeds"][idx]),
                        "population_size": big_n,
                        "sample_size": n,
                        "frame_static": static,
                    }
                )
            )
    columns = ["task_id", "stratum", "credit_code", "drawn", "seeds", "expected", "probability"]
    columns += ["population_size", "sample_size", "frame_static"]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    table = table[table["seeds"] > 0].reset_index(drop=True)
    table["population_size"] = table["population_size"].astype("Int64")
    table["sample_size"] = table["sample_size"].astype("Int64")
    return table


def stratum_tests(freq: pd.DataFrame, alpha: float = 1e-3) -> dict[tuple[str, str], TestResult]:
    """:func:`frequency_test` on every stratum of an :func:`inclusion_frequencies` table.

    Family-wise level ``alpha``: each of the ``m`` strata is tested at ``alpha / m``
    (Bonferroni, valid whatever the dependence between strata). Static frames use the
    fixed-total correction; frames that varied with the seed are tested cell by cell against
    ``expected`` (a slightly conservative variance: ``T p (1 - p)`` with ``p`` the mean
    per-seed probability is at least the true ``sum p_s (1 - p_s)``).
    """
    groups = list(freq.groupby(["task_id", "stratum"], sort=False))
    level = alpha / max(1, len(groups))
    out: dict[tuple[str, str], TestResult] = {}
    for (tid, stratum), g in groups:
        out[(str(tid), str(stratum))] = frequency_test(
            g["drawn"].to_numpy(),
            g["probability"].to_numpy(),
            g["seeds"].to_numpy(),
            level,
            fixed_total=bool(g["frame_static"].iloc[0]),
        )
    return out


# ---------------------------------------------------------------------------
# Claim 2: pair frequencies of the team lottery
# ---------------------------------------------------------------------------


def solve_lottery(plan: Plan, registry: Registry, visits: list[Visit], roster: Roster) -> Lottery:
    """The staffing lottery's marginals (no seed used); ``draw_teams(lottery, seed)`` rounds them."""
    return staffing.build_lottery(plan, registry, visits, roster)


@dataclass
class PairFrequencies:
    """Per (inspector, visit) pair: marginal, times chosen over ``trials`` seeds; the stats."""

    table: pd.DataFrame  # inspector_id, visit_id, marginal, chosen
    trials: int
    stats: StaffingStats
    cap: float
    over_cap: int = field(default=0)


def pair_frequencies(
    plan: Plan, registry: Registry, visits: list[Visit], roster: Roster, seeds: Sequence[str]
) -> PairFrequencies:
    """Solve the marginals once (they do not depend on the seed), round them under every seed
    and count how often each eligible pair was drawn."""
    lottery = solve_lottery(plan, registry, visits, roster)
    p_insp, p_visit, _ = pairs_of(lottery.problem)
    marginal = lottery.marginals.pair_flow / UNIT
    n_insp = max(len(roster.inspectors), 1)
    key_of = p_visit.astype(np.int64) * n_insp + p_insp  # pairs_of's order: visit, then inspector
    chosen = np.zeros(len(key_of), dtype=np.int64)
    stats = StaffingStats()
    index = roster.index
    for seed in seeds:
        teams, stats = staffing.draw_teams(lottery, seed)
        keys = np.array([v * n_insp + index[i] for v, team in enumerate(teams) for i in team], dtype=np.int64)
        pos = np.searchsorted(key_of, keys)
        if np.any(pos >= len(key_of)) or np.any(key_of[np.minimum(pos, len(key_of) - 1)] != keys):
            raise AssertionError("the lottery chose a pair that is not eligible")
        np.add.at(chosen, pos, 1)
    table = pd.DataFrame(
        {
            "inspector_id": [roster.inspectors[i].inspector_id for i in p_insp],
            "visit_id": [visits[v].visit_id for v in p_visit],
            "marginal": marginal,
            "chosen": chosen,
        }
    )
    over = int((marginal > lottery.cap + 1e-12).sum())
    return PairFrequencies(table, len(seeds), stats, lottery.cap, over)


def pair_test(freq: PairFrequencies, alpha: float = 1e-3) -> TestResult:
    """Every pair drawn with its marginal: exact per-pair binomial tests, Bonferroni over pairs."""
    t = freq.table
    return frequency_test(t["chosen"].to_numpy(), t["marginal"].to_numpy(), freq.trials, alpha, method="bonferroni")
