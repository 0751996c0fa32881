"""Dependencies (FastAPI ``Annotated`` style): sessions, the current user, and THE scope
dependency every router uses (:func:`scoped`): the account's role is checked (403, recorded) and
its agency's scope — the agency and every agency below it in the tree — is given as a
:class:`Scope`, whose look-ups answer 404 for an object outside it exactly as for a missing one
(their existence is not disclosed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.agencies import below
from api.models import (
    ApiToken,
    DrawRecord,
    PlanRecord,
    RecusalRecord,
    RedrawRecord,
    RegistryRecord,
    User,
    VisitRecord,
    utcnow,
)
from api.security import token_digest
from api.throttle import record_refusal

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/login", auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.read_sessions() as session:
        yield session


def get_write_session(request: Request) -> Iterator[Session]:
    with request.app.state.write_sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]


def refuse(request: Request, code: int, reason: str, who: str = "") -> HTTPException:
    """Record a refusal (counted per status, route, client and window: api.throttle) in its own
    transaction and return the exception to raise."""
    record_refusal(request, code, reason, who)
    headers = {"WWW-Authenticate": "Bearer"} if code == status.HTTP_401_UNAUTHORIZED else None
    return HTTPException(status_code=code, detail=reason, headers=headers)


def current_user(request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2)]) -> User:
    if not token:
        raise refuse(request, 401, "sign in first (Authorization: Bearer <token>)")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.expires_at < utcnow() or not row.user.active or not row.user.agency_id:
        raise refuse(request, 401, "the token is unknown or expired")
    return row.user


CurrentUser = Annotated[User, Depends(current_user)]


def not_found(what: str, ident: int | str) -> HTTPException:
    """THE 404: the same body for a missing object and for one outside the caller's scope."""
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} {ident} not found")


class Scope:
    """What one account may see: ``agency_ids`` (its agency and all below it). Each look-up
    returns the object, or raises :func:`not_found` when it is missing OR out of scope."""

    def __init__(self, user: User, agency_ids: frozenset[str]):
        self.user = user
        self.agency_ids = agency_ids

    @property
    def username(self) -> str:
        return self.user.username

    def covers(self, agency_id: str | None) -> bool:
        return agency_id is not None and agency_id in self.agency_ids

    def registry(self, session: Session, registry_id: int) -> RegistryRecord:
        reg = session.get(RegistryRecord, registry_id)
        if reg is None or not self.covers(reg.agency_id):
            raise not_found("registry", registry_id)
        return reg

    def plan(self, session: Session, plan_id: int) -> PlanRecord:
        plan = session.get(PlanRecord, plan_id)
        if plan is None or not self.covers(plan.agency_id):
            raise not_found("plan", plan_id)
        return plan

    def draw(self, session: Session, draw_id: int) -> DrawRecord:
        draw = session.get(DrawRecord, draw_id)
        plan = session.get(PlanRecord, draw.plan_id) if draw is not None else None
        if plan is None or not self.covers(plan.agency_id):
            raise not_found("draw", draw_id)
        return draw

    def visit(self, session: Session, visit_pk: int) -> VisitRecord:
        visit = session.get(VisitRecord, visit_pk)
        try:
            self.draw(session, visit.draw_id) if visit is not None else None
        except HTTPException:
            visit = None
        if visit is None:
            raise not_found("visit", visit_pk)
        return visit

    def recusal(self, session: Session, recusal_id: int) -> RecusalRecord:
        rec = session.get(RecusalRecord, recusal_id)
        try:
            self.visit(session, rec.visit_pk) if rec is not None else None
        except HTTPException:
            rec = None
        if rec is None:
            raise not_found("recusal request", recusal_id)
        return rec

    def redraw(self, session: Session, redraw_id: int) -> RedrawRecord:
        req = session.get(RedrawRecord, redraw_id)
        try:
            self.plan(session, req.plan_id) if req is not None else None
        except HTTPException:
            req = None
        if req is None:
            raise not_found("re-draw request", redraw_id)
        return req

    def account(self, session: Session, user_id: int) -> User:
        user = session.get(User, user_id)
        if user is None or not self.covers(user.agency_id):
            raise not_found("user", user_id)
        return user


READ = ("planner", "leader", "auditor")


def scoped(*roles: str):
    """The one dependency of every signed-in route: only ``roles`` pass (403, recorded), and
    the route gets the account's :class:`Scope`."""

    def check(request: Request, user: CurrentUser, session: SessionDep) -> Scope:
        if user.role not in roles:
            raise refuse(request, 403, f"a {user.role} may not do this (needs {' or '.join(roles)})", user.username)
        return Scope(user, below(session, user.agency_id))

    return check


ReadScope = Annotated[Scope, Depends(scoped(*READ))]
PlannerScope = Annotated[Scope, Depends(scoped("planner"))]
LeaderScope = Annotated[Scope, Depends(scoped("leader"))]
AdminScope = Annotated[Scope, Depends(scoped("admin"))]
AnyScope = Annotated[Scope, Depends(scoped("planner", "leader", "auditor", "admin"))]


SHANGHAI = ZoneInfo("Asia/Shanghai")
"""The bureaus' time zone: every page and export shows times here (stored times are UTC)."""


def today() -> dt.date:
    """Today's date in China (Asia/Shanghai), whatever the server's own time zone."""
    return dt.datetime.now(SHANGHAI).date()
