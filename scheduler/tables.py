"""Reading one registry table file as strings, headers mapped to the interchange contract.

A table may come as ``.csv`` (UTF-8 with or without BOM, else GB18030, which
covers GBK), ``.xlsx`` (first sheet) or ``.parquet``. Every cell is read as a
string so that validation (:mod:`scheduler.importer`) controls parsing; Excel
and Parquet dates become ``YYYY-MM-DD`` and whole numbers lose their ``.0``.
Headers may be the contract's English names or its Chinese labels.
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from openpyxl.utils.exceptions import InvalidFileException

from scheduler.errors import InputError, Problem
from scheduler.messages import t
from scheduler.messages import t as msg

# Table name -> Chinese table name (CONTRACT.md headings).
TABLE_LABELS: dict[str, str] = {
    "agencies": "执法机构",
    "enterprises": "检查对象名录库",
    "inspectors": "执法检查人员名录库",
    "conflicts": "回避关系",
    "history": "检查记录",
    "leave": "请假",
    "items": "抽查事项清单",
}

# Column name -> Chinese label, one dict per table, in the contract's order.
# The contract gives no labels for lat/lon or for the optional tables' columns;
# those below reuse the label of the same column elsewhere or are the usual terms.
AGENCY_LABELS: dict[str, str] = {
    "agency_id": "机构编码",
    "name": "机构名称",
    "department": "部门",
    "level": "层级",
    "parent_id": "上级机构",
    "region_code": "行政区划代码",
}
ENTERPRISE_LABELS: dict[str, str] = {
    "credit_code": "统一社会信用代码",
    "name": "名称",
    "region_code": "行政区划代码",
    "industry": "行业代码",
    "risk_class": "信用风险分类",
    "key_area": "重点领域",
    "abnormal": "经营异常",
    "complaints": "投诉举报数",
    "status": "登记状态",
    "entity_type": "市场主体类型",
    "legal_rep_id": "法定代表人证件号",
    "address": "住所",
    "lat": "纬度",
    "lon": "经度",
}
INSPECTOR_LABELS: dict[str, str] = {
    "inspector_id": "人员编码",
    "name": "姓名",
    "agency_id": "所属机构",
    "certificate_no": "执法证号",
    "certificate_expiry": "证件有效期",
    "auxiliary": "辅助人员",
    "specialties": "专业领域",
    "quarterly_cap": "季度上限",
    "daily_cap": "每日上限",
    "former_employers": "曾任职单位",
    "relatives_ids": "近亲属证件号",
}
CONFLICT_LABELS: dict[str, str] = {
    "inspector_id": "人员编码",
    "credit_code": "统一社会信用代码",
    "reason": "回避原因",
}
HISTORY_LABELS: dict[str, str] = {
    "credit_code": "统一社会信用代码",
    "agency_id": "机构编码",
    "date": "检查日期",
    "inspector_ids": "检查人员",
}
LEAVE_LABELS: dict[str, str] = {
    "inspector_id": "人员编码",
    "start": "开始日期",
    "end": "结束日期",
}
ITEM_LABELS: dict[str, str] = {
    "item_id": "事项编码",
    "department": "部门",
    "name": "事项名称",
    "legal_basis": "法律依据",
    "specialty": "专业领域",
}
CALENDAR_LABELS: dict[str, str] = {"date": "日期", "kind": "类型"}
HEADER_LABELS: dict[str, dict[str, str]] = {
    "calendar": CALENDAR_LABELS,
    "agencies": AGENCY_LABELS,
    "enterprises": ENTERPRISE_LABELS,
    "inspectors": INSPECTOR_LABELS,
    "conflicts": CONFLICT_LABELS,
    "history": HISTORY_LABELS,
    "leave": LEAVE_LABELS,
    "items": ITEM_LABELS,
}
HEADER_ALIASES: dict[str, dict[str, str]] = {
    "enterprises": {
        "企业名称": "name",
        "主体名称": "name",
        "市场主体名称": "name",
        "统一社会信用代码/注册号": "credit_code",
        "统一社会信用代码（注册号）": "credit_code",
        "经营状态": "status",
        "法定代表人身份证号": "legal_rep_id",
        "经营场所": "address",
    },
    "inspectors": {
        "执法证编号": "certificate_no",
        "执法证有效期": "certificate_expiry",
    },
}
"""Headers real exports use for a contract column (table -> header -> column): the one table of
aliases, listed in the README. Anything else goes in the registry's ``mapping.yaml``."""
EXTENSIONS = (".csv", ".xlsx", ".parquet")
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
CSV_BLOCK = 1 << 26  # bytes parsed per chunk: large buffers go back to the OS when freed, small ones linger
# pyarrow's generated column names; large_string is what pandas keeps (no second copy of the offsets)
_ALL_STRINGS = {f"f{k}": pa.large_string() for k in range(1024)}
_HASH_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93], dtype=np.uint64
)


