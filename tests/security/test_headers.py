"""Headers and sessions (issue 12 item 3): every page and API response carries the security
headers (every route of the app enumerated); the report is the one framable page and runs only
its own scripts; no inline script in any page; /docs without a CDN; no token in a URL or a log."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from api.headers import HEADERS, redact_target
from api.models import DrawRecord
from api.web.planner import COOKIE
from tests.api.helpers import insert_finished_draw

ROOT = Path(__file__).resolve().parents[2]


def assert_secure(r, framable: bool = False) -> None:
    csp = r.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0], (r.url, csp)
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp
    assert r.headers.get("x-content-type-options") == "nosniff", r.url
    assert r.headers.get("referrer-policy") == "no-referrer", r.url
    if framable:
        assert "frame-ancestors 'self'" in csp and r.headers.get("x-frame-options") == "SAMEORIGIN"
    else:
        assert "frame-ancestors 'none'" in csp and r.headers.get("x-frame-options") == "DENY", r.url


def all_routes(routes, prefix: str = ""):
    """Every route of the app, through included routers (FastAPI >= 0.16x keeps them nested)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from all_routes(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, Mount):
            yield route, prefix + route.path
        elif isinstance(route, APIRoute | Route):
            yield route, prefix + route.path


def test_every_route_answers_with_the_security_headers(make_service):
    app, client = make_service(max_request_bytes=1_000_000)
    seen = 0
    for route, full in all_routes(app.routes):
        if not isinstance(route, Mount):
            path = re.sub(r"\{[^}]+\}", "1", full)
            for method in sorted(route.methods or ()):
                r = client.request(method, path)  # whatever the status (2xx, 4xx): the headers
                assert_secure(r)
                seen += 1
        else:
            probe = {"/static": "/static/site.css", "/docs-assets": "/docs-assets/swagger-ui.css"}[full]
            r = client.get(probe)
            assert r.status_code == 200
            assert_secure(r)
            seen += 1
    assert seen > 40
    for r in (client.get("/no/such/page"), client.post("/api/login", content=b"x" * 2_000_000),
              client.post("/api/login", data={"username": "x"})):
        assert r.status_code in (404, 413, 422)
        assert_secure(r)


def test_pages_hold_no_inline_script_and_docs_no_cdn(make_service):
    _app, client = make_service()
    for path in ("/", "/enterprise", "/public", "/planner", "/planner/draws/1", "/auditor", "/docs",
                 "/?lang=en", "/planner?lang=en"):
        html = client.get(path).text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), path  # nothing from elsewhere
    docs = client.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404


def test_docs_can_be_switched_off(make_service):
    _app, client = make_service(docs=False)
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 200


def test_report_framable_by_the_app_only_by_cookie_only_its_own_scripts(make_service):
    app, client = make_service()
    draw = insert_finished_draw(app)
    with app.state.write_sessions() as s:  # the helper stores no report: store the one it wrote
        s.get(DrawRecord, draw.draw_id).report_html = (draw.generated.out_dir / "report.html").read_text(encoding="utf-8")
        s.commit()
    raw = client.headers["Authorization"].split()[1]
    client.headers.pop("Authorization")
    url = f"/planner/draws/{draw.draw_id}/report"
    assert client.get(url, params={"token": raw}).status_code == 401  # never a token in a URL
    client.cookies.set(COOKIE, raw)
    r = client.get(url)
    assert r.status_code == 200
    assert_secure(r, framable=True)
    csp = r.headers["content-security-policy"]
    hashes = re.findall(r"'sha256-[^']+'", csp)
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", r.text, re.S)
    assert len(hashes) == len(set(inline)) >= 2  # plotly and the charts, each by its hash


def test_redact_target():
    assert redact_target("/planner/draws/1/report?token=abc&lang=zh") == "/planner/draws/1/report?token=REDACTED&lang=zh"
    assert redact_target("/x?access_token=a&notice_code=b&password=c") == "/x?access_token=REDACTED&notice_code=REDACTED&password=REDACTED"
    assert redact_target("/x?lang=en") == "/x?lang=en"


def test_the_access_log_keeps_no_secret(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RANDINSPECT_DATABASE_URL": f"sqlite:///{tmp_path / 'log.db'}",
           "RANDINSPECT_DATA_DIR": str(tmp_path / "data")}
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "info"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        secret = "s3cr3t-T0KEN-value"
        httpx.get(f"{base}/planner/draws/1/report?token={secret}", timeout=10)
        httpx.get(f"{base}/api/health?access_token={secret}&lang=zh", timeout=10)
        httpx.get(f"{base}/public?password={secret}", timeout=10)
    finally:
        server.terminate()
        server.wait(20)
        log.close()
    text = (tmp_path / "server.log").read_text()
    assert "GET /planner/draws/1/report?token=REDACTED" in text, text[-2000:]
    assert "access_token=REDACTED&lang=zh" in text
    assert secret not in text


def test_headers_table_is_what_the_readme_says():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in HEADERS:
        assert name.lower() in readme.lower(), name


def test_even_an_unexpected_500_carries_the_headers(tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.migrate import upgrade
    from api.settings import Settings

    url = f"sqlite:///{tmp_path / 'boom.db'}"
    upgrade(url)
    app = create_app(Settings(database_url=url, data_dir=str(tmp_path / "data")))

    def boom():
        raise RuntimeError("unexpected")

    app.add_api_route("/api/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/api/boom")
    assert r.status_code == 500
    assert_secure(r)

