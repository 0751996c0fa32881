"""Small in-memory registries and plans for unit tests (no files, no importer)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scheduler.plan import Plan, parse_plan
from scheduler.registry import HISTORY_COLUMNS, Agency, Conflict, Inspector, Item, Leave, Level, Registry
from scheduler.uscc import make_code

AGENCIES = [
    Agency("SJ130000", "河北省市场监督管理局", "market", Level.PROVINCE, None, "130000"),
    Agency("SJ130100", "石家庄市市场监督管理局", "market", Level.CITY, "SJ130000", "130100"),
    Agency("SJ130123", "正定县市场监督管理局", "market", Level.COUNTY, "SJ130100", "130123"),
    Agency("SJ130124", "栾城县市场监督管理局", "market", Level.COUNTY, "SJ130100", "130124"),
    Agency("ST130100", "石家庄市生态环境局", "ecology", Level.CITY, None, "130100"),
    Agency("ST130123", "正定县生态环境局", "ecology", Level.COUNTY, "ST130100", "130123"),
]


def code(n: int) -> str:
    """A valid credit code numbered n."""
    return make_code(f"9113012{n:09d}X"[:17])


def enterprises(n: int, *, region: str = "130123", seed: int = 1, key_every: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    classes = rng.choice(list("ABCD"), size=n, p=[0.4, 0.35, 0.18, 0.07])
    rows = {
        "credit_code": [code(k) for k in range(n)],
        "name": [f"正定县企业{k}有限公司" for k in range(n)],
        "region_code": [region] * n,
        "industry": rng.choice(["C13", "C14", "F5211", "H6210"], size=n),
        "risk_class": classes,
        "key_area": [bool(key_every and k % key_every == 0) for k in range(n)],
        "abnormal": [False] * n,
        "complaints": np.zeros(n, dtype=np.int64),
        "status": ["active"] * n,
        "legal_rep_id": [f"LR{k:06d}" for k in range(n)],
        "address": [f"正定县某路{k}号" for k in range(n)],
        "lat": 38.15 + rng.random(n) * 0.1,
        "lon": 114.57 + rng.random(n) * 0.1,
    }
    return pd.DataFrame(rows)


def inspector(iid: str, agency: str = "SJ130123", **kw) -> Inspector:
    base = dict(
        name=f"检查员{iid}",
        agency_id=agency,
        certificate_no=f"CERT-{iid}",
        certificate_expiry=dt.date(2030, 1, 1),
        specialties=frozenset({"food", "general"}),
    )
    base.update(kw)
    return Inspector(iid, **base)


def registry(
    n_enterprises: int = 200,
    inspectors: list[Inspector] | None = None,
    *,
    conflicts: list[Conflict] | None = None,
    history: list[tuple[str, str, str, tuple[str, ...]]] | None = None,
    leave: list[Leave] | None = None,
    key_every: int = 0,
    seed: int = 1,
) -> Registry:
    if inspectors is None:
        inspectors = [inspector(f"I{k:03d}") for k in range(12)]
    hist = pd.DataFrame(
        [(c, a, pd.Timestamp(d), tuple(ids)) for c, a, d, ids in (history or [])], columns=HISTORY_COLUMNS
    )
    return Registry(
        agencies={a.agency_id: a for a in AGENCIES},
        enterprises=enterprises(n_enterprises, key_every=key_every, seed=seed),
        inspectors={i.inspector_id: i for i in inspectors},
        conflicts=list(conflicts or []),
        history=hist,
        leave=list(leave or []),
        items={"I-001": Item("I-001", "market", "食品经营检查", "《食品安全法》第一百一十条", "food")},
    )


# A county market task and its city's, for tests of the draw across levels.
COUNTY_TASK = {
    "task_id": "T-county",
    "agency_id": "SJ130123",
    "ratio": {"A": 0.1, "B": 0.1, "C": 0.2, "D": 0.5},
    "window": {"start": "2026-01-05", "end": "2026-03-31"},
}
CITY_TASK = {
    "task_id": "T-city",
    "agency_id": "SJ130100",
    "ratio": {"A": 0.2, "B": 0.2, "C": 0.2, "D": 0.2},
    "window": {"start": "2026-01-05", "end": "2026-03-31"},
}


def plan(tasks: list[dict] | None = None, **policy) -> Plan:
    if tasks is None:
        tasks = [
            {
                "task_id": "T1",
                "agency_id": "SJ130123",
                "ratio": {"A": 0.1, "B": 0.1, "C": 0.2, "D": 0.5},
                "window": {"start": "2026-01-05", "end": "2026-03-31"},
            }
        ]
    return parse_plan({"quarter": "2026Q1", "policy": policy, "tasks": tasks}, "plan.yaml")
