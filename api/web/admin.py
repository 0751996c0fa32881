"""The admin page (账号管理): the accounts of the admin's scope (create, disable, set a
password) and, for an admin of a top agency, loading the agency tree (机构库). A server-rendered
shell; ``/static/admin.js`` calls the JSON API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.web import render
from api.web.auditor import page_texts
from api.web.i18n import lang_of

router = APIRouter(include_in_schema=False)


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request) -> HTMLResponse:
    return render(request, "admin.html", texts=page_texts(lang_of(request), "adm_"))
