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
from scheduler.uscc import ALPHABET, WEIGHTS, uscc_problem

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
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
DECIMAL_PATTERN = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"  # parsed by Arrow
MAX_PER_CHECK = 50  # problems listed per check and column; the rest are counted

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


def registry_files(folder: str | Path) -> dict[str, Path]:
    """The registry's table files (as ``Registry.files``) without reading them: what a
    commitment hashes, found the way :func:`load_registry` finds them."""
    out: dict[str, Path] = {}
    for table in TABLES:
        path = find_table(Path(folder), table)
        if path is not None:
            out[table] = path
    return out


def load_registry(folder: str | Path) -> Registry:
    """Read and validate the registry in ``folder``; raise :class:`InputError` naming
    every problem of every file, else return the :class:`Registry`."""
    folder = Path(folder)
    problems: list[Problem] = []
    tables: dict[str, _Table] = {}
    if not folder.is_dir():
        raise InputError(
            Problem(folder.name or str(folder), None, None, msg("imp_no_folder"))
        )
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
            tables[table] = _Table(table, path, read_table(path, table), problems)
        except InputError as exc:
            problems.extend(exc.problems)
    for t in tables.values():
        t.require_columns()

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
        files={name: t.path for name, t in tables.items()},
    )


@dataclass
class _Table:
    """One table under validation: its frame (index = spreadsheet row) and the shared problem list."""

    table: str
    path: Path
    df: pd.DataFrame
    problems: list[Problem]
    missing: set[str] = field(default_factory=set)

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

    def report(self, bad: pd.Series, column: str, message: Callable[[str], str]) -> None:
        """One problem per bad value (index = row), at most :data:`MAX_PER_CHECK`, then a count."""
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

    def date(self, col: str) -> pd.Series:
        """ISO ``YYYY-MM-DD`` (an Excel date cell arrives in this form), as datetime64[ns]."""
        s = self.df[col]
        parsed = pd.to_datetime(s.where(s.str.fullmatch(DATE_PATTERN)), format="%Y-%m-%d", errors="coerce")
        self.report(
            s[(s != "") & parsed.isna()], col, lambda v: msg("imp_date", column=col, value=v)
        )
        return parsed.astype("datetime64[ns]")

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
    status = df["status"]
    if (status == "").any():
        status = status.where(status != "", "active")
    t.uscc("credit_code")
    t.unique("credit_code")
    _region(t)
    t.pattern(
        "industry",
        INDUSTRY_PATTERN,
        lambda v: msg("imp_industry", value=v),
    )
    t.choice("risk_class", "ABCD", lambda v: msg("plan_risk_class_got", value=v))
    typed = {
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
    expiry = t.date("certificate_expiry")
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
