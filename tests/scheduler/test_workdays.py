"""Chinese working days, 调休 make-up days and calendar files for other years."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.errors import InputError
from scheduler.workdays import WorkCalendar, load_calendar


def test_spring_festival_2026_holidays_and_make_up_saturdays():
    cal = WorkCalendar()
    days = cal.workdays(dt.date(2026, 2, 9), dt.date(2026, 3, 1))
    assert dt.date(2026, 2, 14) in days  # Saturday, 调休 make-up day
    assert dt.date(2026, 2, 28) in days  # Saturday, 调休 make-up day
    assert dt.date(2026, 2, 17) not in days  # 春节
    assert dt.date(2026, 2, 21) not in days  # an ordinary Saturday in the holiday
    assert dt.date(2026, 3, 1) not in days  # Sunday


def test_a_year_the_package_lacks_is_an_error_naming_the_fix():
    with pytest.raises(InputError) as err:
        WorkCalendar().workdays(dt.date(2027, 1, 4), dt.date(2027, 3, 31))
    msg = str(err.value)
    assert "没有 2027 年的工作日历" in msg
    assert "--calendar FILE" in msg


def test_calendar_file_supplies_2027(tmp_path):
    path = tmp_path / "cal.csv"
    path.write_text("date,kind\n2027-02-06,holiday\n2027-02-07,调休\n2027-02-08,休息日\n", encoding="utf-8")
    cal = load_calendar(path)
    days = cal.workdays(dt.date(2027, 2, 5), dt.date(2027, 2, 9))
    assert days == [dt.date(2027, 2, 5), dt.date(2027, 2, 7), dt.date(2027, 2, 9)]


def test_calendar_file_errors_name_row_and_column(tmp_path):
    path = tmp_path / "cal.csv"
    path.write_text("date,kind\n2027-02-30,holiday\n2027-02-07,maybe\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_calendar(path)
    assert "cal.csv，第 2 行，列 date：日期 '2027-02-30' 无法识别" in str(err.value)
    assert "cal.csv，第 3 行，列 kind：应为 workday（上班）或 holiday（休息），实为 'maybe'" in str(err.value)
