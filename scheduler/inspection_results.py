"""Inspection results and their publication deadline (一公开).

Results are recorded in the standard categories of the 双随机 result publication (those the
national enterprise credit publicity system takes, as the platforms word them, after the ones this
project had first); a result must be published within 20 working days of the visit (Wulong notice
2021; Handan opinion 2017).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler.messages import t
from scheduler.workdays import WorkCalendar

CATEGORIES = (
    "未发现问题",
    "未按规定公示应当公示的信息",
    "公示信息隐瞒真实情况弄虚作假",
    "通过登记的住所（经营场所）无法联系",
    "不配合检查",
    "发现问题已责令改正",
    "发现问题待后续处理",
    "其他",
    "未发现开展本次抽查涉及的经营活动",
    "已关闭停业或正在组织清算",
    "注销",
    "被吊销",
    "被撤销",
    "迁出",
    "不配合检查情节严重",
)
PUBLICATION_WORKING_DAYS = 20


@dataclass(frozen=True)
class ResultEntry:
    visit_id: str
    category: str
    note: str = ""
    published_on: dt.date | None = None


def check_category(category: str) -> str:
    """The category as given, or ValueError listing the allowed ones."""
    cat = category.strip()
    # Accept the short form of the address category.
    if cat == "通过登记的住所无法联系":
        cat = "通过登记的住所（经营场所）无法联系"
    if cat not in CATEGORIES:
        raise ValueError(t("unknown_category", category=category, allowed="、".join(CATEGORIES)))
    return cat


def due_date(visit_date: dt.date, calendar: WorkCalendar, working_days: int = PUBLICATION_WORKING_DAYS) -> dt.date:
    """The last day to publish: the visit date plus ``working_days`` working days."""
    day, n = visit_date, 0
    while n < working_days:
        day += dt.timedelta(days=1)
        if calendar.is_workday(day):
            n += 1
    return day


def state_text(state: str) -> str:
    """An :func:`overdue` state in the current language."""
    if state == "no result":
        return t("state_no_result")
    if state == "result not published":
        return t("state_not_published")
    if state.startswith("published late on "):
        return t("state_published_late", day=state.removeprefix("published late on "))
    return state


def overdue(
    visits: list[tuple[str, dt.date]], results: dict[str, ResultEntry], today: dt.date, calendar: WorkCalendar
) -> list[tuple[str, dt.date, dt.date, str]]:
    """(visit_id, visit date, due date, state) of visits whose result is not published by its due date.

    State is ``no result``, ``result not published`` or ``published late on DATE``: values the
    service returns as they are; :func:`state_text` says them in the current language.
    """
    out = []
    for visit_id, date in visits:
        if date is None or date > today:
            continue
        due = due_date(date, calendar)
        entry = results.get(visit_id)
        if due < today and (entry is None or entry.published_on is None or entry.published_on > due):
            state = "no result" if entry is None else "result not published"
            if entry is not None and entry.published_on is not None:
                state = f"published late on {entry.published_on}"
            out.append((visit_id, date, due, state))
    return sorted(out, key=lambda r: (r[2], r[0]))
