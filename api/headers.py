"""Security headers on every response, API documentation without a CDN, and an access log that
never records a secret from a query string.

- :class:`SecurityHeaders` (ASGI middleware) adds to every page and API response a strict
  Content-Security-Policy (scripts only from this origin: no inline script, no ``eval``; no
  plugin; no framing by anyone), ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer``, ``Cross-Origin-Opener-Policy: same-origin`` and
  ``Permissions-Policy``. A response that set its own policy keeps it: the one page the app frames
  itself, a draw's report (:func:`report_policy`), allows only this origin to frame it and runs only
  the inline scripts it was stored with (by their SHA-256).
- :func:`docs_routes`: ``/docs`` from the swagger-ui assets bundled with the ``fastapi-offline``
  package (a recent swagger-ui, which reads OpenAPI 3.1), started by ``/static/docs.js`` (no inline
  script); off with ``RANDINSPECT_DOCS=false``.
- :class:`RedactQuery`: a logging filter for ``uvicorn.access`` that replaces the value of every
  query parameter whose name suggests a secret.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-src 'self'; frame-ancestors 'none'"
)
"""The policy of every response. Inline ``style`` stays allowed (the pages' ``<style>`` blocks,
plotly's and swagger-ui's computed styles); inline *script* never is."""

HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class SecurityHeaders:
    """ASGI middleware: :data:`HEADERS` on every HTTP response that does not set its own."""

    def __init__(self, app):
        self.app = app
        self._raw = [(k.encode(), v.encode()) for k, v in HEADERS.items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self._raw if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def report_policy(html: str) -> dict[str, str]:
    """Headers for a stored report (framed by the app's own draw page): its inline scripts (plotly
    and the charts, fixed when the report was written) allowed by hash, nothing else; framing by
    this origin only."""
    hashes = sorted(
        {
            "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode() + "'"
            for body in _INLINE_SCRIPT.findall(html)
        }
    )
    policy = CSP.replace("script-src 'self'", "script-src 'self' " + " ".join(hashes)).replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    )
    return {"Content-Security-Policy": policy, "X-Frame-Options": "SAMEORIGIN"}


# ---------------------------------------------------------------- /docs without a CDN

_DOCS = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API</title>
<link rel="stylesheet" href="/docs-assets/swagger-ui.css">
<link rel="icon" href="/docs-assets/favicon.png">
</head>
<body>
<div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""


def docs_routes(app: FastAPI) -> None:
    """``/docs`` served from the swagger-ui assets of the ``fastapi-offline`` package (only its
    static files are used)."""
    from pathlib import Path

    import fastapi_offline
    from fastapi.staticfiles import StaticFiles

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")
    page = _DOCS.format(title=app.title, openapi=app.openapi_url)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)


# ---------------------------------------------------------------- access log

SECRET_NAMES = re.compile(r"token|password|passwd|secret|key|code|auth|session|credential|signature", re.I)


def redact_target(target: str) -> str:
    """``/path?token=abc&lang=zh`` → ``/path?token=REDACTED&lang=zh``."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        return path + "?REDACTED" if query else target
    return path + "?" + urlencode(
        [(k, "REDACTED" if SECRET_NAMES.search(k) else v) for k, v in pairs], quote_via=quote, safe="/"
    )


class RedactQuery(logging.Filter):
    """For ``uvicorn.access``: the request target's secret query values replaced (the record's
    third argument, as uvicorn's access logger formats it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_target(args[2]), *args[3:])
        return True


def install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactQuery) for f in logger.filters):
        logger.addFilter(RedactQuery())
