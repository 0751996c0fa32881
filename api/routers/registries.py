"""Registries (一单两库): upload a validated registry, list and read them.

A registry is uploaded as several files (CSV, XLSX or Parquet) named as the contract's tables
(``enterprises.csv``, ``检查对象名录库.xlsx`` …). The files are validated by the same importer as
the command line (every problem of every file, each naming file, row and column) and stored byte
for byte; a registry never changes afterwards.

Also here, shared by the plan, draw and visit routers: the error schemas, the id and text types
that keep fuzzed input from ever reaching the database, and a small cache of each registry's
agencies, items and inspectors (enough to check a plan and to name a team).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile, status
from fastapi import Path as PathParam
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload

from api import audit_store
from api.agencies import compare_with_tree
from api.deps import PlannerScope, ReadScope, SessionDep, WriteSessionDep, not_found
from api.models import RegistryFile, RegistryRecord
from api.store import materialise_registry
from api.throttle import Throttled
from api.uploads import check_table_files, save_upload, temporary_directory
from scheduler.errors import InputError, Problem
from scheduler.importer import TABLES, load_registry
from scheduler.mapping import MAPPING_FILE
from scheduler.registry import Registry
from scheduler.tables import EXTENSIONS, TABLE_LABELS

router = APIRouter(tags=["registries"])

MAX_ID = 2_147_483_647  # ids are 32-bit integers in every backend


# ---------------------------------------------------------------- shared types and error schemas


def _clean_text(value: str) -> str:
    """Text every backend can store: PostgreSQL rejects NUL, UTF-8 rejects lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValueError("must not contain an unpaired surrogate")
    return value


def json_problems(value: Any, path: str = "") -> list[tuple[str, str]]:
    """(path, message) for everything a JSON column cannot hold (NaN, infinities) and every text
    no backend can store, anywhere in ``value``. Reported as bad input by the caller, never as a
    validation error: FastAPI's echo of such an input could not itself be written as JSON."""
    out: list[tuple[str, str]] = []
    if isinstance(value, str):
        try:
            _clean_text(value)
        except ValueError as exc:
            out.append((path or "value", f"the text {exc}"))
    elif isinstance(value, float) and not math.isfinite(value):
        out.append((path or "value", "must be a finite number"))
    elif isinstance(value, dict):
        for k, v in value.items():
            out += json_problems(k, f"{path}.<key>" if path else "<key>")
            safe = k if not json_problems(k) else "?"
            out += json_problems(v, f"{path}.{safe}" if path else str(safe))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += json_problems(v, f"{path}[{i}]")
    return out


SafeText = Annotated[str, AfterValidator(_clean_text)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_clean_text)]
RegistryId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="the registry's id")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]


class Message(BaseModel):
    """An error: what went wrong, in a sentence."""

    detail: str


class ProblemPublic(BaseModel):
    """One problem of one input file (the command line's exit-2 line)."""

    file: str
    row: int | None = Field(description="the spreadsheet row (the header is row 1)")
    column: str | None
    message: str
    text: str = Field(description="the whole problem as one line")


class BadInput(BaseModel):
    """422: ``detail`` "bad input" with every ``problems`` of the files, or FastAPI's list of
    request validation errors."""

    detail: str | list[dict[str, Any]]
    problems: list[ProblemPublic] = []
    more_problems: int = Field(0, description="problems beyond the first 1,000, counted only")


AUTH = {
    401: {"model": Message, "description": "not signed in, or the token is unknown or expired (recorded)"},
    403: {"model": Message, "description": "this role may not do this (recorded)"},
}
NOT_FOUND = {404: {"model": Message, "description": "no such id"}}
BAD_INPUT = {422: {"model": BadInput, "description": "bad input: every problem, with file, row and column"}}
LIMITS = {
    413: {"model": Message, "description": "the request is larger than RANDINSPECT_MAX_REQUEST_BYTES"},
    429: {"model": Message, "description": "too many uploads: wait the seconds of Retry-After (recorded)"},
}
CONFLICT = {409: {"model": Message, "description": "the request conflicts with the resource's state"}}


