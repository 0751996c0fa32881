"""Result categories and the 20-working-day publication deadline."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.inspection_results import ResultEntry, check_category, due_date, overdue
from scheduler.workdays import WorkCalendar


def test_due_date_counts_working_days_over_spring_festival():
    # 2026-02-13 (Fri) + 20 working days: 02-14 (调休 Sat) is the 1st, 02-15..02-23 (春节) do not
    # count, 02-24..27 are the 2nd-5th, 02-28 (调休 Sat) the 6th, then 14 weekdays to 03-19.
    assert due_date(dt.date(2026, 2, 13), WorkCalendar()) == dt.date(2026, 3, 19)
    assert due_date(dt.date(2026, 3, 2), WorkCalendar()) == dt.date(2026, 3, 30)


def test_categories_are_the_standard_ones():
    assert check_category("未发现问题") == "未发现问题"
    assert check_category("通过登记的住所无法联系") == "通过登记的住所（经营场所）无法联系"
    with pytest.raises(ValueError, match="未知的结果类别 '还行'"):
        check_category("还行")


def test_overdue_lists_missing_unpublished_and_late_results():
    cal = WorkCalendar()
    visits = [("V1", dt.date(2026, 3, 2)), ("V2", dt.date(2026, 3, 2)), ("V3", dt.date(2026, 3, 2)), ("V4", dt.date(2026, 3, 2)), ("V5", dt.date(2026, 4, 1))]
    results = {
        "V2": ResultEntry("V2", "未发现问题"),
        "V3": ResultEntry("V3", "未发现问题", published_on=dt.date(2026, 3, 20)),
        "V4": ResultEntry("V4", "未发现问题", published_on=dt.date(2026, 4, 1)),
    }
    rows = overdue(visits, results, dt.date(2026, 4, 2), cal)
    assert rows == [
        ("V1", dt.date(2026, 3, 2), dt.date(2026, 3, 30), "no result"),
        ("V2", dt.date(2026, 3, 2), dt.date(2026, 3, 30), "result not published"),
        ("V4", dt.date(2026, 3, 2), dt.date(2026, 3, 30), "published late on 2026-04-01"),
    ]


def test_states_are_said_in_the_current_language():
    from scheduler.inspection_results import state_text

    assert state_text("no result") == "未录入结果"
    assert state_text("published late on 2026-04-01") == "2026-04-01 逾期公示"
