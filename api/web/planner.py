"""The planner's pages (计划编制): server-rendered shells whose script (``/static/planner.js``)
calls the JSON API with the bearer token kept in ``sessionStorage``.

* ``/planner``: sign in, upload a registry (its problems as a table, or its summary), write a
  quarterly plan in a form (policy with the contract's defaults, task rows added and removed),
  draw it with a progress bar.
* ``/planner/draws/{id}``: the draw's charts (its stored ``report.html`` in an iframe), recusal
  requests and decisions, results per visit and the Excel export (a leader publishes, on /leader).
* ``/planner/draws/{id}/report``: the stored report itself, for planners and auditors only. An
  iframe cannot send a bearer header, so the token comes from an HttpOnly cookie that the page
  sets at sign-in (``POST /planner/session`` with the bearer header); never from the URL.
* ``POST /planner/plan-file``: a plan file (YAML or JSON) read into JSON, for the form's
  "load from plan file" helper (the browser has no YAML parser).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import yaml
from fastapi import APIRouter, File, HTTPException, Path, Request, UploadFile, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select

from api.agencies import below
from api.deps import PlannerScope, ReadScope, Scope, SessionDep, refuse
from api.headers import report_policy
from api.models import ApiToken, ResultRecord, VisitRecord, utcnow
from api.security import token_digest
from api.web import render
from api.web.i18n import TEXTS, lang_of, t
from scheduler.inspection_results import CATEGORIES
from scheduler.plan import POLICY_KEYS, Policy, parse_plan

router = APIRouter(include_in_schema=False)

COOKIE = "randinspect_planner"
MAX_ID = 2_147_483_647
MAX_PLAN_FILE = 1_000_000
DrawId = Annotated[int, Path(ge=1, le=MAX_ID)]


def page_texts(lang: str) -> dict[str, str]:
    """The texts the page's script needs, in ``lang``."""
    return {k: t(k, lang) for k in TEXTS if k.startswith("pl_")}


def _context(request: Request) -> dict:
    lang = lang_of(request)
    policy = {k: getattr(Policy(), k) for k in sorted(POLICY_KEYS)}
    return {"texts": page_texts(lang), "categories": list(CATEGORIES), "policy": policy}


@router.get("/planner", response_class=HTMLResponse)
def planner_page(request: Request) -> HTMLResponse:
    return render(request, "planner.html", **_context(request))


@router.get("/planner/draws/{draw_id}", response_class=HTMLResponse)
def planner_draw_page(request: Request, draw_id: DrawId) -> HTMLResponse:
    return render(request, "planner_draw.html", draw_id=draw_id, **_context(request))


@router.post("/planner/session")
def start_session(request: Request, scope: ReadScope) -> JSONResponse:
    """Put the caller's bearer token (already checked: planner or auditor) into an HttpOnly cookie
    scoped to ``/planner``, so that the report iframe is authorised too."""
    raw = request.headers.get("authorization", "").partition(" ")[2].strip()
    response = JSONResponse({"detail": f"{scope.username} may open reports"})
    response.set_cookie(COOKIE, raw, httponly=True, samesite="strict", path="/planner")
    return response


@router.delete("/planner/session")
def end_session() -> JSONResponse:
    response = JSONResponse({"detail": "signed out"})
    response.delete_cookie(COOKIE, path="/planner")
    return response


def _check_token(request: Request, session, token: str | None) -> Scope:
    """401 without a valid token, 403 unless it is a planner's, leader's or auditor's (both
    recorded); the account's scope."""
    if not token:
        raise refuse(request, status.HTTP_401_UNAUTHORIZED, "sign in first (planner or auditor)")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.expires_at < utcnow() or not row.user.active or not row.user.agency_id:
        raise refuse(request, status.HTTP_401_UNAUTHORIZED, "the token is unknown or expired")
    if row.user.role not in ("planner", "leader", "auditor"):
        raise refuse(
            request, status.HTTP_403_FORBIDDEN, f"a {row.user.role} may not read reports", row.user.username
        )
    return Scope(row.user, below(session, row.user.agency_id))


@router.get("/planner/draws/{draw_id}/report", response_class=HTMLResponse)
def draw_report(request: Request, draw_id: DrawId, session: SessionDep) -> Response:
    """The draw's stored ``report.html`` (plotly embedded, offline): planners and auditors only."""
    token = request.cookies.get(COOKIE)  # the HttpOnly cookie alone: never a token in a URL
    draw = _check_token(request, session, token).draw(session, draw_id)
    if draw.status != "done" or not draw.report_html:
        raise HTTPException(status.HTTP_409_CONFLICT, f"draw {draw_id} has no report (it is {draw.status})")
    return HTMLResponse(
        draw.report_html,
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer", **report_policy(draw.report_html)},
    )


@router.get("/planner/draws/{draw_id}/visit-keys")
def visit_keys(draw_id: DrawId, scope: ReadScope, session: SessionDep) -> JSONResponse:
    """Each visit's key for ``PUT /api/visits/{pk}/result`` and its result so far:
    ``{visit_id: {"pk", "category", "published_on"}}`` (the visit list gives no key)."""
    scope.draw(session, draw_id)
    rows = session.execute(
        select(VisitRecord.visit_id, VisitRecord.id, ResultRecord.category, ResultRecord.published_on)
        .outerjoin(ResultRecord, ResultRecord.visit_pk == VisitRecord.id)
        .where(VisitRecord.draw_id == draw_id)
    )
    return JSONResponse(
        {
            r.visit_id: {
                "pk": r.id,
                "category": r.category,
                "published_on": r.published_on.isoformat() if r.published_on else None,
            }
            for r in rows
        }
    )


class _PlanFileLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text (the API reads ISO dates from JSON)."""


_PlanFileLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@router.post("/planner/plan-file")
def read_plan_file(_scope: PlannerScope, file: Annotated[UploadFile, File()]) -> JSONResponse:
    """A plan file (YAML or JSON) as JSON, to fill the form, once it reads as a plan
    (:func:`scheduler.plan.parse_plan`); nothing is stored."""
    data = file.file.read(MAX_PLAN_FILE + 1)
    if len(data) > MAX_PLAN_FILE:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "the plan file is larger than 1 MB")
    try:
        text = data.decode("utf-8-sig")
        raw = (
            json.loads(text)
            if (file.filename or "").lower().endswith(".json")
            else yaml.load(text, Loader=_PlanFileLoader)
        )
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY, f"not a YAML or JSON plan file: {exc}"
        ) from None
    if not isinstance(raw, dict):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY, "the plan must be a mapping with quarter, policy, tasks"
        )
    # refused as the command line refuses it: an unknown or misspelt key, a bad value (422 with
    # the problems, each naming the plan file's field) — never silently dropped by the form
    parse_plan(_jsonable(raw), (file.filename or "plan.yaml").replace("\\", "/").rsplit("/", 1)[-1])
    return JSONResponse(_jsonable(raw))
