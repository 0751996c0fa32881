"""Loading a registry folder ("一单两库") into a validated :class:`Registry`.

Every problem of every file is collected before one :class:`InputError` is
raised; each names the file, the spreadsheet row (header is row 1) and the
contract's English column name. The enterprises table (millions of rows) is
validated with vectorised Arrow/numpy operations only: its text stays in Arrow
buffers (pandas' pyarrow-backed ``str``), never one Python object per cell, and
Arrow memory is handed back to the system as soon as a step is done with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scheduler.errors import InputError, Problem
from scheduler.forms import (
    ENTITY_FORMS,
    RISK_FORMS,
    STATUS_FORMS,
    canonical,
    excel_damaged,
    parse_dates,
    personal_id_valid,
)
from scheduler.mapping import Mapping, find_mapping, load_mapping
from scheduler.messages import t as msg
from scheduler.registry import (
    ENTERPRISE_COLUMNS,
    HISTORY_COLUMNS,
    LEVEL_NAMES,
    Agency,
    Conflict,
    Inspector,
    Item,
    Leave,
    Level,
    Registry,
)
from scheduler.tables import (
    HEADER_LABELS,
    TABLE_LABELS,
    arrow_strings,
    find_table,
    fixed_width_rows,
    read_table,
    row_hashes,
)
from scheduler.uscc import ALPHABET, WEIGHTS, is_valid, uscc_problem

TABLES = ("agencies", "enterprises", "inspectors", "conflicts", "history", "leave", "items")
REQUIRED_TABLES = ("agencies", "enterprises", "inspectors")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "agencies": ("agency_id", "name", "department", "level", "region_code"),
    "enterprises": ("credit_code", "name", "region_code", "industry", "risk_class"),
    "inspectors": ("inspector_id", "name", "agency_id"),
    "conflicts": ("inspector_id", "credit_code"),
    "history": ("credit_code", "agency_id", "date"),
    "leave": ("inspector_id", "start", "end"),
    "items": ("item_id", "department", "name"),
}
ID_COLUMNS = {
    "agencies": "agency_id",
    "enterprises": "credit_code",
    "inspectors": "inspector_id",
    "items": "item_id",
}
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "是"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "否", ""})
LEVELS = {name.lower(): level for name, level in LEVEL_NAMES.items()}
REGION_PATTERN = r"[0-9]{6}"  # GB/T 2260 administrative division code
INDUSTRY_PATTERN = r"[A-T][0-9]{0,4}"  # GB/T 4754: section letter, then division/group/class digits
DECIMAL_PATTERN = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"  # parsed by Arrow
MAX_PER_CHECK = 50  # problems listed per check and column; the rest are counted
FIRST_ROWS = 5  # rows named for an unknown value
ID_COLUMNS_EXCEL: dict[str, dict[str, object]] = {
    "agencies": {"agency_id": None, "parent_id": None},
    "enterprises": {"credit_code": is_valid, "legal_rep_id": personal_id_valid},
    "inspectors": {"inspector_id": None, "certificate_no": None},
    "conflicts": {"inspector_id": None, "credit_code": is_valid},
    "history": {"credit_code": is_valid, "agency_id": None},
    "leave": {"inspector_id": None},
}
"""Id columns Excel can damage (table -> column -> the id's check rule, if it has one); list
columns (``relatives_ids``, ``former_employers``, ``inspector_ids``) are checked entry by entry."""

_USCC_VALUE = np.full(256, -1, dtype=np.int16)
for _k, _c in enumerate(ALPHABET):
    _USCC_VALUE[ord(_c)] = _k
_USCC_WEIGHTS = np.array(WEIGHTS, dtype=np.int32)
_USCC_CHUNK = 1 << 18  # rows per block: bounds the temporary arrays


def uscc_valid(codes: pd.Series | Iterable[str]) -> np.ndarray:
    """Boolean array: which codes are valid unified social credit codes (GB 32100-2015).

    Vectorised: 18 ASCII characters, all from the 31-character alphabet, the last
    equal to ``(31 - sum(value_i * 3**i mod 31)) mod 31``; agrees with
    :func:`scheduler.uscc.uscc_problem` (``None`` exactly where this is True). Reads the
    UTF-8 bytes straight from the Arrow buffers: a code of 18 bytes whose bytes are all in
    the alphabet is 18 ASCII characters.
    """
    if isinstance(codes, pd.Series):
        arr = arrow_strings(codes)
    else:
        arr = pa.chunked_array([pa.array([str(c) for c in codes], pa.large_string())], type=pa.large_string())
    out = np.zeros(len(arr), dtype=bool)
    for first, raw, rows in fixed_width_rows(arr, 18, _USCC_CHUNK):
        values = _USCC_VALUE[raw]
        check = (31 - (values[:, :17].astype(np.int32) @ _USCC_WEIGHTS) % 31) % 31
        out[first + rows] = (values >= 0).all(axis=1) & (values[:, 17] == check)
    return out


def _fixed_width_distinct(s: pd.Series, width: int) -> bool:
    """True when ``s`` (every value exactly ``width`` bytes) certainly holds no value twice:
    a 64-bit hash of each value is distinct (a sort of integers, not a hash table of strings).
    False when some hash repeats or a value has another width: then the caller checks exactly."""
    arr = arrow_strings(s)
    hashes = np.zeros(len(arr), dtype=np.uint64)
    seen = 0
    for first, raw, rows in fixed_width_rows(arr, width):
        hashes[first + rows] = row_hashes(raw)
        seen += len(rows)
    hashes.sort()
    return seen == len(arr) and not (hashes[1:] == hashes[:-1]).any()


def _to_float(s: pd.Series) -> np.ndarray:
    """``pd.to_numeric(s, errors="coerce")`` of a text column (empty -> NaN): plain decimals
    are parsed by Arrow (the same correctly rounded doubles, ten times faster), anything else
    (``inf``, surrounding spaces, garbage) by pandas as before."""
    arr = arrow_strings(s)
    plain = pc.match_substring_regex(arr, f"^{DECIMAL_PATTERN}$").to_numpy(zero_copy_only=False).astype(bool)
    values = np.full(len(s), np.nan)
    if plain.all():
        values[:] = pc.cast(arr, pa.float64()).to_numpy()
    elif plain.any():
        values[plain] = pc.cast(pc.filter(arr, pa.array(plain)), pa.float64()).to_numpy()
    rest = ~plain & (s != "").to_numpy(dtype=bool)
    if rest.any():
        values[rest] = pd.to_numeric(s[rest], errors="coerce").to_numpy(dtype=float)
    return values


def registry_files(folder: str | Path, mapping: str | Path | None = None) -> dict[str, Path]:
    """The registry's table files and its mapping file (as ``Registry.files``) without reading
    them: what a commitment hashes, found the way :func:`load_registry` finds them."""
    out: dict[str, Path] = {}
    for table in TABLES:
        path = find_table(Path(folder), table)
        if path is not None:
            out[table] = path
    found = find_mapping(folder, mapping)
    if found is not None:
        out["mapping"] = found
    return out


def load_registry(folder: str | Path, mapping: str | Path | None = None) -> Registry:
    """Read and validate the registry in ``folder``; raise :class:`InputError` naming
    every problem of every file, else return the :class:`Registry`.

    ``mapping`` is a mapping file (:mod:`scheduler.mapping`) for an export's own headers and
    values; without it, ``mapping.yaml`` in the folder applies if there is one. The file used is
    in ``Registry.files["mapping"]`` (hashed like the tables)."""
    folder = Path(folder)
    problems: list[Problem] = []
    tables: dict[str, _Table] = {}
    if not folder.is_dir():
        raise InputError(
            Problem(folder.name or str(folder), None, None, msg("imp_no_folder"))
        )
    mapping_path = find_mapping(folder, mapping)
    rules = load_mapping(mapping_path) if mapping_path is not None else Mapping()
    for table in TABLES:
        try:
            path = find_table(folder, table)
            if path is None:
                if table in REQUIRED_TABLES:
                    problems.append(
                        Problem(
                            f"{table}.csv",
                            None,
                            None,
                            msg("imp_table_missing", table=table, label=TABLE_LABELS[table], folder=folder),
                        )
                    )
                continue
            frame = read_table(path, table, rules.headers.get(table))
            tables[table] = _Table(table, path, frame, problems, values=rules.values)
        except InputError as exc:
            problems.extend(exc.problems)
    for t in tables.values():
        t.require_columns()
        t.excel_damage()

    def ids(table: str) -> set[str] | None:
        """Ids a reference may name; ``None`` (no check) when that table is unusable."""
        t = tables.get(table)
        if t is None or ID_COLUMNS[table] in t.missing:
            return None
        return set(t.df[ID_COLUMNS[table]]) - {""}

    agency_ids, inspector_ids = ids("agencies"), ids("inspectors")
    agencies = _agencies(tables["agencies"]) if "agencies" in tables else {}
    enterprises = _enterprises(tables["enterprises"]) if "enterprises" in tables else None
    inspectors = _inspectors(tables["inspectors"], agency_ids) if "inspectors" in tables else {}
    conflicts = _conflicts(tables["conflicts"], inspector_ids) if "conflicts" in tables else []
    history = (
        _history(tables["history"], agency_ids, inspector_ids) if "history" in tables else _history_frame({})
    )
    leave = _leave(tables["leave"], inspector_ids) if "leave" in tables else []
    items = _items(tables["items"]) if "items" in tables else {}
    if not problems and enterprises is not None:
        problems.extend(_personal_ids_in_official_names(tables, inspectors, enterprises))
    if problems or enterprises is None:
        raise InputError(problems)
    pa.default_memory_pool().release_unused()  # give back what reading and validating used
    return Registry(
        agencies=agencies,
        enterprises=enterprises,
        inspectors=inspectors,
        conflicts=conflicts,
        history=history,
        leave=leave,
        items=items,
        files={name: t.path for name, t in tables.items()}
        | ({"mapping": mapping_path} if mapping_path is not None else {}),
    )


def _personal_ids_in_official_names(
    tables: dict[str, _Table], inspectors: dict, enterprises: pd.DataFrame
) -> list[Problem]:
    """Agency and item names are published as they are (``scheduler.publication.OFFICIAL_COLUMNS``),
    so they are checked here, at upload, for personal identifiers (8 characters or more, as the
    publication check takes them): an inspector's id or certificate number, a relative's id, a
    legal representative's id. An inspector's *name* inside an agency's name is no disclosure."""
    from scheduler.publication import _LONG_TOKEN

    roster: set[str] = set()
    for insp in inspectors.values():
        roster.update({insp.inspector_id, insp.certificate_no or "", *insp.relatives_ids})
    roster = {t for t in roster if len(t) >= _LONG_TOKEN}
    reps = enterprises["legal_rep_id"] if "legal_rep_id" in enterprises.columns else pd.Series([], dtype=str)
    lengths = {len(t) for t in roster} | {15, 18}  # id card numbers: 18 (or the old 15) characters
    problems: list[Problem] = []
    for table in ("agencies", "items"):
        t = tables.get(table)
        if t is None or "name" not in t.df.columns:
            continue
        names = t.df["name"]
        windows: dict[str, list[int]] = {}
        for row, name in names.items():
            for n in lengths:
                for i in range(len(name) - n + 1):
                    windows.setdefault(name[i : i + n], []).append(row)
        if not windows:
            continue
        found = {w for w in windows if w in roster}
        found.update(reps[reps.isin(list(windows))].astype(str))
        for token in sorted(found):
            for row in sorted(set(windows[token])):
                problems.append(
                    Problem(
                        t.path.name,
                        int(row),
                        "name",
                        f"the name is published as it is, but it contains personal data "
                        f"(an inspector's id or certificate number, a relative's or a legal representative's id): "
                        f"{token!r}",
                    )
                )
    return problems


@dataclass
class _Table:
    """One table under validation: its frame (index = spreadsheet row) and the shared problem list."""

    table: str
    path: Path
    df: pd.DataFrame
    problems: list[Problem]
    missing: set[str] = field(default_factory=set)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # the mapping file's values
    damaged: dict[str, set[int]] = field(default_factory=dict)  # column -> rows Excel damaged

    @property
    def file(self) -> str:
        return self.path.name

    def header(self, column: str) -> str | None:
        """The file's own header for ``column`` when it differs from the contract's name."""
        return self.df.attrs.get("headers", {}).get(column)

    def require_columns(self) -> None:
        """Missing required columns are problems (row None); every contract column
        absent from the file is added empty; contract columns are stripped."""
        labels = HEADER_LABELS[self.table]
        for col in REQUIRED_COLUMNS[self.table]:
            if col not in self.df.columns:
                self.missing.add(col)
                self.problems.append(
                    Problem(self.file, None, col, msg("imp_column_missing", column=col, label=labels[col]))
                )
        for col in labels:
            if col in self.df.columns:
                self.df[col] = self.df[col].str.strip()
                pa.default_memory_pool().release_unused()  # else the unstripped copies linger in RSS
            else:
                self.df[col] = pd.Series("", index=self.df.index, dtype=str)
        for col in REQUIRED_COLUMNS[self.table]:
            if col not in self.missing:
                self.report(self.df[col][self.df[col] == ""], col, lambda v, c=col: msg("imp_required_empty", column=c))  # type: ignore[misc]

    def excel_damage(self) -> None:
        """Ids Excel turned into numbers (:func:`scheduler.forms.excel_damaged`): one problem per
        row naming what happened and the fix; other checks of those cells say nothing more."""
        lists = {"inspectors": ("relatives_ids", "former_employers"), "history": ("inspector_ids",)}
        checks = dict(ID_COLUMNS_EXCEL.get(self.table, {}))
        checks.update({c: {"relatives_ids": personal_id_valid, "former_employers": is_valid}.get(c) for c in lists.get(self.table, ())})
        for col, check in checks.items():
            if col in self.missing:
                continue
            values = self.exploded(col) if col in lists.get(self.table, ()) else self.df[col]
            if values.empty:
                continue
            bad = values[excel_damaged(values, check)]
            if bad.empty:
                continue
            self.report(
                bad,
                col,
                lambda v, c=col: msg(  # type: ignore[misc]
                    "excel_scientific" if "E" in v.upper() else "excel_zeroed", value=v, column=c
                ),
            )
            self.damaged[col] = {int(r) for r in bad.index}

    def report(self, bad: pd.Series, column: str, message: Callable[[str], str]) -> None:
        """One problem per bad value (index = row), at most :data:`MAX_PER_CHECK`, then a count
        (rows already reported as damaged by Excel are left out)."""
        skip = self.damaged.get(column)
        if skip:
            bad = bad[~bad.index.isin(list(skip))]
        for row, value in bad.iloc[:MAX_PER_CHECK].items():
            self.problems.append(Problem(self.file, int(row), column, message(value), self.header(column)))
        if len(bad) > MAX_PER_CHECK:
            self.problems.append(
                Problem(
                    self.file, None, column, msg("imp_more_rows", n=len(bad) - MAX_PER_CHECK), self.header(column)
                )
            )

    def pattern(self, col: str, regex: str, message: Callable[[str], str]) -> None:
        s = self.df[col]
        self.report(s[(s != "") & ~s.str.fullmatch(regex)], col, message)

    def choice(self, col: str, allowed: Iterable[str], message: Callable[[str], str]) -> None:
        s = self.df[col]
        self.report(s[(s != "") & ~s.isin(list(allowed))], col, message)

    def unique(self, col: str) -> None:
        """Each id once; a repeat names the row of the first occurrence."""
        s = self.df[col]
        empty = (s == "").to_numpy(dtype=bool)
        if empty.any():
            s = s[~empty]
        big = len(s) > 1000  # millions of credit codes: first a sort of hashes, no hash table of strings
        if big and _fixed_width_distinct(s, 18):
            return
        repeated = s.duplicated(keep="first")
        if not repeated.any():
            return
        firsts = s[~repeated & s.isin(s[repeated].unique())]
        first_row = pd.Series(firsts.index, index=firsts.to_numpy())
        for row, value in s[repeated].iloc[:MAX_PER_CHECK].items():
            self.problems.append(
                Problem(
                    self.file, int(row), col, msg("imp_duplicate", column=col, value=value, row=first_row[value]),
                    self.header(col),
                )
            )
        if repeated.sum() > MAX_PER_CHECK:
            self.problems.append(
                Problem(self.file, None, col, msg("imp_more_duplicates", n=repeated.sum() - MAX_PER_CHECK, column=col))
            )

    def uscc(self, col: str, values: pd.Series | None = None) -> None:
        """Credit codes must pass GB 32100-2015 (vectorised; messages from ``uscc_problem``)."""
        s = self.df[col] if values is None else values
        empty = (s == "").to_numpy(dtype=bool)
        if empty.any():
            s = s[~empty]
        self.report(s[~uscc_valid(s)], col, _uscc_message)

    def references(
        self, col: str, known: set[str] | None, what: str, values: pd.Series | None = None
    ) -> None:
        if known is None:
            return
        s = self.df[col] if values is None else values
        self.report(s[(s != "") & ~s.isin(list(known))], col, lambda v: msg("imp_unknown_" + what, value=v))

    def boolean(self, col: str) -> np.ndarray:
        """true/false, 1/0, yes/no, y/n, 是/否 (any case); empty is false."""
        codes, uniques = pd.factorize(self.df[col])  # a handful of distinct words in millions of rows
        low = pd.Series(uniques, dtype=str).str.lower()
        true = low.isin(list(TRUE_WORDS)).to_numpy(dtype=bool)[codes]
        bad = ~true & ~low.isin(list(FALSE_WORDS)).to_numpy(dtype=bool)[codes]
        self.report(
            self.df[col][bad],
            col,
            lambda v: msg("imp_bool", column=col, value=v),
        )
        return true

    def integer(self, col: str) -> pd.Series:
        """A whole number >= 0, as nullable Int64 (empty or bad -> <NA>)."""
        s = self.df[col]
        ok = s.str.fullmatch(r"[0-9]{1,18}")
        self.report(
            s[(s != "") & ~ok], col, lambda v: msg("imp_int", column=col, value=v)
        )
        return s.where(ok).astype("Int64")

    def number(self, col: str, low: float, high: float) -> np.ndarray:
        """A decimal number in [low, high] or empty (NaN)."""
        s = self.df[col]
        values = _to_float(s)
        bad = (s != "").to_numpy(dtype=bool) & ~((values >= low) & (values <= high))
        self.report(s[bad], col, lambda v: msg("imp_number", column=col, low=f"{low:g}", high=f"{high:g}", value=v))
        return np.where(bad, np.nan, values)

    def date(self, col: str, no_expiry: bool = False) -> pd.Series:
        """A date in any form of :func:`scheduler.forms.parse_date` (ISO, ``2026/1/5``,
        ``2026.1.5``, ``2026年1月5日``, an Excel date cell), as datetime64[ns]; with
        ``no_expiry``, 长期 / 9999-09-09 / 9999-12-31 mean 'does not expire' (NaT)."""
        s = self.df[col]
        parsed, bad, _ = parse_dates(s, no_expiry)
        self.report(s[bad], col, lambda v: msg("date_bad", column=col, value=v))
        return parsed

    def vocabulary(self, col: str, forms: dict[str, str], what: str) -> pd.Series:
        """``col`` as the contract's values (mapping file first, then ``forms``); each unknown
        value is one problem: the value, how many rows carry it, the first rows and the mapping
        that would make it known."""
        values, unknown = canonical(self.df[col], forms, self.values.get(col))
        if unknown.any():
            bad = self.df[col][unknown]
            for value, rows in bad.groupby(bad, sort=False).groups.items():
                first = ", ".join(str(int(r)) for r in list(rows)[:FIRST_ROWS])
                self.problems.append(
                    Problem(
                        self.file,
                        int(rows[0]),
                        col,
                        msg(f"unknown_{what}", value=value, count=len(rows), rows=first, column=col),
                    )
                )
        return values

    def exploded(self, col: str) -> pd.Series:
        """The ``;``-separated entries of ``col``, one per line, index = row."""
        positions, values = self.split_list(col)
        return pd.Series(values.to_pandas().array, index=self.df.index[positions]).astype(str)

    def split_list(self, col: str) -> tuple[np.ndarray, pa.Array]:
        """The entries of the ``;``/``；``-separated lists in ``col``, stripped, empty ones
        dropped: (row position of each, entries), in Arrow (no Python object per entry)."""
        lists = pc.split_pattern(pc.replace_substring(arrow_strings(self.df[col]), "；", ";"), ";")
        positions = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
        values = pc.utf8_trim_whitespace(pc.list_flatten(lists))
        keep = pc.not_equal(values, "")
        values = values.filter(keep)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        return positions[keep.to_numpy(zero_copy_only=False).astype(bool)], values

    def rows(self, frame: pd.DataFrame | None = None) -> Iterable:
        """Named tuples of the contract columns (extra columns may not be identifiers)."""
        frame = self.df if frame is None else frame
        return frame[list(HEADER_LABELS[self.table])].itertuples(index=False)

    def extras(self) -> list[str]:
        return [c for c in self.df.columns if c not in HEADER_LABELS[self.table]]


def _uscc_message(code: str) -> str:
    message = uscc_problem(code) or msg("imp_not_uscc")
    return message if code in message else f"{code!r}: {message}"


def _split(value: str) -> frozenset[str]:
    return frozenset(p.strip() for p in value.replace("；", ";").split(";") if p.strip())


def _region(t: _Table) -> None:
    t.pattern("region_code", REGION_PATTERN, lambda v: msg("imp_region", value=v))


def _enterprises(t: _Table) -> pd.DataFrame:
    """The object list (检查对象名录库), vectorised throughout."""
    df = t.df
    t.uscc("credit_code")
    t.unique("credit_code")
    _region(t)
    t.pattern(
        "industry",
        INDUSTRY_PATTERN,
        lambda v: msg("imp_industry", value=v),
    )
    status = t.vocabulary("status", STATUS_FORMS, "status")
    if (status == "").any():
        status = status.where(status != "", "active")
    risk = t.vocabulary("risk_class", RISK_FORMS, "risk_class")
    entity = t.vocabulary("entity_type", ENTITY_FORMS, "entity_type")
    typed = {
        "risk_class": risk,
        "entity_type": entity,
        "key_area": t.boolean("key_area"),
        "abnormal": t.boolean("abnormal"),
        "complaints": t.integer("complaints").fillna(0).astype("int64"),
        "status": status,
        "lat": t.number("lat", -90, 90),
        "lon": t.number("lon", -180, 180),
    }
    out = df.assign(**typed)[ENTERPRISE_COLUMNS + t.extras()].reset_index(drop=True)
    t.df = pd.DataFrame(columns=df.columns)  # the text of the typed columns goes now, not when loading ends
    return out


def _agencies(t: _Table) -> dict[str, Agency]:
    """执法机构: ids unique, levels known, parents known, same department, one level up or
    more, and no loop in the parent chain."""
    df = t.df
    if t.values.get("level"):  # the mapping file's level values
        df["level"] = df["level"].map(lambda v: t.values["level"].get(v, v)).astype(str)
    t.unique("agency_id")
    _region(t)
    t.report(
        df["level"][(df["level"] != "") & ~df["level"].str.lower().isin(list(LEVELS))],
        "level",
        lambda v: msg("imp_level", value=v),
    )
    first = df[(df["agency_id"] != "") & ~df["agency_id"].duplicated()]
    by_id = {r.agency_id: (row, r) for row, r in zip(first.index, t.rows(first), strict=True)}
    for row, r in zip(df.index, t.rows(), strict=True):
        parent = r.parent_id
        if not parent or "agency_id" in t.missing:
            continue
        if parent not in by_id:
            t.problems.append(Problem(t.file, int(row), "parent_id", msg("imp_unknown_parent", parent=parent)))
            continue
        p = by_id[parent][1]
        if p.department != r.department:
            t.problems.append(
                Problem(
                    t.file,
                    int(row),
                    "parent_id",
                    msg("imp_parent_department", parent=parent, theirs=p.department, mine=r.department),
                )
            )
        mine, theirs = LEVELS.get(r.level.lower()), LEVELS.get(p.level.lower())
        if mine is not None and theirs is not None and theirs >= mine:
            t.problems.append(
                Problem(
                    t.file,
                    int(row),
                    "parent_id",
                    msg("imp_parent_level", parent=parent, theirs=theirs.name.lower(), mine=mine.name.lower()),
                )
            )
    _loops(t, {a: (row, r.parent_id) for a, (row, r) in by_id.items()})
    return {
        a: Agency(
            agency_id=a,
            name=r.name,
            department=r.department,
            level=LEVELS.get(r.level.lower(), Level.PROVINCE),
            parent_id=r.parent_id or None,
            region_code=r.region_code,
        )
        for a, (row, r) in by_id.items()
    }


def _loops(t: _Table, parents: dict[str, tuple[int, str]]) -> None:
    """A parent chain must end: each loop is reported once, naming every agency on it."""
    done: set[str] = set()
    for start in parents:
        path: list[str] = []
        node: str | None = start
        while node in parents and node not in done and node not in path:
            path.append(node)
            node = parents[node][1] or None
        if node in path:
            loop = path[path.index(node) :]
            k = min(range(len(loop)), key=lambda i: parents[loop[i]][0])
            loop = loop[k:] + loop[:k]
            chain = " -> ".join(msg("imp_loop_item", agency=a, row=parents[a][0]) for a in loop)
            t.problems.append(
                Problem(
                    t.file, int(parents[loop[0]][0]), "parent_id", msg("imp_loop", chain=chain, first=loop[0])
                )
            )
        done.update(path)


def _inspectors(t: _Table, agency_ids: set[str] | None) -> dict[str, Inspector]:
    """执法检查人员名录库: unique ids, known agencies, dates, flags, caps, former employers' codes."""
    t.unique("inspector_id")
    t.references("agency_id", agency_ids, "agency")
    expiry = t.date("certificate_expiry", no_expiry=True)
    auxiliary = t.boolean("auxiliary")
    quarterly, daily = t.integer("quarterly_cap"), t.integer("daily_cap")
    t.uscc("former_employers", t.exploded("former_employers"))
    out: dict[str, Inspector] = {}
    rows = zip(t.rows(), expiry, auxiliary, quarterly, daily, strict=True)
    for r, exp, aux, qcap, dcap in rows:
        if r.inspector_id in out:
            continue
        out[r.inspector_id] = Inspector(
            inspector_id=r.inspector_id,
            name=r.name,
            agency_id=r.agency_id,
            certificate_no=r.certificate_no or None,
            certificate_expiry=None if pd.isna(exp) else exp.date(),
            auxiliary=bool(aux),
            specialties=_split(r.specialties),
            quarterly_cap=None if pd.isna(qcap) else int(qcap),
            daily_cap=None if pd.isna(dcap) else int(dcap),
            former_employers=_split(r.former_employers),
            relatives_ids=_split(r.relatives_ids),
        )
    return out


def _conflicts(t: _Table, inspector_ids: set[str] | None) -> list[Conflict]:
    """回避关系: a known inspector and a valid credit code."""
    t.references("inspector_id", inspector_ids, "inspector")
    t.uscc("credit_code")
    return [Conflict(r.inspector_id, r.credit_code, r.reason) for r in t.rows()]


def _history_frame(columns: dict[str, pd.Series]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "credit_code": pd.Series(columns.get("credit_code", []), dtype=str),
            "agency_id": pd.Series(columns.get("agency_id", []), dtype=str),
            "date": pd.Series(columns.get("date", []), dtype="datetime64[ns]"),
            "inspector_ids": pd.Series(columns.get("inspector_ids", []), dtype=object),
        }
    )
    for col, values in columns.items():
        if col not in HISTORY_COLUMNS:
            frame[col] = values
    return frame


