"""Throttling: per client address and per account, a temporary lock-out with ``Retry-After``;
refusals aggregated so that a flood cannot grow a table without bound; the password rules.

A route attaches one dependency, ``dependencies=[Throttled("login")]``:

==========  =====================================  =====================================
kind        counted                                keys (each with its own limit)
==========  =====================================  =====================================
login       failed sign-ins (401)                  client address, user name
notice      failed notice look-ups (403)           client address, credit code
recusal     failed enterprise recusal requests     client address, credit code
upload      every registry upload                  client address, account
==========  =====================================  =====================================

Counts live in ``throttle_counts``, one row per (kind, key, window) — fixed windows of
``throttle_window_seconds`` — incremented in place. A key at its limit is refused with 429 and
``Retry-After`` (the seconds left in the window) before the route does any work, the password
hash included. Because the counts are in the database, every worker and every server of the
service shares them.

Every refusal (401, 403, 429) is recorded by :func:`record_refusal` as one row per (status,
method, route, client, window) with a count, not one row per request.

The client address is the connection's peer (behind a reverse proxy, run uvicorn with
``--proxy-headers --forwarded-allow-ips`` so that it is the real client's).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from api.models import ApiToken, Refusal, ThrottleCount, User, utcnow
from api.security import token_digest

# kind -> (what counts: "failures" or "all", statuses that are failures, {key type: setting name})
KINDS: dict[str, tuple[str, tuple[int, ...], dict[str, str]]] = {
    "login": ("failures", (401,), {"client": "login_failures_per_client", "account": "login_failures_per_account"}),
    "notice": ("failures", (403, 404), {"client": "enterprise_failures_per_client", "enterprise": "enterprise_failures_per_code"}),
    "recusal": ("failures", (403, 404), {"client": "enterprise_failures_per_client", "enterprise": "enterprise_failures_per_code"}),
    "upload": ("all", (), {"client": "uploads_per_client", "account": "uploads_per_account"}),
}


def window_start(now: dt.datetime, seconds: int) -> dt.datetime:
    epoch = dt.datetime(2000, 1, 1)
    return epoch + dt.timedelta(seconds=(int((now - epoch).total_seconds()) // seconds) * seconds)


def client_address(request: Request) -> str:
    return (request.client.host if request.client else "unknown")[:64]


def _bump(app, model, match: dict[str, Any], values: dict[str, Any]) -> None:
    """``count + 1`` on the row matching ``match`` (with ``values`` set), or a new row with 1:
    one short write transaction; a concurrent insert of the same row is retried as an update."""
    for _attempt in range(3):
        with app.state.write_sessions() as s:
            changed = s.execute(
                update(model)
                .where(*(getattr(model, k) == v for k, v in match.items()))
                .values(count=model.count + 1, **values)
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed == 0:
                s.add(model(**match, **values, count=1))
            try:
                s.commit()
                return
            except IntegrityError:
                s.rollback()


def _route(request: Request) -> str:
    """The route's template (``/api/draws/{draw_id}``), so that fuzzed ids share a row."""
    path = request.url.path
    template = getattr(request.scope.get("route"), "path", None)
    if template:
        try:
            rendered = template.format(**request.path_params)
        except (KeyError, IndexError, ValueError):
            rendered = None
        if rendered and path.endswith(rendered):
            return (path[: len(path) - len(rendered)] + template)[:200]
    return path[:200]


def record_refusal(request: Request, code: int, reason: str, who: str = "") -> None:
    """Count the refusal in its (status, method, route, client, window) row (its own
    transaction). The row keeps the last path, user name and reason."""

    def clean(text: str, n: int) -> str:  # PostgreSQL text holds no NUL; fuzzers send them
        return text.replace("\x00", "")[:n]

    now = utcnow()
    settings = request.app.state.settings
    _bump(
        request.app,
        Refusal,
        {
            "status": code,
            "method": request.method[:8],
            "route": clean(_route(request), 200),
            "client": client_address(request),
            "window_start": window_start(now, settings.throttle_window_seconds),
        },
        {"path": clean(str(request.url.path), 500), "who": clean(who, 64), "reason": clean(reason, 255), "last_at": now},
    )


def prune_counts(app, keep_days: int = 1) -> int:
    """Remove the throttle counts of windows older than ``keep_days`` (at start-up): they no longer
    lock anyone. The refusals are a record and are kept."""
    cutoff = utcnow() - dt.timedelta(days=keep_days)
    with app.state.write_sessions() as s:
        n = s.execute(delete(ThrottleCount).where(ThrottleCount.window_start < cutoff)).rowcount
        s.commit()
    return n


# ---------------------------------------------------------------- the dependency