def bad_input(file: str, message: str, column: str | None = None) -> InputError:
    return InputError(Problem(file, None, column, message))


# ---------------------------------------------------------------- the registry lookup cache

_CACHE_SIZE = 4


def _light(registry: Registry) -> Registry:
    """The registry without its (possibly huge) enterprise and history tables."""
    return replace(registry, enterprises=registry.enterprises.iloc[:0], history=registry.history.iloc[:0])


def _cache(request_or_app) -> tuple[threading.Lock, OrderedDict]:
    app = getattr(request_or_app, "app", request_or_app)
    state = app.state
    if not hasattr(state, "registry_cache"):
        state.registry_cache = (threading.Lock(), OrderedDict())
    return state.registry_cache


def remember_registry(request_or_app, registry_id: int, registry: Registry) -> None:
    lock, cache = _cache(request_or_app)
    with lock:
        cache[registry_id] = _light(registry)
        cache.move_to_end(registry_id)
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)


def registry_lookup(request_or_app, session: Session, registry_id: int) -> Registry:
    """The stored registry's agencies, items and inspectors (no enterprises): registries never
    change, so it is loaded once and kept (a few of them). Raises LookupError when unknown."""
    lock, cache = _cache(request_or_app)
    with lock:
        if registry_id in cache:
            cache.move_to_end(registry_id)
            return cache[registry_id]
    with temporary_directory("registry") as tmp:
        folder = materialise_registry(session, registry_id, Path(tmp) / "registry")
        registry = load_registry(folder)
    remember_registry(request_or_app, registry_id, registry)
    return _light(registry)


# ---------------------------------------------------------------- schemas


class RegistryFilePublic(BaseModel):
    name: str
    sha256: str


class RegistryBase(BaseModel):
    name: str


class RegistryPublic(RegistryBase):
    model_config = ConfigDict(from_attributes=True)

    id: int
    agency_id: str | None = Field(description="the owning agency: the uploader's")
    created_at: dt.datetime
    created_by: str
    summary: dict[str, Any] = Field(
        description="counts per table (agencies, enterprises, inspectors, conflicts, history, leave, items), "
        "enterprises per risk class, departments"
    )
    files: list[RegistryFilePublic]


def _public(reg: RegistryRecord) -> RegistryPublic:
    return RegistryPublic(
        id=reg.id,
        agency_id=reg.agency_id,
        name=reg.name,
        created_at=reg.created_at,
        created_by=reg.created_by,
        summary=reg.summary,
        files=[RegistryFilePublic(name=f.filename, sha256=f.sha256) for f in reg.files],
    )


# ---------------------------------------------------------------- upload


_TABLE_STEMS = {t for t in TABLES} | {TABLE_LABELS[t] for t in TABLES}


def _upload_name(raw: str | None, problems: list[Problem], seen: set[str]) -> str | None:
    """The file's own name (no folders), when it names a registry table; else a problem."""
    name = PureWindowsPath(PurePosixPath(raw or "").name).name.strip()
    if not name:
        problems.append(Problem(raw or "(unnamed file)", None, None, "every uploaded file needs a file name"))
        return None
    try:
        _clean_text(name)
    except ValueError as exc:
        problems.append(Problem(repr(name), None, None, f"the file name {exc}"))
        return None
    path = PurePosixPath(name)
    if name in ("calendar.csv", MAPPING_FILE):
        pass
    elif path.suffix.lower() not in EXTENSIONS or path.stem not in _TABLE_STEMS:
        tables = ", ".join(f"{t} ({TABLE_LABELS[t]})" for t in TABLES)
        problems.append(
            Problem(
                name,
                None,
                None,
                f"not a registry table: name the file after a table ({tables}) with .csv, .xlsx or .parquet, "
                f"or calendar.csv, or {MAPPING_FILE} (the export's own headers and values)",
            )
        )
        return None
    if name in seen:
        problems.append(Problem(name, None, None, "uploaded twice; send each file once"))
        return None
    seen.add(name)
    return name


