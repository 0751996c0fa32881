"""Credentials: scrypt password hashes (stdlib) and random bearer tokens stored as SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets

ROLES = ("planner", "leader", "auditor", "admin")
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    if len(password) < 12:
        raise ValueError("a password needs at least 12 characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def new_token() -> tuple[str, str]:
    """(the token to give out, its SHA-256 to store)."""
    raw = secrets.token_urlsafe(32)
    return raw, token_digest(raw)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def notice_code() -> str:
    """The code printed on a notice: the enterprise's key to its own notice (10 characters)."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(10))