def _clean(value: str, n: int) -> str:
    """A key every backend can store and compare (no NUL, no lone surrogate)."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:n]


async def _keys(kind: str, request: Request) -> list[tuple[str, str]]:
    keys = [("client", _clean(client_address(request), 64))]
    try:
        if kind == "login":
            name = (await request.form()).get("username")
            if isinstance(name, str) and name:
                keys.append(("account", _clean(name, 64).lower()))
        elif kind in ("notice", "recusal"):
            body = await request.json()
            code = body.get("credit_code") if isinstance(body, dict) else None
            if isinstance(code, str) and code:
                keys.append(("enterprise", _clean(code.strip().upper(), 18)))
        elif kind == "upload":
            raw = request.headers.get("authorization", "").partition(" ")[2].strip()
            if raw:
                name = await run_in_threadpool(_token_user, request.app, raw)
                if name:
                    keys.append(("account", name))
    except Exception:  # noqa: BLE001 - a body the route will refuse anyway: the address still counts
        pass
    return keys


def _token_user(app, raw: str) -> str | None:
    with app.state.read_sessions() as s:
        return s.scalar(select(User.username).join(ApiToken).where(ApiToken.token_hash == token_digest(raw)))


def _wait(app, kind: str, keys: list[tuple[str, str]]) -> int:
    """Seconds until the window ends if some key is at its limit, else 0."""
    settings = app.state.settings
    now = utcnow()
    start = window_start(now, settings.throttle_window_seconds)
    limits = KINDS[kind][2]
    with app.state.engine.connect() as s:  # one indexed read (as the notice look-up's own)
        rows = s.execute(
            select(ThrottleCount.key, ThrottleCount.count).where(
                ThrottleCount.kind == kind,
                ThrottleCount.window_start == start,
                ThrottleCount.key.in_([f"{t}:{v}" for t, v in keys]),
            )
        ).all()
    counts = dict(rows)
    for key_type, value in keys:
        if counts.get(f"{key_type}:{value}", 0) >= getattr(settings, limits[key_type]):
            end = start + dt.timedelta(seconds=settings.throttle_window_seconds)
            return max(1, int((end - now).total_seconds()) + 1)
    return 0


def _count(app, kind: str, keys: list[tuple[str, str]]) -> None:
    settings = app.state.settings
    now = utcnow()
    start = window_start(now, settings.throttle_window_seconds)
    for key_type, value in keys:
        _bump(app, ThrottleCount, {"kind": kind, "key": f"{key_type}:{value}"[:200], "window_start": start}, {"last_at": now})


class _Throttle:
    """The dependency's callable (see :func:`Throttled`)."""

    def __init__(self, kind: str):
        if kind not in KINDS:
            raise ValueError(f"unknown throttle kind {kind!r}")
        self.kind = kind

    async def __call__(self, request: Request):
        app = request.app
        if not app.state.settings.throttle:
            yield
            return
        counts, failures, _limits = KINDS[self.kind]
        keys = await _keys(self.kind, request)
        # on the event loop, as the notice look-up's own read: well under a millisecond, no
        # worker-thread hop on the hot path of hundreds of concurrent look-ups
        wait = _wait(app, self.kind, keys)
        if wait:
            reason = f"too many attempts ({self.kind}); try again in {wait} seconds"
            await run_in_threadpool(record_refusal, request, status.HTTP_429_TOO_MANY_REQUESTS, reason)
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, reason, headers={"Retry-After": str(wait)})
        if counts == "all":
            await run_in_threadpool(_count, app, self.kind, keys)
        try:
            yield
        except HTTPException as exc:
            if counts == "failures" and exc.status_code in failures:
                await run_in_threadpool(_count, app, self.kind, keys)
            raise


def Throttled(kind: str):  # noqa: N802 - reads as the marker it is in a route's dependencies
    """The dependency a route attaches: ``dependencies=[Throttled("login")]`` (see the module's
    table of kinds)."""
    return Depends(_Throttle(kind))


# ---------------------------------------------------------------- password rules

MIN_PASSWORD = 12
_CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"[0-9]"), re.compile(r"[^a-zA-Z0-9]"))


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is refused for a new or changed password, or ``None``: at least
    ``MIN_PASSWORD`` characters; not made of one character class only (all lower-case letters,
    all digits ...); at least 5 different characters; not containing the user name."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if sum(bool(c.search(password)) for c in _CLASSES) < 2:
        return "a password needs characters of at least two kinds (lower case, upper case, digits, others)"
    if len(set(password)) < 5:
        return "a password needs at least 5 different characters"
    name = username.strip().lower()
    if len(name) >= 3 and name in password.lower():
        return "a password must not contain the user name"
    return None
