"""Errors the command line maps to exit statuses (contract: 2 bad input, 3 infeasible)."""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.messages import t


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one input file: where it is and what is wrong.

    ``row`` is the row number as a spreadsheet shows it (the header is row 1,
    the first data row is row 2); ``None`` when the problem is about the file
    or a whole column. ``column`` is the contract's English column name (or the
    plan field path, e.g. ``tasks[2].agency_id``); ``header`` is the file's own header for that
    column when it differs (``信用风险分类``), so the person finds it in their spreadsheet.
    Rendered through the message catalogue: ``enterprises.csv，第 17 行，列 credit_code（统一社会信用代码）：…``.
    """

    file: str
    row: int | None
    column: str | None
    message: str
    header: str | None = None

    def where(self, lang: str | None = None) -> str:
        """File, row and column in the current language."""
        parts = [self.file]
        if self.row is not None:
            parts.append(t("where_row", lang, row=self.row))
        if self.column is not None:
            column = self.column
            if self.header and self.header != self.column:
                column = t("where_header", lang, column=self.column, header=self.header)
            key = "where_option" if column.startswith("-") else "where_column"
            parts.append(t(key, lang, column=column))
        return t("where_sep", lang).join(parts)

    def render(self, lang: str | None = None) -> str:
        return t("where_message", lang, where=self.where(lang), message=self.message)

    def __str__(self) -> str:
        return self.render()


class InputError(Exception):
    """Bad input: every problem found, each naming file, row and column (exit 2)."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self, limit: int = 200) -> str:
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(t("more_problems", n=len(self.problems) - limit))
        return "\n".join(lines)


class InfeasibleError(Exception):
    """The plan cannot be carried out under the rules (exit 3).

    The message names the task, the rule that cannot be met and the numbers,
    e.g. ``X3-SE: 41 visits need a special_equipment inspector between
    2026-01-05 and 2026-03-31; 1 is eligible after conflicts and leave,
    capacity 30``.
    """

    exit_code = 3

    def __init__(self, reasons: list[str] | str):
        if isinstance(reasons, str):
            reasons = [reasons]
        self.reasons = list(reasons)
        super().__init__("\n".join(self.reasons))