def arrow_strings(s: pd.Series) -> pa.ChunkedArray:
    """The Arrow string data of a text column (zero copy for pandas' pyarrow-backed ``str``;
    other columns as ``astype(str)``; a missing value is null, which reads as empty)."""
    try:
        arr = pa.array(s, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        arr = pa.array(s.astype(str), type=pa.large_string(), from_pandas=True)
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr], type=pa.large_string())


def isin_text(column: pd.Series, values: Iterable[str]) -> np.ndarray:
    """``column.isin(values)`` as a boolean array, for a text column of millions of rows: in
    Arrow, without a Python object per cell (a missing cell matches nothing)."""
    values = list(values)
    if not values:
        return np.zeros(len(column), dtype=bool)
    found = pc.is_in(arrow_strings(column), value_set=pa.array(values, pa.large_string()))
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def string_buffers(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, bytes) of one ``large_string`` chunk as numpy views (value k is
    ``data[offsets[k]:offsets[k + 1]]``; a null is empty)."""
    _, offsets, data = chunk.buffers()
    if not len(chunk) or offsets is None:
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    off = np.frombuffer(offsets, dtype=np.int64)[chunk.offset : chunk.offset + len(chunk) + 1]
    return off, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8))


def fixed_width_rows(arr: pa.ChunkedArray, width: int, block: int = 1 << 18):
    """The values of exactly ``width`` bytes, ``block`` rows at a time: yields
    ``(first, raw, rows)`` where ``raw`` is a ``(len(rows), width)`` uint8 matrix of the values
    at positions ``first + rows`` (a view of the Arrow buffer when they are contiguous)."""
    first = 0
    span = np.arange(width)
    for chunk in arr.chunks:
        offsets, data = string_buffers(chunk)
        candidates = np.flatnonzero(np.diff(offsets) == width)
        for start in range(0, candidates.size, block):
            rows = candidates[start : start + block]
            lo, hi = offsets[rows[0]], offsets[rows[-1]] + width
            if rows[-1] - rows[0] == rows.size - 1 and hi - lo == rows.size * width:
                raw = data[lo:hi].reshape(-1, width)
            else:
                raw = data[offsets[rows][:, None] + span]
            yield first, raw, rows
        first += len(chunk)


def row_hashes(raw: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of a ``(n, width)`` uint8 matrix (or of each value of a
    fixed-width bytes array ``S<width>``), vectorised; equal rows hash equal."""
    if raw.dtype.kind == "S":
        raw = raw.view(np.uint8).reshape(len(raw), raw.dtype.itemsize)
    n, width = raw.shape
    if width < 8:
        raw = np.hstack([raw, np.zeros((n, 8 - width), dtype=np.uint8)])
        width = 8
    raw = np.ascontiguousarray(raw)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k, start in enumerate(sorted({*range(0, width - 7, 8), width - 8})):  # words covering every byte
            word = np.ndarray((n,), "<u8", buffer=raw, offset=start, strides=(width,))
            h = (h ^ word) * _HASH_MULTIPLIERS[k % 4]
            h ^= h >> np.uint64(29)
    return h


