"""The fairness claims, checked statistically from many seeds.

(1) Every enterprise is drawn with exactly the reported ``n / N``; (2) every
(inspector, visit) pair is drawn with exactly its marginal, which stays under
``pair_probability_cap`` unless the stats say otherwise. Each check is shown
to pass on the real code and to fail on a deliberately biased variant.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import scheduler.lottery as lottery
from scheduler import fairness as fz
from scheduler.draw import KEY_AREA, draw
from scheduler.importer import load_registry
from scheduler.pipeline import plan_days
from scheduler.plan import load_plan
from scheduler.staffing import build_roster, draw_teams, staff
from scheduler.visits import build_visits
from scheduler.workdays import WorkCalendar
from tests import factories as f
from tests.factories import CITY_TASK, COUNTY_TASK

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample_county"
DRAW_SEEDS = [f"fairness-{k}" for k in range(500)]
PAIR_SEEDS = [f"pairs-{k}" for k in range(400)]
ALPHA = 1e-3



@pytest.fixture(scope="module")
def sample():
    return load_plan(SAMPLE / "plan.yaml"), load_registry(SAMPLE)


def favour_digits(factor: float):
    """A biased key function: tickets of codes ending in a digit shrink by ``factor``."""

    def keys(seed: str, task_id: str, codes) -> np.ndarray:
        k = fz.ticket_keys(seed, task_id, codes).copy()
        fav = np.array([c[-1:].isdigit() for c in codes], dtype=bool)
        k[fav] = (k[fav] // np.uint64(1000)) * np.uint64(int(factor * 1000))
        return k

    return keys


# --- distribution helpers against table values ------------------------------------------


@pytest.mark.parametrize("dof, quantile", [(1, 3.841459), (2, 5.991465), (10, 18.307038), (100, 124.342113)])
def test_chi2_95_percent_quantiles_match_tables(dof, quantile):
    assert fz.chi2_isf(0.05, dof) == pytest.approx(quantile, abs=2e-6)
    assert fz.chi2_sf(quantile, dof) == pytest.approx(0.05, abs=1e-7)


def test_chi2_upper_tail_known_values():
    """Q(1, x) = exp(-x); chi-square(2) tail exp(-x/2); 99.9 % points 10.828 (1), 29.588 (10)."""
    for x in (0.1, 1.0, 5.0, 30.0):
        assert fz.gammaincc(1.0, x) == pytest.approx(math.exp(-x), rel=1e-12)
        assert fz.chi2_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-12)
    assert fz.chi2_isf(1e-3, 1) == pytest.approx(10.828, abs=1e-3)
    assert fz.chi2_isf(1e-3, 10) == pytest.approx(29.588, abs=1e-3)
    assert fz.chi2_sf(4000.0, 4000) == pytest.approx(0.5 - 0.00297, abs=5e-4)  # large dof: near the median
    assert fz.normal_isf(0.025) == pytest.approx(1.959964, abs=1e-6)


def test_exact_binomial_two_sided():
    p = fz.binom_two_sided(np.array([0, 5, 10, 2]), 10, np.array([0.5, 0.5, 0.5, 0.5]))
    assert p == pytest.approx([2 / 1024, 1.0, 2 / 1024, 2 * 56 / 1024])


def test_cells_with_probability_zero_or_one_must_match_exactly():
    assert fz.frequency_test([500, 500], [1.0, 1.0], 500).passed
    assert not fz.frequency_test([500, 499], [1.0, 1.0], 500).passed
    assert not fz.frequency_test([1, 0], [0.0, 0.0], 500).passed


def test_frequency_test_is_calibrated_on_simulated_simple_random_samples():
    """Under the null (n of N without replacement, 500 times, expected counts 10) the test
    rejects at its level (numpy's generator here, not the tickets)."""
    rng = np.random.default_rng(7)
    big_n, n, trials = 300, 6, 500
    p_values = []
    for _ in range(300):
        picks = np.argpartition(rng.random((trials, big_n)), n, axis=1)[:, :n]
        counts = np.bincount(picks.ravel(), minlength=big_n)
        r = fz.frequency_test(counts, np.full(big_n, n / big_n), trials, fixed_total=True)
        p_values.append(r.p_value)
    p_values = np.array(p_values)
    # Binomial(300, 0.05): mean 15, sd 3.8; Binomial(300, 0.5): mean 150, sd 8.7.
    assert 3 <= (p_values < 0.05).sum() <= 30
    assert 120 <= (p_values < 0.5).sum() <= 180


def test_frequency_test_is_calibrated_for_independent_cells_with_small_counts():
    """Independent Binomial(500, 0.004) cells (expected count 2): the kurtosis term keeps the
    rejection rate at the level (plain chi-square would reject about 1.4 times as often)."""
    rng = np.random.default_rng(3)
    p_values = np.array(
        [fz.frequency_test(rng.binomial(500, 0.004, size=300), np.full(300, 0.004), 500).p_value for _ in range(600)]
    )
    # Binomial(600, 0.05): mean 30, sd 5.3.
    assert 14 <= (p_values < 0.05).sum() <= 46
    assert 240 <= (p_values < 0.5).sum() <= 360


# --- claim 1: enterprises ----------------------------------------------------------------


def test_fast_draw_equals_draw_on_the_sample_county(sample):
    plan, registry = sample
    fast = fz.FastDraw(plan, registry)
    for seed in ("20260105", "a", "fairness-17"):
        strata, selection, _ = draw(plan, registry, seed)
        assert fast.draw(seed) == (strata, selection)


def test_fast_draw_equals_draw_when_in_plan_dedup_changes_the_frame():
    registry = f.registry(300, key_every=11)
    plan = f.plan([COUNTY_TASK, CITY_TASK])
    fast = fz.FastDraw(plan, registry)
    for seed in ("s1", "s2", "s3", "s4"):
        strata, selection, frames = draw(plan, registry, seed)
        assert next(fr for fr in frames if fr.task_id == "T-county").dedup_plan > 0
        assert fast.draw(seed) == (strata, selection)


def test_ties_of_the_64_bit_keys_are_resolved_by_the_full_ticket(sample):
    """Keys of only 4 bits tie everywhere; the full-ticket tie-break still gives draw's result."""
    plan, registry = sample

    def coarse(seed, task_id, codes):
        return fz.ticket_keys(seed, task_id, codes) >> np.uint64(60)

    fast = fz.FastDraw(plan, registry, keys=coarse, resolve_ties=True)
    strata, selection, _ = draw(plan, registry, "ties")
    assert fast.draw("ties") == (strata, selection)


def test_sample_county_draw_passes_every_stratum(sample):
    """Claim 1 on the bundled county, 500 seeds: every stratum's counts fit n / N."""
    plan, registry = sample
    freq = fz.inclusion_frequencies(plan, registry, DRAW_SEEDS)
    strata, _, _ = draw(plan, registry, DRAW_SEEDS[0])
    assert set(freq.groupby(["task_id", "stratum"]).groups) == {(s.task_id, s.stratum) for s in strata}
    for s in strata:  # the reported probability is the published n / N
        rows = freq[(freq["task_id"] == s.task_id) & (freq["stratum"] == s.stratum)]
        assert len(rows) == s.population_size
        assert (rows["probability"] == s.inclusion_probability).all()
        assert rows["frame_static"].all() and (rows["seeds"] == len(DRAW_SEEDS)).all()
        assert rows["drawn"].sum() == s.sample_size * len(DRAW_SEEDS)
    key = freq[freq["stratum"] == KEY_AREA]
    assert (key["drawn"] == len(DRAW_SEEDS)).all()
    results = fz.stratum_tests(freq, ALPHA)
    failed = {k: r for k, r in results.items() if not r.passed}
    assert not failed, failed


def test_biased_draw_fails_the_same_test(sample):
    """Favouring codes that end in a digit (tickets x 0.8) is caught in most strata."""
    plan, registry = sample
    freq = fz.inclusion_frequencies(plan, registry, DRAW_SEEDS, keys=favour_digits(0.8))
    results = fz.stratum_tests(freq, ALPHA)
    failed = [k for k, r in results.items() if not r.passed]
    assert len(failed) >= 15, failed
    assert not results[("T130123-F", "A")].passed  # the largest stratum


def test_seed_dependent_frames_are_compared_with_their_per_seed_probability():
    """County frame shrinks by the city's draw, differently per seed: still exact."""
    registry = f.registry(400, key_every=13)
    plan = f.plan([COUNTY_TASK, CITY_TASK])
    freq = fz.inclusion_frequencies(plan, registry, DRAW_SEEDS)
    county = freq[freq["task_id"] == "T-county"]
    assert not county["frame_static"].any()
    assert county["population_size"].isna().all()
    assert (county["seeds"] < len(DRAW_SEEDS)).all()
    assert freq[freq["task_id"] == "T-city"]["frame_static"].all()
    results = fz.stratum_tests(freq, ALPHA)
    assert all(r.passed for r in results.values()), results
    biased = fz.stratum_tests(fz.inclusion_frequencies(plan, registry, DRAW_SEEDS, keys=favour_digits(0.5)), ALPHA)
    assert not all(r.passed for r in biased.values())


# --- claim 2: team lottery ---------------------------------------------------------------


def small_staffing(n_inspectors: int = 12, n_enterprises: int = 200):
    inspectors = [f.inspector(f"I{k:03d}") for k in range(n_inspectors)]
    registry = f.registry(n_enterprises, inspectors)
    plan = f.plan()
    _, selection, _ = draw(plan, registry, "staff")
    visits = build_visits(plan, registry, selection)
    roster = build_roster(plan, registry, plan_days(plan, WorkCalendar()))
    return plan, registry, visits, roster


def test_captured_lottery_draws_what_staff_draws():
    plan, registry, visits, roster = small_staffing()
    lot = fz.solve_lottery(plan, registry, visits, roster)
    for seed in ("x", "y", "z"):
        assert draw_teams(lot, seed)[0] == staff(plan, registry, visits, roster, seed)[0]


def test_lottery_pair_frequencies_match_the_marginals():
    """Claim 2, 400 seeds: every pair is drawn with its marginal, all marginals <= cap."""
    plan, registry, visits, roster = small_staffing()
    freq = fz.pair_frequencies(plan, registry, visits, roster, PAIR_SEEDS)
    assert len(freq.table) == len(visits) * 12
    assert freq.table["marginal"].max() <= plan.policy.pair_probability_cap
    assert freq.over_cap == freq.stats.pairs_over_cap == 0
    # Each visit's team has team_size members in every seed.
    assert freq.table["chosen"].sum() == len(visits) * plan.policy.team_size * len(PAIR_SEEDS)
    assert fz.pair_test(freq, ALPHA).passed


def test_always_rounding_up_fails_the_pair_test(monkeypatch):
    """Replace the lottery's coin with one that always pushes +up: caught."""
    plan, registry, visits, roster = small_staffing()
    monkeypatch.setattr(lottery, "random_stream", lambda key, n: np.zeros(n, dtype=np.int64))
    freq = fz.pair_frequencies(plan, registry, visits, roster, PAIR_SEEDS)
    assert not fz.pair_test(freq, ALPHA).passed


def test_pairs_over_the_cap_only_when_the_stats_report_them():
    """Three inspectors for teams of two: pairs must exceed 0.5, and the stats say how many."""
    plan, registry, visits, roster = small_staffing(n_inspectors=3, n_enterprises=60)
    freq = fz.pair_frequencies(plan, registry, visits, roster, PAIR_SEEDS[:300])
    over = int((freq.table["marginal"] > freq.cap).sum())
    assert over > 0
    assert freq.over_cap == freq.stats.pairs_over_cap == over
    assert fz.pair_test(freq, ALPHA).passed
