"""Synthetic registries (data.generate) and the bundled sample county."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
from pathlib import Path

import chinese_calendar
import pandas as pd
import pytest

from data.generate import (
    ECOLOGY_USABLE_MIN,
    PACE,
    SAMPLE_DIR,
    SPECIALTY_MIN,
    GenerateError,
    add_generate_arguments,
    build_sample,
    capacities,
    generate_from_args,
    generate_registry,
    main,
)
from scheduler.plan import load_plan, quarter_bounds
from scheduler.uscc import is_valid

REQUIRED = {
    "agencies": ["agency_id", "name", "department", "level", "region_code"],
    "enterprises": ["credit_code", "name", "region_code", "industry", "risk_class"],
    "inspectors": ["inspector_id", "name", "agency_id"],
    "conflicts": ["inspector_id", "credit_code"],
    "history": ["credit_code", "agency_id", "date"],
    "leave": ["inspector_id", "start", "end"],
    "items": ["item_id", "department", "name"],
}
DOCUMENTED = {
    "agencies": ["parent_id"],
    "enterprises": ["key_area", "abnormal", "complaints", "status", "legal_rep_id", "address", "lat", "lon"],
    "inspectors": [
        "certificate_no",
        "certificate_expiry",
        "auxiliary",
        "specialties",
        "quarterly_cap",
        "daily_cap",
        "former_employers",
        "relatives_ids",
    ],
    "conflicts": ["reason"],
    "history": ["inspector_ids"],
    "leave": [],
    "items": ["legal_basis", "specialty"],
}
SMALL = dict(enterprises=3_000, inspectors=80, cities=2, counties_per_city=2, seed=7)
# Province-shaped: three cities of three counties, the province and city tasks delegated to the
# county bureaus (属地实施), a busy quarter (0.78 x 110 = 86 visits per inspector > 59 working days).
PROVINCE = dict(
    enterprises=60_000,
    inspectors=300,
    cities=3,
    counties_per_city=3,
    seed=1,
    fmt="parquet",
    province_staffing="delegated",
    quarterly_cap=110,
    tightness=0.78,
)
HAS_IMPORTER = importlib.util.find_spec("scheduler.importer") is not None
HAS_DRAW = importlib.util.find_spec("scheduler.draw") is not None


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _read(folder: Path, table: str) -> pd.DataFrame:
    csv, parquet = folder / f"{table}.csv", folder / f"{table}.parquet"
    if parquet.exists():
        return pd.read_parquet(parquet).astype(str).replace({"<NA>": "", "None": "", "nan": ""})
    return pd.read_csv(csv, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return generate_registry(tmp_path_factory.mktemp("small"), **SMALL)


@pytest.fixture(scope="module")
def small_parquet(tmp_path_factory) -> Path:
    return generate_registry(tmp_path_factory.mktemp("small_pq"), fmt="parquet", **SMALL)


@pytest.fixture(scope="module")
def sample() -> dict[str, pd.DataFrame]:
    """The committed sample's tables, read with the contract's English column names."""
    from scheduler.tables import HEADER_LABELS

    def english(df: pd.DataFrame, table: str) -> pd.DataFrame:
        back = {zh: en for en, zh in HEADER_LABELS[table].items()}
        return df.rename(columns=back)

    return {
        "agencies": english(
            pd.read_csv(SAMPLE_DIR / "agencies.csv", dtype=str, encoding="gb18030", keep_default_na=False),
            "agencies",
        ),
        "enterprises": english(
            pd.read_csv(
                SAMPLE_DIR / "enterprises.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False
            ),
            "enterprises",
        ),
        "inspectors": pd.read_excel(SAMPLE_DIR / "inspectors.xlsx", dtype=str).fillna(""),
        "conflicts": pd.read_csv(SAMPLE_DIR / "conflicts.csv", dtype=str, keep_default_na=False),
        "history": pd.read_csv(SAMPLE_DIR / "history.csv", dtype=str, keep_default_na=False),
        "leave": pd.read_csv(SAMPLE_DIR / "leave.csv", dtype=str, keep_default_na=False),
        "items": pd.read_csv(SAMPLE_DIR / "items.csv", dtype=str, keep_default_na=False),
    }


@pytest.fixture(scope="module")
def traps() -> dict:
    return json.loads((SAMPLE_DIR / "traps.json").read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- generate_registry


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_arguments_same_bytes(tmp_path: Path, fmt: str) -> None:
    a = generate_registry(tmp_path / "a", fmt=fmt, **SMALL)
    b = generate_registry(tmp_path / "b", fmt=fmt, **SMALL)
    assert _digest(a) == _digest(b)
    assert len(_digest(a)) == 8  # seven tables and plan.yaml


def test_other_seed_other_registry(tmp_path: Path, small: Path) -> None:
    other = generate_registry(tmp_path / "c", **{**SMALL, "seed": 8})
    assert _digest(other)["enterprises.csv"] != _digest(small)["enterprises.csv"]


@pytest.mark.parametrize("table", sorted(REQUIRED))
def test_contract_columns_present(small: Path, small_parquet: Path, table: str) -> None:
    for folder in (small, small_parquet):
        df = _read(folder, table)
        for col in REQUIRED[table] + DOCUMENTED[table]:
            assert col in df.columns, f"{folder.name}/{table} lacks {col}"
        for col in REQUIRED[table]:
            if len(df):
                assert (df[col] != "").all(), f"{table}.{col} has empty cells"


def test_enterprises_content(small: Path) -> None:
    ent = _read(small, "enterprises")
    assert len(ent) == SMALL["enterprises"]
    assert ent["credit_code"].is_unique
    assert all(is_valid(c) for c in ent["credit_code"])
    assert (ent["credit_code"].str[2:8] == ent["region_code"]).all()
    assert ent["region_code"].str.fullmatch(r"13\d{2}\d{2}").all()
    assert ent["industry"].str.fullmatch(r"[A-T]\d{2,4}").all()
    assert set(ent["risk_class"]) == {"A", "B", "C", "D"}
    assert set(ent["key_area"]) <= {"true", "false"} and (ent["key_area"] == "true").any()
    assert (ent["status"] != "active").any() and (ent["status"] == "active").mean() > 0.9
    assert ent["legal_rep_id"].str.fullmatch(r"\d{18}").all()
    assert ent["name"].str.contains("公司|店|合作社").all()
    lat = ent["lat"].astype(float)
    assert lat.between(35, 43).all()


def test_credit_codes_valid_parquet(small_parquet: Path) -> None:
    ent = pd.read_parquet(small_parquet / "enterprises.parquet")
    assert ent["key_area"].dtype == bool
    assert all(is_valid(c) for c in ent["credit_code"])


def test_parent_chains_end(small: Path) -> None:
    ag = _read(small, "agencies").set_index("agency_id")
    order = {"province": 1, "city": 2, "county": 3}
    assert set(ag["department"]) == {"market", "ecology"}
    for aid, row in ag.iterrows():
        seen = [aid]
        parent = row["parent_id"]
        while parent:
            assert parent in ag.index, f"{aid}: unknown parent {parent}"
            assert parent not in seen, f"loop {seen}"
            assert ag.at[parent, "department"] == row["department"]
            assert order[ag.at[parent, "level"]] == order[ag.at[seen[-1], "level"]] - 1
            seen.append(parent)
            parent = ag.at[parent, "parent_id"]
        assert ag.at[seen[-1], "level"] == "province"
    assert (ag.index.str[2:] == ag["region_code"]).all()
    assert ag.index.str.fullmatch(r"S[JT]\d{6}").all()


def test_references_resolve(small: Path) -> None:
    ent = set(_read(small, "enterprises")["credit_code"])
    ins = _read(small, "inspectors")
    agencies = set(_read(small, "agencies")["agency_id"])
    assert set(ins["agency_id"]) <= agencies
    ids = set(ins["inspector_id"])
    hist = _read(small, "history")
    assert set(hist["credit_code"]) <= ent and set(hist["agency_id"]) <= agencies
    assert {i for cell in hist["inspector_ids"] for i in cell.split(";") if i} <= ids
    assert set(_read(small, "conflicts")["inspector_id"]) <= ids
    assert set(_read(small, "conflicts")["credit_code"]) <= ent
    assert set(_read(small, "leave")["inspector_id"]) <= ids
    assert {c for cell in ins["former_employers"] for c in cell.split(";") if c} <= ent
    assert (ins["auxiliary"] == "true").any() and (ins["quarterly_cap"] != "").any()


def test_plan_parses_and_fits_registry(small: Path) -> None:
    plan = load_plan(small / "plan.yaml")
    assert plan.quarter == "2026Q1"
    agencies = _read(small, "agencies").set_index("agency_id")
    items = set(_read(small, "items")["item_id"])
    # one province task, one per city, three per county
    assert len(plan.tasks) == 1 + SMALL["cities"] + 3 * SMALL["cities"] * SMALL["counties_per_city"]
    for t in plan.tasks:
        assert t.agency_id in agencies.index
        assert set(t.items) <= items
        assert plan.quarter_start <= t.window_start <= t.window_end <= plan.quarter_end
        assert (t.ratio is None) != (t.count is None)
        for j in t.joint_agencies:
            assert agencies.at[j, "department"] != agencies.at[t.agency_id, "department"]
    assert any(t.count is not None for t in plan.tasks)
    assert any(t.joint_agencies for t in plan.tasks)


def test_tightness_in_header(tmp_path: Path) -> None:
    for tight in (0.5, 0.9):
        out = generate_registry(tmp_path / str(tight), **{**SMALL, "enterprises": 8_000, "tightness": tight})
        line = (out / "plan.yaml").read_text(encoding="utf-8").splitlines()[2]
        achieved = float(line.split("=")[1].split("(")[0])
        assert abs(achieved - tight) < 0.05, line


def test_bad_format_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_registry(tmp_path, fmt="xls")


@pytest.mark.skipif(not HAS_IMPORTER, reason="scheduler.importer not there yet")
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_importer_accepts_generated(small: Path, small_parquet: Path, fmt: str) -> None:
    from scheduler.importer import load_registry
    from scheduler.plan import check_plan_against_registry

    folder = small if fmt == "csv" else small_parquet
    reg = load_registry(folder)
    assert len(reg.enterprises) == SMALL["enterprises"]
    check_plan_against_registry(load_plan(folder / "plan.yaml"), reg)


@pytest.mark.skipif(not (HAS_IMPORTER and HAS_DRAW), reason="importer/draw not there yet")
def test_expected_visits_match_draw(small: Path) -> None:
    from scheduler.draw import draw
    from scheduler.importer import load_registry

    header = (small / "plan.yaml").read_text(encoding="utf-8").splitlines()[0]
    expected = int(header.split("about ")[1].split(" visits")[0])
    _, selection, _ = draw(load_plan(small / "plan.yaml"), load_registry(small), "seed")
    assert len(selection) == expected


# ----------------------------------------------------------------------------- province scale options


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    return generate_registry(tmp_path_factory.mktemp("province"), **PROVINCE)


def _header(folder: Path) -> tuple[int, float, list[str]]:
    """Expected visits, expected tightness and the comment lines of plan.yaml."""
    lines = (folder / "plan.yaml").read_text(encoding="utf-8").splitlines()
    visits = int(lines[0].split("about ")[1].split(" visits")[0])
    achieved = float(lines[2].split("=")[1].split("(")[0])
    return visits, achieved, [x for x in lines if x.startswith("#")]


def _tables(folder: Path) -> dict[str, str]:
    """Digests of the registry tables (not the plan)."""
    return {k: v for k, v in _digest(folder).items() if k != "plan.yaml"}


def _eligible_capacity(folder: Path, quarterly_cap: int, upper_market: bool) -> float:
    """Capacity (as the generator counts it) of the county bureaus, plus the province and city
    market bureaus when ``upper_market``."""
    ins = _read(folder, "inspectors")
    agencies = _read(folder, "agencies").set_index("agency_id")
    ins = ins.assign(auxiliary=ins["auxiliary"].str.lower())
    caps = capacities(ins, _read(folder, "leave"), "2026Q1", quarterly_cap)
    agency = ins.set_index("inspector_id")["agency_id"]
    level, dept = agency.map(agencies["level"]), agency.map(agencies["department"])
    ok = level.eq("county") | (dept.eq("market") & upper_market)
    return float(caps.reindex(agency.index[ok.to_numpy()]).sum())


def _usable(ins: pd.DataFrame) -> pd.Series:
    return (
        ins["certificate_no"].ne("")
        & ins["auxiliary"].str.lower().ne("true")
        & ins["certificate_expiry"].gt("2026-03-31")
    )


def test_quarterly_cap_sets_policy_and_fit(tmp_path: Path) -> None:
    base = {**SMALL, "enterprises": 8_000}  # enough enterprises for capacity-bound tasks
    default = generate_registry(tmp_path / "q30", **base)
    raised = generate_registry(tmp_path / "q45", quarterly_cap=45, **base)
    assert load_plan(default / "plan.yaml").policy.quarterly_cap == 30
    policy = load_plan(raised / "plan.yaml").policy
    assert (policy.quarterly_cap, policy.daily_cap) == (45, 2)
    # Not busy (0.7 x 45 < 59 working days): the same registry, a larger plan at the same tightness.
    assert _tables(raised) == _tables(default)
    (v30, a30, _), (v45, a45, _) = _header(default), _header(raised)
    assert 1.3 < v45 / v30 < 1.6
    assert abs(a45 - 0.7) < 0.05 and abs(a30 - 0.7) < 0.05
    # The header's tightness is measured against capacities at the raised cap.
    assert a45 == pytest.approx(2 * v45 / _eligible_capacity(raised, 45, True), abs=0.002)
    assert a30 == pytest.approx(2 * v30 / _eligible_capacity(default, 30, True), abs=0.002)


def test_province_staffing_values(tmp_path: Path, small: Path) -> None:
    delegated = generate_registry(tmp_path / "d", province_staffing="delegated", **SMALL)
    for folder, upper in ((small, "local"), (delegated, "delegated")):
        levels = _read(folder, "agencies").set_index("agency_id")["level"]
        staffing: dict[str, set[str]] = {}
        for t in load_plan(folder / "plan.yaml").tasks:
            staffing.setdefault(levels[t.agency_id], set()).add(t.staffing)
        assert staffing == {"province": {upper}, "city": {upper}, "county": {"lead"}}
    with pytest.raises(GenerateError):
        generate_registry(tmp_path / "x", province_staffing="central", **SMALL)
    with pytest.raises(ValueError):
        generate_registry(tmp_path / "y", quarterly_cap=0, **SMALL)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_delegated_plan_fits_county_capacity(province: Path) -> None:
    visits, achieved, notes = _header(province)
    # At 60k enterprises the joint tasks are population-bound (the county ecology bureaus' floor of
    # six is partly idle), so the plan falls short of the asked tightness; at 1M and more it is
    # within 0.005 (0.779 asked 0.78 at 1M, 3M and 10M).
    assert PROVINCE["tightness"] - 0.15 < achieved <= PROVINCE["tightness"] + 0.005
    county = _eligible_capacity(province, PROVINCE["quarterly_cap"], upper_market=False)
    everyone = _eligible_capacity(province, PROVINCE["quarterly_cap"], upper_market=True)
    assert achieved == pytest.approx(2 * visits / county, abs=0.002)
    assert 2 * visits / everyone < achieved - 0.05  # province and city staff are not counted
    assert any("delegated" in n for n in notes)


def test_new_options_same_bytes(tmp_path: Path, small_parquet: Path) -> None:
    opts = {
        **SMALL,
        "fmt": "parquet",
        "quarterly_cap": 110,
        "tightness": 0.78,
        "province_staffing": "delegated",
    }
    a = generate_registry(tmp_path / "a", **opts)
    b = generate_registry(tmp_path / "b", **opts)
    assert _digest(a) == _digest(b)
    assert _digest(a)["plan.yaml"] != _digest(small_parquet)["plan.yaml"]


def test_busy_plan_whole_quarter_windows_and_paced_staff(province: Path, small: Path) -> None:
    from data.generate import _workdays

    q_start, q_end = quarter_bounds("2026Q1")
    days = _workdays(q_start, q_end)
    assert PROVINCE["tightness"] * PROVINCE["quarterly_cap"] > len(days)  # busy
    assert all(
        (t.window_start, t.window_end) == (q_start, q_end) for t in load_plan(province / "plan.yaml").tasks
    )
    assert any(n.startswith("# busy") for n in _header(province)[2])
    # A quarter that is not busy keeps the staggered windows.
    assert any(t.window_start > q_start for t in load_plan(small / "plan.yaml").tasks)
    assert not any(n.startswith("# busy") for n in _header(small)[2])

    ins = _read(province, "inspectors")
    certified = ins["certificate_no"].ne("")
    part_time = ins[certified & ins["daily_cap"].eq("1")]
    caps = pd.to_numeric(part_time["quarterly_cap"], errors="coerce")  # "" (the policy's cap) -> NaN
    assert len(part_time) and (caps <= PACE * len(days)).all()
    expiring = ins[certified & ins["certificate_expiry"].between("2026-01-01", "2026-03-31")]
    assert len(expiring)
    for r in expiring.itertuples():
        valid = sum(1 for d in days if d.isoformat() <= r.certificate_expiry)
        daily = 1 if r.daily_cap == "1" else 2
        assert r.quarterly_cap != "" and int(r.quarterly_cap) <= PACE * daily * valid, r.inspector_id


def test_county_bureaus_staffed_for_every_visit(province: Path, small: Path) -> None:
    ins = _read(province, "inspectors")
    usable = ins[_usable(ins)]
    counties = _read(province, "agencies").query("level == 'county' and department == 'market'")[
        "region_code"
    ]
    assert len(counties) == PROVINCE["cities"] * PROVINCE["counties_per_city"]
    for code in counties:
        assert (usable["agency_id"] == f"ST{code}").sum() >= ECOLOGY_USABLE_MIN, code
        market = usable.loc[usable["agency_id"] == f"SJ{code}", "specialties"].str.split(";")
        for spec in ("food", "special_equipment", "drugs"):
            assert sum(spec in s for s in market) >= SPECIALTY_MIN, (code, spec)
    # Small counties staffed locally are left as drawn (their bytes are kept): two ecology staff.
    eco = _read(small, "inspectors").query("agency_id.str.startswith('ST') and agency_id.str[6:] != '00'")
    assert eco.groupby("agency_id").size().max() < ECOLOGY_USABLE_MIN


@pytest.mark.skipif(not (HAS_IMPORTER and HAS_DRAW), reason="importer/draw not there yet")
def test_province_shaped_delegated_plan_runs(province: Path) -> None:
    from scheduler.pipeline import run_plan

    result = run_plan(province, province / "plan.yaml", "province-shaped")
    expected, _, _ = _header(province)
    assert len(result.selection) == expected
    region = result.registry.enterprises.set_index("credit_code")["region_code"]
    agency_of = {i: ins.agency_id for i, ins in result.registry.inspectors.items()}
    delegated = {t.task_id for t in result.plan.tasks if t.staffing == "delegated"}
    assert len(delegated) == 1 + PROVINCE["cities"]
    checked = 0
    for v in result.visits:
        assert len(v.inspector_ids) == 2 and v.date is not None
        if set(v.task_ids) & delegated:  # only the county bureau holding the enterprise
            code = region[v.credit_code]
            assert {agency_of[i] for i in v.inspector_ids} <= {f"SJ{code}", f"ST{code}"}, v.visit_id
            checked += 1
    assert checked > 300


def test_generate_options_shared(tmp_path: Path) -> None:
    import argparse

    parser = add_generate_arguments(argparse.ArgumentParser())
    assert parser.parse_args(["o", "--format", "parquet"]).fmt == "parquet"
    assert parser.parse_args(["o", "--fmt", "parquet"]).fmt == "parquet"
    d = parser.parse_args(["o"])
    assert (d.fmt, d.quarterly_cap, d.province_staffing, d.sample) == ("csv", 30, "local", False)
    with pytest.raises(SystemExit):
        parser.parse_args(["o", "--province-staffing", "central"])
    with pytest.raises(GenerateError):
        generate_from_args(parser.parse_args([]))

    # As ``randinspect generate`` mounts it: a subcommand.
    top = argparse.ArgumentParser()
    add_generate_arguments(top.add_subparsers(dest="command").add_parser("generate"))
    argv = ["generate", str(tmp_path / "cli"), "--enterprises", "3000", "--inspectors", "80", "--cities", "2"]
    argv += ["--counties-per-city", "2", "--seed", "7", "--format", "parquet"]
    argv += ["--quarterly-cap", "45", "--province-staffing", "delegated"]
    out = generate_from_args(top.parse_args(argv))
    keyword = generate_registry(
        tmp_path / "kw", fmt="parquet", quarterly_cap=45, province_staffing="delegated", **SMALL
    )
    assert _digest(out) == _digest(keyword)
    assert load_plan(out / "plan.yaml").policy.quarterly_cap == 45


def test_main_flags_and_errors(tmp_path: Path, capsys) -> None:
    argv = ["--enterprises", "3000", "--inspectors", "80", "--cities", "2", "--counties-per-city", "2"]
    assert main([str(tmp_path / "m"), *argv, "--seed", "7", "--fmt", "parquet"]) == 0
    assert _digest(tmp_path / "m") == _digest(generate_registry(tmp_path / "k", fmt="parquet", **SMALL))
    for bad in ([], [str(tmp_path / "bad"), "--quarterly-cap", "0"]):
        with pytest.raises(SystemExit) as exc:
            main(bad)
        assert exc.value.code == 2
    assert "quarterly_cap" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


# ----------------------------------------------------------------------------- the sample county


def test_sample_rebuild_is_identical(tmp_path: Path) -> None:
    rebuilt = build_sample(tmp_path / "sample")
    committed = {k: v for k, v in _digest(SAMPLE_DIR).items() if k != "README.md"}
    assert _digest(rebuilt) == committed


def test_sample_cli(tmp_path: Path, capsys) -> None:
    assert main(["--sample", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / "traps.json").exists()


def test_sample_size_and_formats() -> None:
    total = sum(p.stat().st_size for p in SAMPLE_DIR.iterdir())
    assert total < 8 * 1024 * 1024
    raw = (SAMPLE_DIR / "agencies.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gb18030").startswith("机构编码")
    assert (SAMPLE_DIR / "enterprises.csv").read_bytes().startswith(b"\xef\xbb\xbf\xe7\xbb\x9f")  # BOM + 统
    assert (SAMPLE_DIR / "README.md").exists()
    assert (SAMPLE_DIR / "plan.yaml").exists()


def test_sample_composition(sample: dict[str, pd.DataFrame]) -> None:
    assert 25_000 <= len(sample["enterprises"]) <= 35_000
    assert 180 <= len(sample["inspectors"]) <= 220
    assert all(is_valid(c) for c in sample["enterprises"]["credit_code"])
    ag = sample["agencies"]
    assert set(ag["level"]) == {"省", "市", "县"}
    assert {"SJ130000", "SJ130100", "SJ130123", "ST130100", "ST130123"} <= set(ag["agency_id"])
    assert set(sample["inspectors"].columns) >= set(REQUIRED["inspectors"] + DOCUMENTED["inspectors"])


def test_sample_plan(traps: dict) -> None:
    plan = load_plan(SAMPLE_DIR / "plan.yaml")
    assert plan.quarter == "2026Q1"
    header = (SAMPLE_DIR / "plan.yaml").read_text(encoding="utf-8").splitlines()
    visits = int(header[0].split("about ")[1].split(" visits")[0])
    assert 1_000 <= visits <= 1_500
    assert abs(float(header[2].split("=")[1].split("(")[0]) - 0.6) < 0.03
    levels = {t.agency_id[2:] for t in plan.tasks}
    assert {"130000", "130100", "130123"} <= levels
    task_ids = {t.task_id for t in plan.tasks}
    for trap in traps.values():
        if "task_id" in trap:
            assert trap["task_id"] in task_ids
    joint = plan.task(traps["joint_task"]["task_id"])
    assert joint.joint_agencies == ("ST130123",)


def test_sample_window_spans_spring_festival(traps: dict) -> None:
    plan = load_plan(SAMPLE_DIR / "plan.yaml")
    sf = traps["spring_festival"]
    for d in sf["make_up_workdays"]:
        day = dt.date.fromisoformat(d)
        assert day.weekday() == 5 and chinese_calendar.is_workday(day)
    for d in sf["holidays"]:
        assert not chinese_calendar.is_workday(dt.date.fromisoformat(d))
    for tid in sf["task_ids"]:
        t = plan.task(tid)
        assert t.window_start <= dt.date(2026, 2, 14) and dt.date(2026, 2, 28) <= t.window_end


def test_trap_ids_exist(sample: dict[str, pd.DataFrame], traps: dict) -> None:
    codes = set(sample["enterprises"]["credit_code"])
    inspectors = set(sample["inspectors"]["inspector_id"])
    agencies = set(sample["agencies"]["agency_id"])
    for name, trap in traps.items():
        assert set(trap.get("credit_codes", [])) <= codes, name
        assert set(trap.get("inspector_ids", [])) <= inspectors, name
        assert set(trap.get("agency_ids", [])) <= agencies, name


def test_traps_are_set_up(sample: dict[str, pd.DataFrame], traps: dict) -> None:
    ent = sample["enterprises"].set_index("credit_code")
    ins = sample["inspectors"].set_index("inspector_id")
    hist, conflicts, leave = sample["history"], sample["conflicts"], sample["leave"]

    def one(trap: str, kind: str = "inspector_ids") -> str:
        return traps[trap][kind][0]

    assert ins.at[one("no_certificate"), "certificate_no"] == ""
    assert ins.at[one("certificate_expires_in_quarter"), "certificate_expiry"].startswith("2026-02-10")
    assert ins.at[one("certificate_expired"), "certificate_expiry"] < "2026-01-01"
    assert ins.at[one("auxiliary"), "auxiliary"].lower() == "true"
    assert ins.at[one("auxiliary"), "certificate_no"] != ""
    assert ent.at[one("relative_conflict", "credit_codes"), "legal_rep_id"] in ins.at[
        one("relative_conflict"), "relatives_ids"
    ].split(";")
    assert one("former_employer_conflict", "credit_codes") in ins.at[
        one("former_employer_conflict"), "former_employers"
    ].split(";")
    declared = conflicts[conflicts["inspector_id"] == one("declared_conflict")]
    assert one("declared_conflict", "credit_codes") in set(declared["credit_code"])
    assert (
        float(ins.at[one("quarterly_cap_override"), "quarterly_cap"])
        == traps["quarterly_cap_override"]["quarterly_cap"]
    )
    assert ins.at[one("wrong_specialty"), "specialties"] == "pricing"
    row = leave[leave["inspector_id"] == one("leave")]
    assert ((row["start"] == "2026-03-02") & (row["end"] == "2026-03-15")).any()

    lookback_start = "2025-01-01"  # quarter start minus 365 days
    for trap in ("rotation", "dedup_higher_level", "frequency_cap", "frequency_cap_exempt_d"):
        code = one(trap, "credit_codes")
        h = hist[(hist["credit_code"] == code) & (hist["date"] >= lookback_start)]
        assert list(h["agency_id"]) == traps[trap]["agency_ids"], trap
    rot = hist[hist["credit_code"] == one("rotation", "credit_codes")]
    assert set(rot["inspector_ids"].iat[0].split(";")) == set(traps["rotation"]["inspector_ids"])
    old = hist[hist["credit_code"] == one("history_outside_lookback", "credit_codes")]
    assert (old["date"] < lookback_start).all() and len(old) == 1

    assert ent.at[one("rotation", "credit_codes"), "risk_class"] == "D"
    assert ent.at[one("dedup_higher_level", "credit_codes"), "risk_class"] == "D"
    assert ent.at[one("frequency_cap", "credit_codes"), "risk_class"] != "D"
    assert ent.at[one("frequency_cap_exempt_d", "credit_codes"), "risk_class"] == "D"
    for code in traps["inactive"]["credit_codes"]:
        assert ent.at[code, "status"] != "active"
    plan = load_plan(SAMPLE_DIR / "plan.yaml")
    for name, trap in traps.items():
        for code in trap.get("credit_codes", []):
            assert ent.at[code, "key_area"] == "true", name
            task = plan.task(trap["task_id"])
            assert ent.at[code, "region_code"].startswith(task.agency_id[2:].rstrip("0") or "13")
            assert ent.at[code, "industry"].startswith(task.population.industries), name


@pytest.mark.skipif(not HAS_IMPORTER, reason="scheduler.importer not there yet")
def test_importer_accepts_sample() -> None:
    from scheduler.importer import load_registry
    from scheduler.plan import check_plan_against_registry

    reg = load_registry(SAMPLE_DIR)
    assert len(reg.enterprises) == 30_000
    assert reg.agencies["SJ130123"].parent_id == "SJ130100"
    assert reg.inspectors[next(iter(reg.inspectors))].agency_id.startswith("S")
    check_plan_against_registry(load_plan(SAMPLE_DIR / "plan.yaml"), reg)


@pytest.mark.skipif(not (HAS_IMPORTER and HAS_DRAW), reason="importer/draw not there yet")
def test_sample_draw_respects_population_traps(traps: dict) -> None:
    from scheduler.draw import draw
    from scheduler.importer import load_registry

    _, selection, _ = draw(load_plan(SAMPLE_DIR / "plan.yaml"), load_registry(SAMPLE_DIR), "demo")
    drawn = {s.credit_code for s in selection}
    assert 1_000 <= len(selection) <= 1_500
    must = [
        "rotation",
        "frequency_cap_exempt_d",
        "history_outside_lookback",
        "relative_conflict",
        "former_employer_conflict",
        "declared_conflict",
    ]
    never = ["dedup_higher_level", "frequency_cap", "inactive"]
    for name in must:
        assert set(traps[name]["credit_codes"]) <= drawn, name
    for name in never:
        assert not set(traps[name]["credit_codes"]) & drawn, name
