"""The leader's page (负责人审批): what waits for a leader in its scope — plans to approve for
their official draw, re-draw requests to decide (never one's own), official draws to publish
after a confirmation step. A server-rendered shell; ``/static/leader.js`` calls the JSON API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.web import render
from api.web.auditor import page_texts
from api.web.i18n import lang_of

router = APIRouter(include_in_schema=False)


@router.get("/leader", response_class=HTMLResponse)
def leader_page(request: Request) -> HTMLResponse:
    return render(request, "leader.html", texts=page_texts(lang_of(request), "ld_"))
