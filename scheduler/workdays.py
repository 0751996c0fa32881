"""Chinese working days (工作日), with 调休 make-up days counted as working days.

The ``chinese-calendar`` package knows the State Council's holiday notices for
2004–2026. Planners plan the next year before its package release, so a
calendar file may supply any year: a CSV with columns ``date`` and ``kind``
(``workday``/``工作日``/``调休`` or ``holiday``/``休息日``/``节假日``) listing the
exceptions to the Monday–Friday rule. A year known to neither is an error,
never a silent guess.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import chinese_calendar

from scheduler.days import parse_day
from scheduler.errors import InputError, Problem
from scheduler.messages import t
from scheduler.tables import read_table

WORK_KINDS = {"workday", "work", "工作日", "调休", "上班", "补班"}
OFF_KINDS = {"holiday", "off", "休息日", "节假日", "假日", "休息", "放假"}


def _package_years() -> tuple[int, int]:
    years = sorted(d.year for d in chinese_calendar.holidays)
    return years[0], years[-1]


class WorkCalendar:
    """Which dates are working days.

    ``overrides`` maps a date to True (a working day, e.g. a 调休 Saturday) or
    False (a holiday); a year present in ``overrides`` is taken from it and the
    Monday–Friday rule, otherwise from the chinese-calendar package.
    """

    def __init__(self, overrides: dict[dt.date, bool] | None = None, source: str = "chinese-calendar"):
        self.overrides = dict(overrides or {})
        self.source = source
        self.file_years = {d.year for d in self.overrides}
        self.package_years = _package_years()

    def covers(self, year: int) -> bool:
        lo, hi = self.package_years
        return year in self.file_years or lo <= year <= hi

    def is_workday(self, day: dt.date) -> bool:
        if day.year in self.file_years:
            if day in self.overrides:
                return self.overrides[day]
            return day.weekday() < 5
        if not self.covers(day.year):
            raise self.missing(day.year)
        return chinese_calendar.is_workday(day)

    def missing(self, year: int) -> InputError:
        lo, hi = self.package_years
        return InputError(
            Problem(
                t("calendar_where"),
                None,
                None,
                t("calendar_missing_year", year=year, lo=lo, hi=hi),
            )
        )

    def workdays(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Working days from ``start`` to ``end`` inclusive."""
        for year in range(start.year, end.year + 1):
            if not self.covers(year):
                raise self.missing(year)
        out = []
        day = start
        while day <= end:
            if self.is_workday(day):
                out.append(day)
            day += dt.timedelta(days=1)
        return out

    def fingerprint(self) -> str:
        """A hash of the overrides (for the manifest)."""
        text = "\n".join(f"{d.isoformat()},{int(v)}" for d, v in sorted(self.overrides.items()))
        return hashlib.sha256(text.encode()).hexdigest()


def load_calendar(path: str | Path) -> WorkCalendar:
    """Read a calendar file (CSV/XLSX/Parquet, columns ``date``, ``kind``)."""
    path = Path(path)
    frame = read_table(path, "calendar")
    problems: list[Problem] = []
    for col in ("date", "kind"):
        if col not in frame.columns:
            problems.append(Problem(path.name, None, col, t("column_missing")))
    if problems:
        raise InputError(problems)
    overrides: dict[dt.date, bool] = {}
    for k, (d, kind) in enumerate(zip(frame["date"], frame["kind"], strict=False), start=2):
        try:
            day = parse_day(str(d).strip().split(" ")[0].split("T")[0])
        except ValueError as exc:
            problems.append(Problem(path.name, k, "date", str(exc)))
            continue
        kind = str(kind).strip().lower()
        if kind in WORK_KINDS:
            overrides[day] = True
        elif kind in OFF_KINDS:
            overrides[day] = False
        else:
            problems.append(Problem(path.name, k, "kind", t("calendar_bad_kind", kind=kind)))
    if problems:
        raise InputError(problems)
    return WorkCalendar(overrides, source=path.name)


def add_days(day: dt.date, n: int) -> dt.date:
    return day + dt.timedelta(days=n)
