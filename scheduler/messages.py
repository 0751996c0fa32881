"""One message catalogue: every text the command line and the domain show a person, Chinese first.

``t(key, **values)`` renders ``CATALOGUE[key]`` in the current language. The language is Chinese
unless chosen otherwise: ``set_language("en")`` (the command line's ``--lang en``), or
``RANDINSPECT_LANG=en``, or an English ``LANG``/``LC_ALL`` (``en_US.UTF-8``). ``C``/``POSIX``
locales count as no choice, so a bare server or CI still speaks Chinese.

Add keys here, both languages, in the section of the module that uses them; never build a
person-facing sentence elsewhere. The pages' own texts live in ``api/web/i18n.py``.
"""

from __future__ import annotations

import os

LANGS = ("zh", "en")

_chosen: str | None = None

# key -> (Chinese, English); ``str.format`` fields are filled by ``t``.
CATALOGUE: dict[str, tuple[str, str]] = {
    # --- where a problem is (errors.Problem) ---
    "where_row": ("第 {row} 行", "row {row}"),
    "where_column": ("列 {column}", "column {column}"),
    "more_problems": ("……另有 {n} 个问题", "... and {n} more problems"),
    # --- importer (registries as real platforms export them) ---
    # --- command line ---
    # --- run folders and verification ---
}


def set_language(lang: str | None) -> None:
    """Choose the language for this process (``None``: back to the environment's choice)."""
    if lang is not None and lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}")
    global _chosen
    _chosen = lang


def language() -> str:
    """The current language: the chosen one, else RANDINSPECT_LANG, else an English locale, else zh."""
    if _chosen:
        return _chosen
    env = os.environ.get("RANDINSPECT_LANG", "").strip().lower()
    if env in LANGS:
        return env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The catalogue text ``key`` in ``lang`` (default: the current language), filled with ``values``."""
    zh, en = CATALOGUE[key]
    text = en if (lang or language()) == "en" else zh
    return text.format(**values) if values else text
