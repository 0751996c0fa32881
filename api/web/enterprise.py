"""The enterprise page (企业查询): a server-rendered shell; `/static/enterprise.js` calls the JSON API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.web import render
from api.web.i18n import TEXTS, lang_of, t

router = APIRouter(include_in_schema=False)


def page_texts(lang: str, prefix: str = "ent_") -> dict[str, str]:
    """The page's texts for its script (keys starting with ``prefix``), in ``lang``."""
    return {k: t(k, lang) for k in TEXTS if k.startswith(prefix)}


@router.get("/enterprise", response_class=HTMLResponse)
def enterprise_page(request: Request) -> HTMLResponse:
    return render(request, "enterprise.html", texts=page_texts(lang_of(request)))