def byte_strings(s: pd.Series | pa.ChunkedArray) -> np.ndarray:
    """A text column as a fixed-width numpy bytes array (``S<longest>``, UTF-8): a view of the
    Arrow buffer when every value has the same length (credit codes), no Python object per value.
    (``S`` drops trailing NUL bytes, which no credit code holds.)"""
    arr = s if isinstance(s, pa.ChunkedArray) else arrow_strings(s)
    lengths = [np.diff(string_buffers(c)[0]) for c in arr.chunks]
    width = max([1, *(int(x.max()) for x in lengths if len(x))])
    parts = []
    for chunk, length in zip(arr.chunks, lengths, strict=True):
        offsets, data = string_buffers(chunk)
        if len(chunk) and (length == width).all():
            parts.append(data[offsets[0] : offsets[-1]].view(f"S{width}"))
            continue
        raw = np.zeros((len(chunk), width), dtype=np.uint8)
        for k in range(width):  # byte k of every value at least k + 1 long
            has = np.flatnonzero(length > k)
            raw[has, k] = data[offsets[has] + k]
        parts.append(raw.reshape(-1).view(f"S{width}"))
    if not parts:
        return np.zeros(0, dtype=f"S{width}")
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def find_table(folder: Path, table: str) -> Path | None:
    """The file holding ``table`` in ``folder``: ``<table>`` or its Chinese name, with
    extension ``.csv``, ``.xlsx`` or ``.parquet`` (any case). ``None`` when there is none;
    :class:`InputError` when two files claim the table."""
    stems = {table, TABLE_LABELS[table]}
    found = sorted(
        p
        for p in Path(folder).iterdir()
        if p.is_file() and p.suffix.lower() in EXTENSIONS and p.stem in stems
    )
    if len(found) > 1:
        names = " and ".join(p.name for p in found)
        raise InputError(
            Problem(found[0].name, None, None, msg("tab_two_files", table=table, names=names))
        )
    return found[0] if found else None


