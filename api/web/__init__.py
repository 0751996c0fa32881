"""Pages people use (Chinese first, English switchable), served at ``/``; they call the JSON API.

Each audience has its own module with an ``APIRouter`` named ``router``; templates live in
``api/web/templates`` (Jinja2, extending ``base.html``), static files in ``api/web/static``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.web.i18n import lang_of, t

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def render(request: Request, name: str, **context) -> HTMLResponse:
    """Render a template with ``lang`` and ``t`` bound; remember an explicit ``?lang=``."""
    lang = lang_of(request)
    response = templates.TemplateResponse(
        request, name, {"lang": lang, "t": lambda key: t(key, lang), **context}
    )
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie("lang", lang, samesite="lax")
    return response


home = APIRouter(include_in_schema=False)


@home.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    return render(request, "index.html")


def router() -> APIRouter:
    """Every page router that exists (modules are added as they are written)."""
    combined = APIRouter(include_in_schema=False)
    combined.include_router(home)
    for name in ("enterprise", "public", "auditor", "planner", "leader", "admin"):
        try:
            module = importlib.import_module(f"api.web.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"api.web.{name}":
                raise
            continue
        combined.include_router(module.router)
    return combined
