"""The random draw of enterprises (第一个随机), task by task, top level first.

Rules (Hebei provincial opinion 2016; Xingtai action 2023; contract):
- population: active enterprises in the lead agency's jurisdiction, the
  task's region prefix, industry prefixes and risk classes;
- dedup across levels: out if a higher agency of the same department
  inspected it within ``lookback_days`` or drew it earlier in this plan;
- frequency cap: out if history holds ``max_visits_per_enterprise`` visits
  within ``lookback_days`` (all departments; D-class exempt);
- key-area (重点领域) enterprises: all drawn;
- the rest, per risk-class stratum: ``round(ratio * N)`` (halves up) or a
  fixed count, the smallest keyed tickets (see :mod:`scheduler.tickets`).

A task depends only on the draws of the tasks of its higher agencies, so the tasks go in waves
(in practice one per level): within a wave the tickets of every stratum are hashed as
independent parts (:func:`smallest_tickets`, a pure function of a stratum's credit codes) on
an executor (:mod:`scheduler.executor`); the result is the same whatever runs them. The
registry is held as plain arrays (credit codes as fixed-width bytes, the other columns as
small integer codes), so millions of enterprises cost no Python object each.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from scheduler.errors import InputError, Problem
from scheduler.executor import Executor, LocalExecutor, map_packed
from scheduler.forms import ACTIVE
from scheduler.messages import t as msg
from scheduler.plan import Plan, Task
from scheduler.plan_run import Selected, Stratum, TaskFrame
from scheduler.registry import Registry
from scheduler.tables import byte_strings, row_hashes

KEY_AREA = "key_area"
HASH_BLOCK = 1 << 16  # codes per hashlib batch: bounds the Python objects alive at once
PART_SIZE = 1 << 20  # a larger stratum is hashed as several parts (in parallel on an executor)


def lookback_start(plan: Plan) -> dt.date:
    """Start of the window for dedup, frequency cap and rotation (quarter start minus lookback)."""
    return plan.quarter_start - dt.timedelta(days=plan.policy.lookback_days)


def task_order(plan: Plan, registry: Registry) -> list[Task]:
    """Tasks top level first (province, city, county, township), then as in the plan."""
    indexed = list(enumerate(plan.tasks))
    indexed.sort(key=lambda kt: (registry.agencies[kt[1].agency_id].level, kt[0]))
    return [t for _, t in indexed]


def recent_history(plan: Plan, registry: Registry) -> pd.DataFrame:
    """History rows dated within the lookback window (up to the quarter's end)."""
    h = registry.history
    if h.empty:
        return h
    start = pd.Timestamp(lookback_start(plan))
    end = pd.Timestamp(plan.quarter_end)
    return h[(h["date"] >= start) & (h["date"] <= end)]


def _factorized(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(code per row, distinct values as str); a missing value becomes ``""``."""
    codes, uniques = pd.factorize(s)
    values = [str(u) for u in uniques]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(values), codes)
        values.append("")
    return codes, values


class EnterpriseIndex:
    """Enterprises grouped by region code, so a jurisdiction is a slice, not a scan (a province
    plan has hundreds of tasks over millions of rows). Region, industry, risk class and status
    are held as small integer codes over their distinct values."""

    def __init__(self, registry: Registry):
        ent = registry.enterprises
        region, regions = _factorized(ent["region_code"])
        by_name = sorted(range(len(regions)), key=regions.__getitem__)
        rank = np.empty(len(regions), dtype=np.int64)
        rank[by_name] = np.arange(len(regions))
        key = rank[region]
        self.order = np.argsort(key, kind="stable")
        self.regions = [regions[k] for k in by_name]  # distinct region codes, sorted
        self.bounds = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=len(regions)))])
        self.status, self.statuses = _factorized(ent["status"])
        self.active = self.status_in({ACTIVE})
        self.industry, self.industries = _factorized(ent["industry"])
        self.risk, self.risks = _factorized(ent["risk_class"])
        entity = ent["entity_type"] if "entity_type" in ent.columns else pd.Series("", index=ent.index)
        self.entity, self.entities = _factorized(entity)

    def status_in(self, statuses: Iterable[str]) -> np.ndarray:
        """Per row: is its registration status one of ``statuses``."""
        wanted = set(statuses)
        return np.array([v in wanted for v in self.statuses], dtype=bool)[self.status]

    def rows(self, prefix: str) -> np.ndarray:
        """Row numbers (ascending) of the enterprises whose region code starts with ``prefix``."""
        lo = bisect.bisect_left(self.regions, prefix)
        hi = bisect.bisect_left(self.regions, prefix + "~")  # '~' sorts after digits
        return np.sort(self.order[self.bounds[lo] : self.bounds[hi]])

    def risk_in(self, classes: Iterable[str]) -> np.ndarray:
        """Per distinct risk class: is it one of ``classes``."""
        wanted = set(classes)
        return np.array([v in wanted for v in self.risks], dtype=bool)


def population_funnel(
    task: Task, registry: Registry, index: EnterpriseIndex, drawn: np.ndarray | None = None
) -> tuple[np.ndarray, dict[str, int]]:
    """Row numbers of the task's population (drawable status, in the jurisdiction and the task's
    region, industries, risk classes and entity types) and how many each filter took out, in
    that order (:class:`~scheduler.plan_run.TaskFrame`). ``drawn`` is the per-row mask of drawable
    statuses (default: the active family)."""
    lead = registry.agencies[task.agency_id]
    prefix = task.population.region_prefix
    # The narrower of the two prefixes (they are nested or the plan was refused).
    rows = index.rows(prefix if prefix.startswith(lead.prefix) else lead.prefix)
    if prefix and not prefix.startswith(lead.prefix) and not lead.prefix.startswith(prefix):
        rows = rows[:0]
    counts = {"jurisdiction": len(rows)}
    keep = (index.active if drawn is None else drawn)[rows]
    counts["not_active"] = int((~keep).sum())
    if task.population.industries:
        prefixes = tuple(task.population.industries)
        wanted = np.array([v.startswith(prefixes) for v in index.industries], dtype=bool)
        inside = wanted[index.industry[rows]]
        counts["industry"] = int((keep & ~inside).sum())
        keep &= inside
    else:
        counts["industry"] = 0
    inside = index.risk_in(task.population.risk_classes)[index.risk[rows]]
    counts["risk_class"] = int((keep & ~inside).sum())
    keep &= inside
    if task.population.entity_types:
        types = set(task.population.entity_types)
        inside = np.array([v in types for v in index.entities], dtype=bool)[index.entity[rows]]
        counts["entity_type"] = int((keep & ~inside).sum())
        keep &= inside
    else:
        counts["entity_type"] = 0
    return rows[keep], counts


def population_rows(
    task: Task, registry: Registry, index: EnterpriseIndex, drawn: np.ndarray | None = None
) -> np.ndarray:
    """Row numbers of the drawable enterprises in the task's population (:func:`population_funnel`)."""
    return population_funnel(task, registry, index, drawn)[0]


def frame_text(frame: TaskFrame) -> str:
    """A task's exclusion counts in one line, in the current language (output, errors)."""
    parts = [f"{msg(f'step_{k}')} {v}" for k, v in frame.as_dict().items() if k != "task_id"]
    return msg("clause_sep").join(parts)


def population_mask(task: Task, registry: Registry, statuses: Iterable[str] = (ACTIVE,)) -> np.ndarray:
    """Drawable enterprises (status in ``statuses``) in the task's population, as a mask over the
    registry's rows."""
    index = EnterpriseIndex(registry)
    mask = np.zeros(len(registry.enterprises), dtype=bool)
    mask[population_rows(task, registry, index, index.status_in(statuses))] = True
    return mask


def allocate(task: Task, sizes: dict[str, int]) -> dict[str, int]:
    """Sample size per risk-class stratum.

    ``ratio``: ``round(ratio * N)`` with halves rounded up (exact decimal
    arithmetic, so any language gets the same number). ``count`` as a whole
    number: split over the strata in proportion to their sizes by largest
    remainder (ties to the earlier class); as a mapping: per class, at most N.
    """
    if task.ratio is not None:
        return {
            c: min(n, int((task.ratio.get(c, Decimal(0)) * n).quantize(Decimal(1), ROUND_HALF_UP)))
            for c, n in sizes.items()
        }
    if isinstance(task.count, dict):
        return {c: min(n, task.count.get(c, 0)) for c, n in sizes.items()}
    total = sum(sizes.values())
    want = min(int(task.count or 0), total)
    if total == 0:
        return {c: 0 for c in sizes}
    base = {c: want * n // total for c, n in sizes.items()}
    rest = want - sum(base.values())
    order = sorted(sizes, key=lambda c: (-(want * sizes[c] % total), c))
    for c in order[:rest]:
        base[c] += 1
    return base


def frequency_capped(plan: Plan, hist: pd.DataFrame, positions: pd.Series, risk: np.ndarray) -> np.ndarray:
    """Frequency cap: enterprises with ``max_visits_per_enterprise`` visits in the lookback window
    (all departments together) are out; D-class is exempt. ``positions`` maps credit code to row."""
    capped = np.zeros(len(risk), dtype=bool)
    if not hist.empty:
        counts = hist["credit_code"].value_counts()
        over = counts[counts >= plan.policy.max_visits_per_enterprise].index
        capped[positions.reindex(over).dropna().to_numpy(dtype=np.int64)] = True
        capped &= risk != "D"
    return capped


def locate(codes: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row in ``codes`` (fixed-width bytes, distinct) of each of ``wanted``; -1 where absent.
    Sorts 64-bit hashes, not strings; equal hashes are confirmed byte for byte."""
    out = np.full(len(wanted), -1, dtype=np.int64)
    if not len(codes) or not len(wanted):
        return out
    width = codes.dtype.itemsize
    fits = np.char.str_len(wanted) <= width
    query = np.flatnonzero(fits)
    wanted = wanted[query].astype(f"S{width}")
    hashes = row_hashes(codes)
    order = np.argsort(hashes)
    hashes = hashes[order]
    h = row_hashes(wanted)
    by_hash = np.argsort(h)  # sorted queries: a cache-friendly search
    lo, hi = np.empty(len(h), dtype=np.int64), np.empty(len(h), dtype=np.int64)
    lo[by_hash] = np.searchsorted(hashes, h[by_hash], side="left")
    hi[by_hash] = np.searchsorted(hashes, h[by_hash], side="right")
    one = np.flatnonzero(hi - lo == 1)
    rows = order[lo[one]]
    same = codes[rows] == wanted[one]
    out[query[one[same]]] = rows[same]
    for k in np.flatnonzero(hi - lo > 1):  # a hash shared by several codes: compare each
        for j in order[lo[k] : hi[k]]:
            if codes[j] == wanted[k]:
                out[query[k]] = j
    return out


def smallest_tickets(seed: str, task_id: str, codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` enterprises of ``codes`` (UTF-8 bytes) with the smallest tickets
    ``SHA-256(seed|task_id|code)``, ties (only between equal codes) broken by the code.

    Returns their positions in ``codes``, in ticket order, and their tickets as rows of four
    big-endian 64-bit words (the digest; ``ticket_hex`` spells it). A pure function of plain
    arrays: an executor may run it anywhere. The first word alone picks the candidates; the
    exact order is only sorted among them.
    """
    m = len(codes)
    n = min(n, m)
    if n <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 4), dtype=np.uint64)
    prefix = f"{seed}|{task_id}|".encode()
    sha = hashlib.sha256
    words = np.empty((m, 4), dtype=np.uint64)
    for start in range(0, m, HASH_BLOCK):
        block = codes[start : start + HASH_BLOCK].tolist()
        digests = b"".join([sha(prefix + c).digest() for c in block])
        words[start : start + len(block)] = np.frombuffer(digests, dtype=">u8").reshape(-1, 4)
    if n < m:
        cut = np.partition(words[:, 0], n - 1)[n - 1]
        candidates = np.flatnonzero(words[:, 0] <= cut)
    else:
        candidates = np.arange(m)
    w = words[candidates]
    order = np.lexsort((codes[candidates], w[:, 3], w[:, 2], w[:, 1], w[:, 0]))[:n]
    return candidates[order], w[order]


def ticket_hex(words: np.ndarray) -> list[str]:
    """Tickets (rows of four 64-bit words) as 64 lowercase hex characters."""
    return [bytes(row).hex() for row in words.astype(">u8")]


def _parts(seed: str, task_id: str, codes: np.ndarray, n: int) -> list[tuple]:
    """A stratum's hashing split into independent parts of at most :data:`PART_SIZE` codes."""
    return [(seed, task_id, codes[s : s + PART_SIZE], n) for s in range(0, max(len(codes), 1), PART_SIZE)]


def _merge(
    codes: np.ndarray, starts: list[int], results: list[tuple[np.ndarray, np.ndarray]], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` smallest over the parts' own ``n`` smallest (each part's best hold the best)."""
    if len(results) == 1:
        return results[0]
    pos = np.concatenate([start + p for start, (p, _) in zip(starts, results, strict=True)])
    w = np.concatenate([w for _, w in results])
    order = np.lexsort((codes[pos], w[:, 3], w[:, 2], w[:, 1], w[:, 0]))[:n]
    return pos[order], w[order]


def _run(executor: Executor, jobs: list[tuple]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every job's :func:`smallest_tickets`, in order: small jobs packed into batches of about
    a quarter of a worker's share (fewer messages; packing changes no result)."""
    sizes = [len(j[2]) for j in jobs]
    return map_packed(executor, smallest_tickets, jobs, sizes, sum(sizes) // (4 * max(1, executor.workers)))


def waves(plan: Plan, registry: Registry) -> list[list[Task]]:
    """The tasks in :func:`task_order`, cut where a task's higher agency has a task in the
    current wave: no task of a wave depends on another's draw (in practice: one wave per level
    and department)."""
    out: list[list[Task]] = []
    agencies: set[str] = set()
    for task in task_order(plan, registry):
        if not out or agencies.intersection(registry.ancestors(task.agency_id)):
            out.append([])
            agencies = set()
        out[-1].append(task)
        agencies.add(task.agency_id)
    return out


def _code(values: list[str], value: str) -> int:
    """The code of ``value`` among ``values``; -1 (matches no row) when absent."""
    return values.index(value) if value in values else -1


class _Marks:
    """A reusable mask over the registry's rows: which of ``rows`` are in ``sets``."""

    def __init__(self, n: int):
        self.mask = np.zeros(n, dtype=bool)

    def member(self, rows: np.ndarray, sets: list[np.ndarray]) -> np.ndarray:
        for s in sets:
            self.mask[s] = True
        out = self.mask[rows]
        for s in sets:
            self.mask[s] = False
        return out


def draw(
    plan: Plan, registry: Registry, seed: str, executor: Executor | None = None
) -> tuple[list[Stratum], list[Selected], list[TaskFrame]]:
    """Draw every task. Returns the strata, the selection rows and per-task counts.

    ``executor`` (:func:`scheduler.executor.make_executor`; default: in this process) hashes
    the tickets of each wave's strata; the result does not depend on it."""
    ent = registry.enterprises
    codes = byte_strings(ent["credit_code"])
    key = ent["key_area"].to_numpy(dtype=bool)
    index = EnterpriseIndex(registry)
    drawable = index.status_in(plan.policy.drawn_statuses)
    hist = recent_history(plan, registry)
    inspected_by: dict[str, np.ndarray] = {}
    capped = np.zeros(len(ent), dtype=bool)
    if not hist.empty:
        hist_rows = locate(codes, byte_strings(hist["credit_code"]))
        known = hist_rows >= 0
        visits = np.bincount(hist_rows[known], minlength=len(ent))
        capped = (visits > 0) & (visits >= plan.policy.max_visits_per_enterprise)
        capped &= ~np.array([v == "D" for v in index.risks], dtype=bool)[index.risk]
        agency, agencies = pd.factorize(hist["agency_id"].to_numpy(dtype=object)[known])
        rows = hist_rows[known]
        order = np.argsort(agency, kind="stable")
        bounds = np.searchsorted(agency[order], np.arange(len(agencies) + 1))
        for k, a in enumerate(agencies):
            inspected_by[str(a)] = np.unique(rows[order[bounds[k] : bounds[k + 1]]])
    executor = executor or LocalExecutor()

    drawn_by_agency: dict[str, list[np.ndarray]] = {}
    marks = _Marks(len(ent))
    strata: list[Stratum] = []
    selection: list[Selected] = []
    frames: list[TaskFrame] = []
    for wave in waves(plan, registry):
        # 1. Populations, dedup and strata of every task of the wave (no ticket yet).
        jobs: list[tuple] = []
        plans: list[tuple[Task, list[tuple[str, np.ndarray, int, int, list[int]]]]] = []
        for task in wave:
            rows, funnel = population_funnel(task, registry, index, drawable)
            higher = registry.ancestors(task.agency_id)
            out_hist = marks.member(rows, [inspected_by[a] for a in higher if a in inspected_by])
            earlier = [x for a in higher for x in drawn_by_agency.get(a, [])]
            out_plan = marks.member(rows, earlier) & ~out_hist
            out_cap = capped[rows] & ~out_hist & ~out_plan
            eligible = rows[~(out_hist | out_plan | out_cap)]
            frames.append(
                TaskFrame(
                    task.task_id,
                    len(rows),
                    int(out_hist.sum()),
                    int(out_plan.sum()),
                    int(out_cap.sum()),
                    len(eligible),
                    **funnel,
                )
            )
            parts: list[tuple[str, np.ndarray, int, int, list[int]]] = []
            key_idx = eligible[key[eligible]]
            if len(key_idx):
                key_idx = key_idx[np.argsort(codes[key_idx], kind="stable")]
                parts.append((KEY_AREA, key_idx, len(key_idx), len(key_idx), []))
            rest = eligible[~key[eligible]]
            rest_risk = index.risk[rest]
            by_class = {c: rest[rest_risk == _code(index.risks, c)] for c in task.population.risk_classes}
            sizes = {c: len(v) for c, v in by_class.items()}
            wanted = allocate(task, sizes)
            for c in sorted(by_class):
                if sizes[c]:
                    parts.append((c, by_class[c], sizes[c], wanted[c], []))
            for _, members, _, n, job_ids in parts:
                if n:
                    for args in _parts(seed, task.task_id, codes[members], n):
                        job_ids.append(len(jobs))
                        jobs.append(args)
            plans.append((task, parts))

        # 2. The tickets: independent parts, on the executor.
        results = _run(executor, jobs)

        # 3. Strata, selection and what each agency drew (for the waves below).
        for task, parts in plans:
            drawn: list[np.ndarray] = []
            for stratum, members, n_all, n, job_ids in parts:
                starts = list(range(0, n_all, PART_SIZE))
                if n:
                    pos, words = _merge(codes[members], starts, [results[j] for j in job_ids], n)
                else:
                    pos, words = np.zeros(0, dtype=np.int64), np.zeros((0, 4), dtype=np.uint64)
                hexes = ticket_hex(words)
                if stratum == KEY_AREA:
                    strata.append(Stratum(task.task_id, KEY_AREA, n, n, None))
                    by_pos = dict(zip(pos.tolist(), hexes, strict=True))
                    for k, code in enumerate(codes[members].tolist()):
                        selection.append(
                            Selected(task.task_id, code.decode(), KEY_AREA, n, n, 1.0, by_pos[k])
                        )
                    drawn.append(members)
                    continue
                strata.append(Stratum(task.task_id, stratum, n_all, n, hexes[-1] if n else None))
                p = n / n_all
                chosen = codes[members[pos]].tolist()
                for code, t in zip(chosen, hexes, strict=True):
                    selection.append(Selected(task.task_id, code.decode(), stratum, n_all, n, p, t))
                drawn.append(members[pos])
            drawn_by_agency.setdefault(task.agency_id, []).extend(drawn)

    empty = [(k, f) for k, t in enumerate(plan.tasks) for f in frames if f.task_id == t.task_id]
    problems = [
        Problem(
            plan.file.name if plan.file else "plan",
            None,
            f"tasks[{k}] ({f.task_id})",
            msg("frame_empty", task=f.task_id, step=msg(f"step_{f.emptied_by()}"), counts=frame_text(f)),
        )
        for k, f in empty
        if f.emptied_by() is not None and not plan.tasks[k].allow_empty
    ]
    if problems:
        raise InputError(problems)
    plan_order = {t.task_id: k for k, t in enumerate(plan.tasks)}
    selection.sort(key=lambda s: (plan_order[s.task_id], s.credit_code))
    strata.sort(key=lambda s: (plan_order[s.task_id], s.stratum != KEY_AREA, s.stratum))
    frames.sort(key=lambda f: plan_order[f.task_id])
    return strata, selection, frames
