"""Values as real platforms export them: registration status, risk class, entity type, dates,
and the damage Excel does to long ids.

Every form listed here is understood (turned into the contract's value); anything else is an
error the importer reports with file, row, column and value. Sources: the national registration
status code set of the enterprise credit publicity system (存续（在营、开业、在册）, 吊销，未注销,
吊销，已注销, 注销, 撤销, 迁出, 其他) and the forms provincial exports carry; 市场主体登记管理条例
(2022) for 歇业 and the four kinds of market entity; GB 11643-1999 for the personal id's check
digit. The README lists every form.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scheduler.tables import arrow_strings

# ---- registration status (登记状态 / 经营状态) -------------------------------------------

ACTIVE = "active"
"""The contract's value for the 存续 family: drawn."""
INACTIVE = "inactive"
SUSPENDED = "歇业"
REVOKED = "吊销，未注销"
POLICY_STATUSES = (SUSPENDED, REVOKED)
"""Not active, but a plan may draw them (``policy.draw_statuses``; default: neither)."""
STATUSES = (ACTIVE, INACTIVE, REVOKED, "吊销，已注销", "注销", "撤销", "迁出", "其他", SUSPENDED, "清算", "责令关闭")
"""Every value the status column holds after import."""

_STATUS_FORMS: dict[str, tuple[str, ...]] = {
    ACTIVE: ("active", "存续（在营、开业、在册）", "存续", "在营", "开业", "在业", "在册", "正常", "在营（开业）"),
    INACTIVE: ("inactive",),
    REVOKED: ("吊销，未注销", "吊销", "已吊销", "吊销未注销"),
    "吊销，已注销": ("吊销，已注销", "吊销已注销"),
    "注销": ("注销", "已注销"),
    "撤销": ("撤销", "已撤销"),
    "迁出": ("迁出", "已迁出"),
    "其他": ("其他",),
    SUSPENDED: ("歇业", "停业"),
    "清算": ("清算", "清算中"),
    "责令关闭": ("责令关闭",),
}
_HALF_TO_FULL = str.maketrans({"(": "（", ")": "）", ",": "，"})


def normal_text(value: str) -> str:
    """A value compared with the forms: no spaces, half-width brackets and commas made full-width,
    ASCII letters lower-case (``存续(在营、开业、在册)`` = ``存续（在营、开业、在册）``)."""
    return re.sub(r"\s+", "", str(value)).translate(_HALF_TO_FULL).lower()


STATUS_FORMS: dict[str, str] = {normal_text(f): v for v, forms in _STATUS_FORMS.items() for f in forms}
"""Status form (as :func:`normal_text` writes it) -> the value kept."""

# ---- risk class (信用风险分类) ---------------------------------------------------------------

RISK_CLASSES = ("A", "B", "C", "D")
RISK_FORMS: dict[str, str] = {
    **{c: c for c in RISK_CLASSES},
    **{f"{c}类": c for c in RISK_CLASSES},
    "信用风险低": "A",
    "信用风险一般": "B",
    "信用风险较高": "C",
    "信用风险高": "D",
}

# ---- entity type (市场主体类型) --------------------------------------------------------------

ENTITY_TYPES = ("企业", "个体工商户", "农民专业合作社", "外国企业常驻代表机构")
ENTITY_FORMS: dict[str, str] = {
    **{e: e for e in ENTITY_TYPES},
    "个体户": "个体工商户",
    "外国（地区）企业常驻代表机构": "外国企业常驻代表机构",
}


def canonical(values: pd.Series, forms: dict[str, str], mapped: dict[str, str] | None = None) -> tuple[pd.Series, np.ndarray]:
    """Each value as the contract's value: first the mapping file's ``mapped`` (export value ->
    contract value, exact), then ``forms`` (compared after :func:`normal_text`). Returns the
    values (unknown ones unchanged) and a mask of the unknown ones; empty stays empty. Works on
    the distinct values (a handful in millions of rows)."""
    codes, uniques = pd.factorize(values)
    keys = {normal_text(k): v for k, v in forms.items()}
    mapped = mapped or {}
    out, unknown = [], []
    for u in uniques:
        u = str(u)
        if u in mapped:
            out.append(mapped[u])
            unknown.append(False)
        elif u == "":
            out.append("")
            unknown.append(False)
        else:
            v = keys.get(normal_text(u))
            out.append(u if v is None else v)
            unknown.append(v is None)
    if not len(uniques) or out == [str(u) for u in uniques]:  # nothing to translate: the column as it is
        return values, np.array(unknown, dtype=bool)[codes] if len(uniques) else np.zeros(len(values), dtype=bool)
    taken = pa.array(out, pa.large_string()).take(pa.array(codes))  # in Arrow: no Python object per row
    return pd.Series(taken.to_pandas().array, index=values.index), np.array(unknown, dtype=bool)[codes]