def _teams(n: int, positions: np.ndarray, ids: pa.Array) -> np.ndarray:
    """Per row, the sorted tuple of its distinct ids (:func:`_split` of each cell, vectorised:
    each distinct id becomes one Python string, shared by every tuple that holds it)."""
    codes, uniques = pd.factorize(ids.to_pandas())
    names = [str(u) for u in uniques]
    by_name = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int64)
    rank[by_name] = np.arange(len(names))
    r = rank[codes]
    order = np.lexsort((r, positions))
    pos, r = positions[order], r[order]
    new = np.ones(len(pos), dtype=bool)
    new[1:] = (pos[1:] != pos[:-1]) | (r[1:] != r[:-1])
    pos, r = pos[new], r[new]
    ranked = [names[k] for k in by_name]
    values = [ranked[k] for k in r.tolist()]
    bounds = np.searchsorted(pos, np.arange(n + 1)).tolist()
    out = np.empty(n, dtype=object)
    out[:] = [tuple(values[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return out


def _history(t: _Table, agency_ids: set[str] | None, inspector_ids: set[str] | None) -> pd.DataFrame:
    """检查记录: valid credit codes, known agency and inspectors, ISO dates (vectorised)."""
    df = t.df
    t.uscc("credit_code")
    t.references("agency_id", agency_ids, "agency")
    dates = t.date("date")
    t.references("inspector_ids", inspector_ids, "inspector", t.exploded("inspector_ids"))
    teams = _teams(len(df), *t.split_list("inspector_ids"))
    columns = {
        "credit_code": df["credit_code"].array,
        "agency_id": df["agency_id"].array,
        "date": dates.to_numpy(),
        "inspector_ids": teams,
    }
    columns |= {c: df[c].array for c in t.extras()}
    return _history_frame(columns)


def _leave(t: _Table, inspector_ids: set[str] | None) -> list[Leave]:
    """请假: a known inspector, inclusive ISO dates, start not after end."""
    df = t.df
    t.references("inspector_id", inspector_ids, "inspector")
    start, end = t.date("start"), t.date("end")
    late = (start > end).to_numpy(dtype=bool)
    for row, s, e in zip(df.index[late], start[late], end[late], strict=True):
        t.problems.append(Problem(t.file, int(row), "start", msg("imp_start_after_end", start=s.date(), end=e.date())))
    return [
        Leave(r.inspector_id, s.date(), e.date())
        for r, s, e in zip(t.rows(), start, end, strict=True)
        if not (pd.isna(s) or pd.isna(e))
    ]


def _items(t: _Table) -> dict[str, Item]:
    """抽查事项清单: unique item ids."""
    t.unique("item_id")
    return {r.item_id: Item(r.item_id, r.department, r.name, r.legal_basis, r.specialty) for r in t.rows()}
