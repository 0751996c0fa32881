"""Dates as people type them: ``2026-03-20``, ``2026/03/20``, ``2026.3.20``, ``20260320``,
``2026年3月20日``. One parser for the command line (``--from``, ``--to``, ``--date``, ``--today``)."""

from __future__ import annotations

import datetime as dt
import re

from scheduler.messages import t

_FORMS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"),
)

ACCEPTED = "2026-03-20、2026/03/20、2026.03.20、20260320、2026年3月20日"


def parse_day(text: str) -> dt.date:
    """The date ``text`` names in one of the accepted forms; ``ValueError`` (in the current
    language, naming the value and the accepted forms) otherwise."""
    value = (text or "").strip()
    for form in _FORMS:
        m = form.fullmatch(value)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                break
    raise ValueError(t("bad_date", value=text, forms=ACCEPTED))


def parse_range(start: str, end: str | None) -> tuple[dt.date, dt.date | None]:
    """A period ``start`` to ``end`` (inclusive; ``end`` may be open); a reversed range is refused."""
    lo = parse_day(start)
    hi = parse_day(end) if end else None
    if hi is not None and hi < lo:
        raise ValueError(t("reversed_range", start=lo.isoformat(), end=hi.isoformat()))
    return lo, hi
