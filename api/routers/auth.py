"""Sign-in with a password (OAuth2 password form), bearer tokens, the admins' account
administration (within their scope) and the agency tree (机构库). There is no built-in account:
the first admin comes from ``randinspect user add NAME --role admin --agency AGENCY_ID``."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile, status
from fastapi import Path as PathParam
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from api import audit_store
from api.agencies import load_tree
from api.deps import AdminScope, AnyScope, CurrentUser, SessionDep, WriteSessionDep, oauth2, refuse
from api.models import AgencyRecord, ApiToken, User, utcnow
from api.security import hash_password, new_token, token_digest, verify_password
from api.throttle import MIN_PASSWORD, Throttled, password_problem
from scheduler.errors import InputError, Problem

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

Role = Literal["planner", "leader", "auditor", "admin"]
AgencyId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
UserId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="the account's id")]


class UserBase(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    role: Role
    agency_id: AgencyId


class UserCreate(UserBase):
    password: str = Field(min_length=MIN_PASSWORD, max_length=1024, pattern=NO_NUL)

    @model_validator(mode="after")
    def _password_rules(self):  # api.throttle.password_problem: the rules for every new password
        if problem := password_problem(self.password, self.username):
            raise ValueError(problem)
        return self


class PasswordChange(BaseModel):
    password: str = Field(min_length=MIN_PASSWORD, max_length=1024, pattern=NO_NUL)


class UserPublic(UserBase):
    model_config = ConfigDict(from_attributes=True)
    id: int
    active: bool
    created_at: dt.datetime


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: Role
    agency_id: str
    expires_at: dt.datetime


class AgencyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    agency_id: str
    name: str
    department: str
    level: str
    parent_id: str | None
    region_code: str


class TreeLoad(BaseModel):
    added: int
    updated: int
    agencies: int


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
    if user is None or not ok or not user.active or not user.agency_id:
        raise refuse(request, status.HTTP_401_UNAUTHORIZED, "wrong username or password", clean(username))
    raw, digest = new_token()
    expires = utcnow() + dt.timedelta(hours=request.app.state.settings.token_hours)
    with request.app.state.write_sessions() as write:
        write.add(ApiToken(user_id=user.id, token_hash=digest, expires_at=expires))
        write.commit()
    return Token(access_token=raw, role=user.role, agency_id=user.agency_id, expires_at=expires)


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


@router.get("/users", response_model=list[UserPublic], responses=errors(401, 403))
def list_users(scope: AdminScope, session: SessionDep) -> list[User]:
    """The accounts of the admin's scope."""
    return list(
        session.scalars(select(User).where(User.agency_id.in_(sorted(scope.agency_ids))).order_by(User.id))
    )


@router.post(
    "/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 409, 422)
)
def create_user(body: UserCreate, scope: AdminScope, session: WriteSessionDep) -> User:
    """An admin creates an account of any role for an agency of its scope (an agency outside
    it, or unknown, is refused: 422)."""
    if not scope.covers(body.agency_id):
        raise HTTPException(422, f"agency {body.agency_id!r} is not in the agency tree under your agency")
    password_hash = hash_password(body.password)  # before the write transaction begins
    if session.scalar(select(User.id).where(User.username == body.username)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {body.username!r} exists")
    user = User(
        username=body.username, role=body.role, agency_id=body.agency_id, password_hash=password_hash, active=True
    )
    session.add(user)
    audit_store.append(
        session,
        "note",
        {"event": "account created", "username": body.username, "role": body.role, "agency_id": body.agency_id},
        scope.username,
        body.agency_id,
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {body.username!r} exists") from None
    return user


def _revoke(session, user: User) -> None:
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


@router.post("/users/{user_id}/disable", response_model=UserPublic, responses=errors(401, 403, 404, 409, 422))
def disable_user(user_id: UserId, scope: AdminScope, session: WriteSessionDep) -> User:
    """Disable an account of the admin's scope (its tokens are revoked; audited)."""
    user = scope.account(session, user_id)
    if user.id == scope.user.id:
        raise HTTPException(status.HTTP_409_CONFLICT, "an admin cannot disable its own account (another admin can)")
    user.active = False
    _revoke(session, user)
    audit_store.append(
        session, "note", {"event": "account disabled", "username": user.username}, scope.username, user.agency_id
    )
    session.commit()
    return user


@router.post("/users/{user_id}/password", response_model=UserPublic, responses=errors(401, 403, 404, 422))
def set_password(user_id: UserId, body: PasswordChange, scope: AdminScope, session: WriteSessionDep) -> User:
    """Set a new password for an account of the admin's scope (its tokens are revoked)."""
    user = scope.account(session, user_id)
    if problem := password_problem(body.password, user.username):  # the rules for every new password
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, problem)
    user.password_hash = hash_password(body.password)
    _revoke(session, user)
    audit_store.append(
        session, "note", {"event": "password set", "username": user.username}, scope.username, user.agency_id
    )
    session.commit()
    return user


@router.get("/agencies", response_model=list[AgencyPublic], responses=errors(401))
def list_agencies(scope: AnyScope, session: SessionDep) -> list[AgencyRecord]:
    """The agencies of the caller's scope (its agency and those below it)."""
    return list(
        session.scalars(
            select(AgencyRecord).where(AgencyRecord.agency_id.in_(sorted(scope.agency_ids))).order_by(AgencyRecord.agency_id)
        )
    )


@router.post("/agencies", response_model=TreeLoad, responses=errors(401, 403, 422))
def load_agencies(
    request: Request,
    scope: AdminScope,
    read: SessionDep,
    session: WriteSessionDep,
    file: Annotated[UploadFile, File(description="the agencies table (.csv, .xlsx or .parquet), registry format")],
) -> TreeLoad:
    """Add or update agencies of the tree (an admin of a top agency, one without a parent, only:
    the tree is the whole service's). Agencies are never removed. Audited."""
    me = read.get(AgencyRecord, scope.user.agency_id)  # not the write session: a refusal writes too
    if me is None or me.parent_id is not None:
        raise refuse(request, 403, "only an admin of a top agency may change the agency tree", scope.username)
    name = PureWindowsPath(PurePosixPath(file.filename or "agencies.csv").name).name or "agencies.csv"
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".parquet"):
        raise InputError(Problem(name, None, None, "an agencies table is a .csv, .xlsx or .parquet file"))
    with tempfile.TemporaryDirectory(prefix="randinspect-agencies-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(file.file.read())
        added, updated = load_tree(session, path)
    total = len(session.scalars(select(AgencyRecord.agency_id)).all())
    audit_store.append(
        session, "note", {"event": "agency tree loaded", "file": name, "added": added, "updated": updated}, scope.username
    )
    session.commit()
    return TreeLoad(added=added, updated=updated, agencies=total)