# ---- dates -----------------------------------------------------------------------------------

NO_EXPIRY = ("长期", "长期有效")
NO_EXPIRY_DATES = (dt.date(9999, 9, 9), dt.date(9999, 12, 31))
"""A certificate expiry written this way means it does not expire."""
EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's 1900 date system (serial 1 = 1900-01-01, with its 1900-02-29)
_DATE_FORMS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})(?: 0?0:00(?::00)?)?"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_SERIAL = re.compile(r"\d{5}|2958465")  # an Excel date cell read as its number: 1927-05-18 .. 2173-10-14, 9999-12-31


def parse_date(text: str) -> dt.date | None:
    """ISO, ``2026/1/5``, ``2026.1.5``, ``2026年1月5日``, ``20260105``, a midnight date-time, or an
    Excel date serial (``46027``); ``None`` when the text is none of these or no real day."""
    text = text.strip()
    for form in _DATE_FORMS:
        m = form.fullmatch(text)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    if _SERIAL.fullmatch(text):
        return EXCEL_EPOCH + dt.timedelta(days=int(text))
    return None


def parse_dates(values: pd.Series, no_expiry: bool = False) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """A text column of dates as ``datetime64[ns]`` (NaT where empty, bad or never expiring),
    the mask of bad values and the mask of 'does not expire' (only when ``no_expiry``: 长期,
    9999-09-09, 9999-12-31 in any date form). Parses each distinct value once."""
    codes, uniques = pd.factorize(values)
    parsed: list = []
    bad: list[bool] = []
    never: list[bool] = []
    for u in uniques:
        u = str(u).strip()
        if u == "":
            parsed.append(pd.NaT)
            bad.append(False)
            never.append(False)
            continue
        day = parse_date(u)
        endless = no_expiry and (u in NO_EXPIRY or day in NO_EXPIRY_DATES)
        ok = endless or (day is not None and dt.date(1678, 1, 1) < day < dt.date(2262, 4, 11))
        parsed.append(pd.Timestamp(day) if ok and not endless else pd.NaT)
        bad.append(not ok)
        never.append(endless)
    if not len(uniques):
        empty = np.zeros(len(values), dtype=bool)
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]"), empty, empty
    out = pd.Series(pd.DatetimeIndex(parsed).to_numpy()[codes], index=values.index).astype("datetime64[ns]")
    return out, np.array(bad, dtype=bool)[codes], np.array(never, dtype=bool)[codes]


# ---- Excel damage to long ids --------------------------------------------------------------

_SCIENTIFIC = r"^[0-9](\.[0-9]+)?[eE]\+[0-9]{1,3}$"
"""How Excel shows a long number in a General cell (``6.79894E+17``): no id looks like this."""
_ZEROED = r"^[1-9][0-9]{14}0+$"
"""A number of 16 or more digits whose digits past the 15th are zeros: what Excel keeps of it."""
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def personal_id_valid(value: str) -> bool:
    """An 18-character resident id whose check digit is right (GB 11643-1999)."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    check = "10X98765432"[sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True)) % 11]
    return value[17].upper() == check


def excel_damaged(values: pd.Series, check=None) -> np.ndarray:
    """Which values of an id column Excel turned into a number (certain cases only):

    - scientific notation (``6.79894E+17``): always;
    - a number of 16+ digits with only zeros past the 15th: when every such long number of the
      column is zeroed this way (Excel does it to the whole column; genuine ids end in ``000``
      about once in a thousand) and there are at least two, or there is one and ``check`` (the
      id's own check digit rule, when the column has one) rejects it.
    """
    arr = arrow_strings(values)

    def mask(result) -> np.ndarray:
        return np.asarray(pc.fill_null(result, False).to_numpy(zero_copy_only=False), dtype=bool)

    out = np.zeros(len(values), dtype=bool)
    if mask(pc.match_substring(arr, "+")).any():  # cheap first: no '+', no scientific notation
        out |= mask(pc.match_substring_regex(arr, _SCIENTIFIC))
    long = mask(pc.greater_equal(pc.binary_length(arr), 16)) & mask(pc.ascii_is_decimal(arr))
    if long.any() and not (long & ~mask(pc.ends_with(arr, "0"))).any():  # every long number ends in 0
        zeroed = long & mask(pc.match_substring_regex(arr, _ZEROED))
        if zeroed.sum() == long.sum():
            found = arr.filter(pa.array(zeroed))
            first = found[0].as_py()
            several = bool(pc.any(pc.not_equal(found, pa.scalar(first, pa.large_string()))).as_py())
            if several or (check is not None and not check(first)):
                out |= zeroed
    return out