def read_table(path: Path, table: str, headers: dict[str, str] | None = None) -> pd.DataFrame:
    """Every cell of ``path`` as a string; headers mapped to the contract's English names.

    The index is the spreadsheet row number (header is row 1, first data row 2);
    rows that are empty in every column are dropped. Unknown columns are kept
    under their (stripped) header. ``headers`` (the mapping file's export header ->
    contract column for this table) is applied first; a header it names that the file
    lacks is a problem. Raises :class:`InputError` when the file cannot
    be read or two headers name the same column.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    readers = {".csv": _read_csv, ".xlsx": _read_xlsx, ".parquet": _read_parquet}
    if suffix not in readers:
        raise InputError(
            Problem(path.name, None, None, msg("tab_file_type", suffix=suffix))
        )
    try:
        header, body = readers[suffix](path)
    except InputError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as exc:
        raise InputError(Problem(path.name, None, None, msg("tab_unreadable", error=exc))) from exc
    body.index = pd.RangeIndex(2, 2 + len(body), name="row")
    body.columns = range(body.shape[1])
    width = max(len(header), body.shape[1])
    header = list(header) + [""] * (width - len(header))
    for k in range(body.shape[1], width):
        body[k] = ""
    headers = headers or {}
    stripped = ["" if h is None else str(h).replace("\ufeff", "").strip() for h in header]
    names = [headers[h] if h in headers else canonical_header(h, table) for h in stripped]
    problems: list[Problem] = []
    for export, column in headers.items():
        if export not in stripped:
            problems.append(
                Problem(path.name, None, column, t("mapping_header_absent", header=export, column=column, file=path.name))
            )
    keep: list[int] = []
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        if name == "":
            if (body[k] != "").any():
                problems.append(Problem(path.name, None, None, msg("tab_no_header", k=k + 1)))
            continue
        if name in seen:
            j = seen[name]
            problems.append(
                Problem(
                    path.name,
                    None,
                    name,
                    msg("tab_two_headers", name=name, first=header[j], j=j + 1, second=header[k], k=k + 1),
                )
            )
            continue
        seen[name] = k
        keep.append(k)
    if problems:
        raise InputError(problems)
    body = body[keep]
    body.columns = [names[k] for k in keep]
    filled = _filled_rows(body)
    if filled is not None:
        body = body[filled]
    # the file's own header of each column, where it differs from the contract's name: problems
    # name both (``列 credit_code（统一社会信用代码）``), so the person finds the column
    own = {names[k]: str(header[k]).strip().lstrip("\ufeff") for k in keep}
    body.attrs["headers"] = {name: raw for name, raw in own.items() if raw and raw != name}
    pa.default_memory_pool().release_unused()  # what reading used, back to the OS before validation
    return body


def _filled_rows(body: pd.DataFrame) -> np.ndarray | None:
    """Which rows have a value in some column; ``None`` when all do (the usual case: decided by
    the first column that is never empty)."""
    filled = np.zeros(len(body), dtype=bool)
    for col in body.columns:
        filled |= (body[col] != "").to_numpy(dtype=bool)
        if filled.all():
            return None
    return filled if len(body.columns) else None


def canonical_header(raw: Any, table: str) -> str:
    """The contract's English name for header ``raw`` (English in any case, the Chinese
    label, or an alias of :data:`HEADER_ALIASES`); unknown headers come back stripped of
    whitespace and BOM."""
    name = "" if raw is None else str(raw).replace("\ufeff", "").strip()
    labels = HEADER_LABELS[table]
    if name.lower() in labels:
        return name.lower()
    for english, chinese in labels.items():
        if name == chinese:
            return english
    return HEADER_ALIASES.get(table, {}).get(name, name)


def _read_csv(path: Path) -> tuple[list[str], pd.DataFrame]:
    """UTF-8 (BOM optional) first, then GB18030."""
    for encoding in CSV_ENCODINGS:
        try:
            frame = _csv_frame(path, encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError(Problem(path.name, None, None, msg("tab_empty"))) from None
        if frame.empty:
            raise InputError(Problem(path.name, None, None, msg("tab_empty")))
        return list(frame.iloc[0]), frame.iloc[1:].reset_index(drop=True)
    raise InputError(Problem(path.name, None, None, msg("tab_encoding")))


def _csv_frame(path: Path, encoding: str) -> pd.DataFrame:
    """All lines (header included) as string columns.

    pyarrow's reader first (fast and lean for millions of rows); when it rejects
    the layout (ragged rows, quoted newlines, too many columns) the pandas reader
    decides: it pads short rows and names the line of a long one. Both take the
    first line's width as the table's (pandas' ``header=0`` would silently turn an
    extra field into the index).
    """
    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(
                encoding="utf8" if encoding.startswith("utf") else encoding,
                autogenerate_column_names=True,
                use_threads=False,  # memory of worker threads would stay in their heaps (RSS) when freed
                block_size=CSV_BLOCK,
            ),
            parse_options=pa_csv.ParseOptions(ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=_ALL_STRINGS,
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        if table.num_columns <= len(_ALL_STRINGS):
            return table.to_pandas(self_destruct=True, split_blocks=True)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc):
            raise UnicodeDecodeError(encoding, b"", 0, 0, str(exc)) from None
        if "Empty CSV file" in str(exc):
            raise pd.errors.EmptyDataError(str(exc)) from None
    frame = pd.read_csv(
        path, header=None, encoding=encoding, dtype=str, keep_default_na=False, skip_blank_lines=False
    )
    return frame.fillna("")


def _read_xlsx(path: Path) -> tuple[list[str], pd.DataFrame]:
    """First sheet, cell values converted by :func:`cell_text`."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            raise InputError(Problem(path.name, None, None, msg("tab_sheet_empty")))
        header = [cell_text(v) for v in first]
        data = [[cell_text(v) for v in row] for row in rows]
    finally:
        book.close()
    width = max([len(header), *(len(r) for r in data)])
    data = [r + [""] * (width - len(r)) for r in data]
    return header, pd.DataFrame(data, columns=range(width), dtype=str)


def _read_parquet(path: Path) -> tuple[list[str], pd.DataFrame]:
    """Columns read and converted to text one at a time, in Arrow (no Python object per cell):
    only one column is ever alive both typed and as text."""
    source = pq.ParquetFile(path)
    schema = source.schema_arrow
    meta = schema.pandas_metadata or {}
    index_columns = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
    names = [n for n in schema.names if n not in index_columns]
    if len(set(schema.names)) == len(schema.names):
        # one thread: allocations of worker threads would stay in their own heaps (RSS) after use
        columns = (source.read(columns=[n], use_threads=False).column(0) for n in names)
    else:  # repeated names cannot be read one by one (read_table reports the repeated header)
        whole = source.read(use_threads=False)
        columns = (whole.column(k) for k, n in enumerate(schema.names) if n not in index_columns)
    texts = []
    for column in columns:
        texts.append(arrow_text(column))
        del column
        pa.default_memory_pool().release_unused()  # the typed column's memory back to the OS now
    body = pa.table(texts, names=[str(k) for k in range(len(texts))]).to_pandas(self_destruct=True)
    del texts
    if len(names) == 0:
        body = pd.DataFrame(index=pd.RangeIndex(source.metadata.num_rows))
    return names, body


