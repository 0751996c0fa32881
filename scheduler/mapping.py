"""The registry's ``mapping.yaml``: an export's own headers and values, mapped to the contract's.

```yaml
columns:            # per table: contract column -> the export's header
  enterprises: {credit_code: 主体身份代码, status: RegState}
values:             # per column: contract value -> the export's values
  status: {active: [K, B, A, Q, X], inactive: [XX, DX, C, D, DA, QX]}
  risk_class: {A: [低风险], D: [高风险]}
```

It is an input like the tables (hashed into the manifest and the commitment) and is validated
the same way: an unknown table, column or value, a header named twice or an export value given
two meanings is an error naming the key and the value (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from scheduler.errors import InputError, Problem
from scheduler.forms import ENTITY_TYPES, RISK_CLASSES, STATUSES
from scheduler.messages import t
from scheduler.tables import HEADER_LABELS, TABLE_LABELS

MAPPING_FILE = "mapping.yaml"
VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "status": STATUSES,
    "risk_class": RISK_CLASSES,
    "entity_type": ENTITY_TYPES,
    "level": ("province", "city", "county", "township"),
}
"""Columns whose values a mapping may translate, and the contract values each may map to."""


@dataclass(frozen=True)
class Mapping:
    """A validated mapping: per table, export header -> contract column; per column, export value
    -> contract value."""

    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    path: Path | None = None


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file; :class:`InputError` naming every problem."""
    path = Path(path)
    name = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(Problem(name, None, None, t("mapping_unreadable", error=exc))) from None
    return parse_mapping(raw, name, path)


def parse_mapping(raw: object, name: str = MAPPING_FILE, path: Path | None = None) -> Mapping:
    """Validate the mapping's structure and names (see the module docstring)."""
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(name, None, key, message))

    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(Problem(name, None, None, t("mapping_not_mapping")))
    for key in raw:
        if key not in ("columns", "values"):
            bad(str(key), t("mapping_unknown_key", name=key))
    headers: dict[str, dict[str, str]] = {}
    columns = raw.get("columns") or {}
    if not isinstance(columns, dict):
        bad("columns", t("mapping_expected_mapping", name="columns"))
        columns = {}
    for table, cols in columns.items():
        table = _text(table)
        if table not in TABLE_LABELS:
            bad(f"columns.{table}", t("mapping_unknown_table", table=table, known=", ".join(TABLE_LABELS)))
            continue
        if not isinstance(cols, dict):
            bad(f"columns.{table}", t("mapping_expected_mapping", name=f"columns.{table}"))
            continue
        mine: dict[str, str] = {}
        for column, header in cols.items():
            column, header = _text(column), _text(header)
            key = f"columns.{table}.{column}"
            if column not in HEADER_LABELS[table]:
                bad(key, t("mapping_unknown_column", column=column, table=table, known=", ".join(HEADER_LABELS[table])))
            elif not header:
                bad(key, t("mapping_empty_header"))
            elif header in mine:
                bad(key, t("mapping_header_twice", header=header, first=mine[header], second=column))
            else:
                mine[header] = column
        headers[table] = mine
    values: dict[str, dict[str, str]] = {}
    vals = raw.get("values") or {}
    if not isinstance(vals, dict):
        bad("values", t("mapping_expected_mapping", name="values"))
        vals = {}
    for column, choices in vals.items():
        column = _text(column)
        if column not in VALUE_COLUMNS:
            bad(f"values.{column}", t("mapping_unknown_value_column", column=column, known=", ".join(VALUE_COLUMNS)))
            continue
        if not isinstance(choices, dict):
            bad(f"values.{column}", t("mapping_expected_mapping", name=f"values.{column}"))
            continue
        mine = {}
        for value, exports in choices.items():
            value = _text(value)
            key = f"values.{column}.{value}"
            if value not in VALUE_COLUMNS[column]:
                bad(key, t("mapping_unknown_value", value=value, column=column, known=", ".join(VALUE_COLUMNS[column])))
                continue
            if isinstance(exports, str | int | float):
                exports = [exports]
            if not isinstance(exports, list) or not exports:
                bad(key, t("mapping_expected_list"))
                continue
            for export in exports:
                export = _text(export)
                if not export:
                    bad(key, t("mapping_empty_value"))
                elif export in mine and mine[export] != value:
                    bad(key, t("mapping_value_twice", export=export, first=mine[export], second=value))
                else:
                    mine[export] = value
        values[column] = mine
    if problems:
        raise InputError(problems)
    return Mapping(headers=headers, values=values, path=path)


def find_mapping(folder: str | Path, mapping: str | Path | None = None) -> Path | None:
    """The mapping file that applies: ``mapping`` if given, else ``mapping.yaml`` (or ``.yml``)
    in the registry folder; two different ones is bad input (which one was meant?)."""
    own = [p for p in (Path(folder) / MAPPING_FILE, Path(folder) / "mapping.yml") if p.is_file()]
    if len(own) > 1:
        raise InputError(Problem(own[0].name, None, None, t("mapping_two_files", files=" / ".join(p.name for p in own))))
    if mapping is None:
        return own[0] if own else None
    given = Path(mapping)
    if not given.is_file():
        raise InputError(Problem(given.name, None, None, t("mapping_missing", path=given)))
    if own and own[0].resolve() != given.resolve():
        raise InputError(Problem(given.name, None, None, t("mapping_two_files", files=f"{own[0]} / {given}")))
    return given
