"""Dependencies (FastAPI ``Annotated`` style): sessions, the current user, role checks, and the
recording of every refusal (401/403)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ApiToken, Refusal, User, utcnow
from api.security import token_digest

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
    """Record a refusal in its own transaction and return the exception to raise."""
    def clean(text: str, n: int) -> str:  # PostgreSQL text holds no NUL; fuzzers send them
        return text.replace("\x00", "")[:n]

    with request.app.state.write_sessions() as s:
        s.add(
            Refusal(
                status=code,
                method=request.method[:8],
                path=clean(str(request.url.path), 500),
                who=clean(who, 64),
                reason=clean(reason, 255),
            )
        )
        s.commit()
    headers = {"WWW-Authenticate": "Bearer"} if code == status.HTTP_401_UNAUTHORIZED else None
    return HTTPException(status_code=code, detail=reason, headers=headers)


def current_user(request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2)]) -> User:
    if not token:
        raise refuse(request, 401, "sign in first (Authorization: Bearer <token>)")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.expires_at < utcnow() or not row.user.active:
        raise refuse(request, 401, "the token is unknown or expired")
    return row.user


CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: str):
    """A dependency that lets only users of ``roles`` through (403 for the others)."""

    def check(request: Request, user: CurrentUser) -> User:
        if user.role not in roles:
            raise refuse(request, 403, f"a {user.role} may not do this (needs {' or '.join(roles)})", user.username)
        return user

    return check


Planner = Annotated[User, Depends(require("planner"))]
PlannerOrAuditor = Annotated[User, Depends(require("planner", "auditor"))]


SHANGHAI = ZoneInfo("Asia/Shanghai")
"""The bureaus' time zone: every page and export shows times here (stored times are UTC)."""


def today() -> dt.date:
    """Today's date in China (Asia/Shanghai), whatever the server's own time zone."""
    return dt.datetime.now(SHANGHAI).date()