def arrow_text(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """A typed Arrow column as ``large_string`` text without nulls, vectorised, by the rules of
    :func:`series_text` (strings, booleans, integers and float64 in Arrow; other types through
    pandas)."""
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column], type=column.type)
    t = column.type
    if pa.types.is_float64(t):
        return _float_text(column)
    if pa.types.is_boolean(t):
        text = pc.if_else(column, pa.scalar("true", pa.large_string()), pa.scalar("false", pa.large_string()))
    elif (
        pa.types.is_null(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or pa.types.is_integer(t)
    ):
        text = column.cast(pa.large_string())
    else:
        text = pa.chunked_array(
            [pa.array(series_text(column.to_pandas()).to_numpy(dtype=object), pa.large_string())],
            type=pa.large_string(),
        )
    return pc.fill_null(text, "") if text.null_count else text


def _float_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """float64 as text: whole numbers below 2**53 without ``.0``, others as Python's ``repr``
    (Arrow's shortest round-trip digits where they agree with it: no exponent and at least
    1e-4 in magnitude; Python formats the rest), NaN and null empty."""
    values = column.to_numpy()  # null -> NaN
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(values)
        whole = finite & (np.floor(values) == values) & (np.abs(values) < 2.0**53)
        plain = finite & ~whole & (np.abs(values) >= 1e-4)
    text = column.cast(pa.large_string())
    if plain.any():
        plain &= ~pc.fill_null(pc.match_substring(text, "e"), False).to_numpy()
    pieces: list[tuple[np.ndarray, pa.Array]] = []
    if whole.any():
        pieces.append((whole, pa.array(values[whole].astype(np.int64)).cast(pa.large_string())))
    odd = ~np.isnan(values) & ~whole & ~plain
    if odd.any():
        pieces.append((odd, pa.array([repr(float(v)) for v in values[odd]], pa.large_string())))
    missing = np.isnan(values)
    out = text.combine_chunks() if pieces or missing.any() else text
    for mask, replacement in pieces:
        out = pc.replace_with_mask(out, pa.array(mask), replacement)
    if missing.any():
        out = pc.if_else(pa.array(missing), pa.scalar("", pa.large_string()), out)
    return out if isinstance(out, pa.ChunkedArray) else pa.chunked_array([out], type=pa.large_string())


def cell_text(value: Any) -> str:
    """A cell value as clean text: dates ``YYYY-MM-DD``, ``12.0`` -> ``12`` (whole numbers below
    2**53), None -> ``""``."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        # a whole number beyond 2**53 is not exact (an id Excel stored as a number): its repr, which
        # the importer recognises as Excel damage, not digits the file never held
        return str(int(value)) if value.is_integer() and abs(value) < 2.0**53 else repr(float(value))
    return str(value)


def series_text(s: pd.Series) -> pd.Series:
    """A typed column (Parquet) as text, vectorised, by the rules of :func:`cell_text`."""
    missing = s.isna().to_numpy()
    if pd.api.types.is_bool_dtype(s):
        out = pd.Series(np.where(s.fillna(False).to_numpy(bool), "true", "false"), index=s.index, dtype=str)
    elif pd.api.types.is_datetime64_any_dtype(s):
        naive = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        midnight = bool((naive.dt.normalize() == naive)[~missing].all())
        out = naive.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S").astype(str)
    elif pd.api.types.is_integer_dtype(s):
        out = s.astype(str)
    elif pd.api.types.is_float_dtype(s):
        values = s.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < 2.0**53)
        out = s.astype(str)
        out[whole] = values[whole].astype(np.int64).astype(str)
    elif pd.api.types.is_string_dtype(s) and not pd.api.types.is_object_dtype(s):
        out = s.astype(str)
    else:
        out = s.map(cell_text).astype(str)
    out[missing] = ""
    return out