def _summary(registry: Registry) -> dict[str, Any]:
    ent = registry.enterprises
    risk = {str(k): int(v) for k, v in ent["risk_class"].value_counts().sort_index().items()}
    return {
        "agencies": len(registry.agencies),
        "enterprises": len(ent),
        "inspectors": len(registry.inspectors),
        "conflicts": len(registry.conflicts),
        "history": len(registry.history),
        "leave": len(registry.leave),
        "items": len(registry.items),
        "enterprises_by_risk_class": risk,
        "key_area_enterprises": int(ent["key_area"].sum()) if "key_area" in ent else 0,
        "departments": sorted({a.department for a in registry.agencies.values()}),
        "tables": {table: Path(p).name for table, p in sorted(registry.files.items())},
    }


@router.post(
    "/registries",
    response_model=RegistryPublic,
    status_code=status.HTTP_201_CREATED,
    responses={**AUTH, **BAD_INPUT, **LIMITS},
    summary="Upload a registry (validated, stored byte for byte)",
    dependencies=[Throttled("upload")],
)
def upload_registry(
    request: Request,
    scope: PlannerScope,
    session: WriteSessionDep,
    name: Annotated[Name, Form(description="a name for this registry, e.g. 正定县 2026Q1")],
    files: Annotated[
        list[UploadFile],
        File(
            description="the registry's tables: agencies, enterprises, inspectors (required), conflicts, history, "
            "leave, items, calendar.csv; as .csv, .xlsx or .parquet, named in English or Chinese; and "
            "mapping.yaml when the export's headers or values need one (validated, stored and hashed like a table)"
        ),
    ],
) -> RegistryPublic:
    problems: list[Problem] = []
    seen: set[str] = set()
    names = [(_upload_name(upload.filename, problems, seen), upload) for upload in files]
    if problems:
        raise InputError(problems)
    with temporary_directory("upload") as tmp:
        folder = Path(tmp) / "registry"
        folder.mkdir()
        for filename, upload in names:
            save_upload(upload.file, folder / filename)  # in blocks, never whole in memory
        check_table_files(folder, request.app.state.settings)  # limits: 422 before parsing
        registry = load_registry(folder)  # InputError → 422 with every problem (api.main)
        # Scope comes from the tree: a registry whose agencies disagree with it is refused.
        disagree = compare_with_tree(session, registry.agencies, registry.files["agencies"])
        if disagree:
            session.rollback()
            raise InputError(disagree)
        summary = _summary(registry)
        stored = []
        for filename, _upload in sorted(names, key=lambda pair: pair[0]):
            data = (folder / filename).read_bytes()
            stored.append(RegistryFile(filename=filename, sha256=hashlib.sha256(data).hexdigest(), content=data))
    user = scope.user
    reg = RegistryRecord(name=name, created_by=user.username, agency_id=user.agency_id, summary=summary, files=stored)
    session.add(reg)
    session.flush()
    audit_store.append(
        session,
        "import",
        {
            "registry_id": reg.id,
            "name": name,
            "files": [{"name": f.filename, "sha256": f.sha256} for f in stored],
            "agency_id": user.agency_id,
        },
        user.username,
        user.agency_id,
    )
    session.commit()
    remember_registry(request, reg.id, registry)
    return _public(reg)


# ---------------------------------------------------------------- read


def _files_without_content():
    return selectinload(RegistryRecord.files).options(defer(RegistryFile.content))


@router.get(
    "/registries",
    response_model=list[RegistryPublic],
    responses={**AUTH},
    summary="List registries, newest first",
)
def list_registries(
    scope: ReadScope, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> list[RegistryPublic]:
    rows = session.scalars(
        select(RegistryRecord)
        .options(_files_without_content())
        .where(RegistryRecord.agency_id.in_(sorted(scope.agency_ids)))
        .order_by(RegistryRecord.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_public(r) for r in rows]


@router.get("/registries/{registry_id}", response_model=RegistryPublic, responses={**AUTH, **NOT_FOUND})
def get_registry(registry_id: RegistryId, scope: ReadScope, session: SessionDep) -> RegistryPublic:
    reg = session.scalar(
        select(RegistryRecord).options(_files_without_content()).where(RegistryRecord.id == registry_id)
    )
    if reg is None or not scope.covers(reg.agency_id):
        raise not_found("registry", registry_id)
    return _public(reg)
