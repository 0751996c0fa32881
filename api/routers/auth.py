"""Sign-in with a password (OAuth2 password form), bearer tokens, and the planner's user
administration. There is no built-in account: the first one comes from
``randinspect user add NAME --role planner``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from api.deps import CurrentUser, Planner, SessionDep, WriteSessionDep, oauth2, refuse
from api.models import ApiToken, User, utcnow
from api.security import hash_password, new_token, token_digest, verify_password
from api.throttle import MIN_PASSWORD, Throttled, password_problem

router = APIRouter(tags=["auth"])

# --------------------------------------------------------------------------- shared bits

MAX_ID = 2_147_483_647
"""Ids are 32-bit integers in the database: larger ones are refused (422), never a 500."""

NO_NUL = r"^[^\x00]*$"
"""PostgreSQL text cannot hold NUL characters: inputs with one are refused (422)."""


class Message(BaseModel):
    detail: str


class Conflict(BaseModel):
    detail: str
    reasons: list[str] = []


def errors(*codes: int) -> dict[int | str, dict]:
    """OpenAPI descriptions of the error responses an endpoint gives."""
    text = {
        401: "not signed in, or the token is unknown or expired (recorded)",
        403: "signed in, but this role may not do this (recorded)",
        404: "no such object",
        409: "the object's state does not allow it",
        422: "invalid input",
        429: "too many attempts: wait the seconds of Retry-After (recorded)",
    }
    return {c: {"model": Conflict if c == 409 else Message, "description": text[c]} for c in codes}


def clean(text: str) -> str:
    """Text safe to store anywhere (no NUL)."""
    return text.replace("\x00", "")


# --------------------------------------------------------------------------- schemas

Role = Literal["planner", "auditor"]


class UserBase(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    role: Role


class UserCreate(UserBase):
    password: str = Field(min_length=MIN_PASSWORD, max_length=1024, pattern=NO_NUL)

    @model_validator(mode="after")
    def _password_rules(self):  # api.throttle.password_problem: the rules for every new password
        if problem := password_problem(self.password, self.username):
            raise ValueError(problem)
        return self


class UserPublic(UserBase):
    model_config = ConfigDict(from_attributes=True)
    id: int
    active: bool
    created_at: dt.datetime


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: Role
    expires_at: dt.datetime


# --------------------------------------------------------------------------- endpoints

_DUMMY_HASH = hash_password("not a password of anyone")


@router.post("/login", response_model=Token, responses=errors(401, 422, 429), dependencies=[Throttled("login")])
def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep) -> Token:
    """Exchange a username and password for a bearer token (valid ``token_hours``)."""
    username = form.username
    user = None
    if "\x00" not in username and len(username) <= 64:
        user = session.scalar(select(User).where(User.username == username))
    session.rollback()  # end the read transaction before the slow hash
    # Hash even for an unknown user, so the answer's timing does not tell who exists.
    ok = verify_password(form.password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not ok or not user.active:
        raise refuse(request, status.HTTP_401_UNAUTHORIZED, "wrong username or password", clean(username))
    raw, digest = new_token()
    expires = utcnow() + dt.timedelta(hours=request.app.state.settings.token_hours)
    with request.app.state.write_sessions() as write:
        write.add(ApiToken(user_id=user.id, token_hash=digest, expires_at=expires))
        write.commit()
    return Token(access_token=raw, role=user.role, expires_at=expires)


@router.get("/me", response_model=UserPublic, responses=errors(401))
def me(user: CurrentUser) -> User:
    """The signed-in user."""
    return user


@router.post("/logout", response_model=Message, responses=errors(401))
def logout(
    user: CurrentUser, token: Annotated[str | None, Depends(oauth2)], session: WriteSessionDep
) -> Message:
    """Delete the token used for this request."""
    session.execute(delete(ApiToken).where(ApiToken.token_hash == token_digest(token or "")))
    session.commit()
    return Message(detail=f"{user.username} signed out")


@router.post(
    "/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 409, 422)
)
def create_user(body: UserCreate, planner: Planner, session: WriteSessionDep) -> User:
    """A planner creates a planner or an auditor (password rules: api.throttle.password_problem)."""
    password_hash = hash_password(body.password)  # before the write transaction begins
    if session.scalar(select(User.id).where(User.username == body.username)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {body.username!r} exists")
    user = User(username=body.username, role=body.role, password_hash=password_hash, active=True)
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {body.username!r} exists") from None
    return user
