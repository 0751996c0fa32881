"""Spreadsheet-safe cells: what we write can be opened in Excel without running anything.

A CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
spreadsheet programs as a formula (OWASP, "CSV Injection"): an enterprise registered as
``=HYPERLINK("http://x","y")`` would become a live link in every file a bureau opens. OWASP's rule:
prefix such a cell with a single quote. Every CSV the CLI and the service write goes through
:func:`neutral` (or :func:`neutral_frame`, :func:`writer`); every reader of our own files undoes
it with :func:`undo` (:func:`undo_frame`, :func:`dict_reader`), so values round-trip exactly.

The rule is a bijection: a cell gets the quote when it matches ``'*[=+\\-@\\t\\r]`` (a trigger,
after any quotes), so a value that itself starts with quotes before a trigger gets one more, and
:func:`undo` removes exactly one quote from a cell that matches ``'+[=+\\-@\\t\\r]``.

In ``.xlsx`` we write every text as a text cell (:func:`xlsx_row`): never a formula.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

import pandas as pd

TRIGGERS = "=+-@\t\r"
_NEEDS = re.compile(r"'*[=+\-@\t\r]")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")
_NEEDS_PATTERN = r"^'*[=+\-@\t\r]"
_QUOTED_PATTERN = r"^'+[=+\-@\t\r]"


def neutral(value: Any) -> Any:
    """``value`` with a leading ``'`` when a spreadsheet would take it for a formula (text only;
    numbers and other values unchanged)."""
    if isinstance(value, str) and _NEEDS.match(value):
        return "'" + value
    return value


def undo(value: str) -> str:
    """The value :func:`neutral` was given (for text read back from our own files)."""
    if isinstance(value, str) and _QUOTED.match(value):
        return value[1:]
    return value


def neutral_row(row: Iterable[Any]) -> list[Any]:
    return [neutral(v) for v in row]


def _text_columns(frame: pd.DataFrame) -> list:
    return [c for c in frame.columns if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])]


def neutral_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`neutral` applied to its text columns (vectorised; a copy only when
    some cell needs it)."""
    out = frame
    for column in _text_columns(frame):
        values = frame[column]
        hit = values.astype(str).str.match(_NEEDS_PATTERN) & values.map(lambda v: isinstance(v, str))
        if hit.any():
            if out is frame:
                out = frame.copy()
            out.loc[hit, column] = "'" + values[hit].astype(str)
    return out


def undo_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`undo` on every text column of a frame read back from our own CSV."""
    out = frame
    for column in _text_columns(frame):
        values = frame[column]
        hit = values.astype(str).str.match(_QUOTED_PATTERN) & values.map(lambda v: isinstance(v, str))
        if hit.any():
            if out is frame:
                out = frame.copy()
            out.loc[hit, column] = values[hit].astype(str).str[1:]
    return out


class _Writer:
    """``csv.writer`` whose every row goes through :func:`neutral`."""

    def __init__(self, fh: IO[str], **kwargs):
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(neutral_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fh: IO[str], **kwargs) -> _Writer:
    """A CSV writer (``csv.writer`` arguments) that neutralises every cell."""
    return _Writer(fh, **kwargs)


def dict_reader(fh: IO[str], **kwargs) -> Iterator[dict[str, str]]:
    """``csv.DictReader`` over one of our own files, with :func:`undo` on every value."""
    for row in csv.DictReader(fh, **kwargs):
        yield {k: undo(v) if isinstance(v, str) else v for k, v in row.items()}


def xlsx_row(sheet, values: Iterable[Any]) -> list[Any]:
    """A row for an openpyxl (write-only) sheet in which every text is a text cell (data type
    ``s``), never a formula, whatever it starts with."""
    from openpyxl.cell import WriteOnlyCell

    out = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            out.append(cell)
        else:
            out.append(value)
    return out
