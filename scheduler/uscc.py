"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters from a 31-character alphabet (digits and capital letters
without I, O, S, V, Z); the last is a check character computed from the first
17 with weights 3**i mod 31.
"""

from __future__ import annotations

from scheduler.messages import t

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_char(body: str) -> str:
    """The check character for the first 17 characters ``body``.

    Raises ``ValueError`` naming the first character outside the alphabet.
    """
    if len(body) != 17:
        raise ValueError(f"need 17 characters before the check character, got {len(body)}")
    total = 0
    for pos, (ch, w) in enumerate(zip(body, WEIGHTS, strict=True)):
        try:
            total += _VALUE[ch] * w
        except KeyError:
            raise ValueError(t("uscc_char", pos=pos + 1, ch=ch)) from None
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """``None`` for a valid code, else a sentence saying what is wrong."""
    if len(code) != 18:
        return t("uscc_length", code=code, n=len(code))
    try:
        expected = check_char(code[:17])
    except ValueError as exc:
        return str(exc)
    if code[17] not in _VALUE:
        return t("uscc_char", pos=18, ch=code[17])
    if code[17] != expected:
        return t("uscc_check", code=code, got=code[17], expected=expected)
    return None


def is_valid(code: str) -> bool:
    return uscc_problem(code) is None


def make_code(body: str) -> str:
    """Complete 17 characters with their check character."""
    return body + check_char(body)
