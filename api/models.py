"""What the service stores (SQLAlchemy 2 declarative models). Alembic migrations in
``api/migrations`` create exactly these tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class AgencyRecord(Base):
    """One agency of the service's agency tree (机构库): loaded by an admin from an agencies
    table (the registry's format), never from an uploaded registry. Scope comes from it."""

    __tablename__ = "agencies"
    agency_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))  # province, city, county, township
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    region_code: Mapped[str] = mapped_column(String(12))
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class User(Base):
    """An account of one agency: planner, leader (负责人), auditor or admin (enterprises use
    their notice code; the public needs no account)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    # NULL only for accounts made before the agency tree existed: they cannot sign in.
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.agency_id"), nullable=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    user: Mapped[User] = relationship()


class RegistryRecord(Base):
    """An uploaded, validated registry; its files are kept byte for byte."""

    __tablename__ = "registries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    # The uploader's agency; NULL only for registries stored before the agency tree (in no scope).
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.agency_id"), nullable=True, index=True)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    files: Mapped[list[RegistryFile]] = relationship(cascade="all, delete-orphan", order_by="RegistryFile.filename")


class RegistryFile(Base):
    __tablename__ = "registry_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registry_id: Mapped[int] = mapped_column(ForeignKey("registries.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (UniqueConstraint("registry_id", "filename"),)


class PlanRecord(Base):
    """A quarterly plan: a draft until drawn or approved, frozen afterwards.

    ``status``: draft → drawing → drawn (→ drawing again only for a recorded re-draw).
    ``agency_id``: the agency leading its tasks (their nearest common agency in the tree).
    The official flow: ``approved_*`` (a leader), then commitments (table ``commitments``),
    each drawn with public numbers; ``published_draw_id``: the one draw ever published.
    """

    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registry_id: Mapped[int] = mapped_column(ForeignKey("registries.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    commitment: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.agency_id"), nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    approved_by: Mapped[str] = mapped_column(String(64), default="")
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    published_draw_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DrawRecord(Base):
    """One draw of a plan (a background job): progress while running, the result when done."""

    __tablename__ = "draws"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, done, failed
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    seed: Mapped[str] = mapped_column(String(128))
    seed_kind: Mapped[str] = mapped_column(String(8), default="test")
    requested_by: Mapped[str] = mapped_column(String(64), default="")
    previous_plan_status: Mapped[str] = mapped_column(String(16), default="draft")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    manifest: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    report_html: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # Official draws: the commitment drawn, the public numbers, the audit heads at the draw and
    # at its publication, who published it; a superseded draw names the draw that replaced it.
    commitment_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    beacon: Mapped[str] = mapped_column(String(500), default="")
    draw_head: Mapped[str] = mapped_column(String(64), default="")
    publication_head: Mapped[str] = mapped_column(String(64), default="")
    published_by: Mapped[str] = mapped_column(String(64), default="")
    superseded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    __table_args__ = (UniqueConstraint("plan_id", "number"),)


class CommitmentRecord(Base):
    """A public commitment (``randinspect commit``) over an approved plan, its registry and the
    software, made before the named source's numbers exist; public from the moment it is made.
    ``redraw_id``: the approved re-draw it serves (None for the plan's first official draw)."""

    __tablename__ = "commitments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    source: Mapped[str] = mapped_column(String(500))
    commitment: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    audit_head: Mapped[str] = mapped_column(String(64), default="")
    redraw_id: Mapped[int | None] = mapped_column(ForeignKey("redraws.id"), nullable=True)
    beacon: Mapped[str] = mapped_column(String(500), default="")  # the numbers, once given


class RedrawRecord(Base):
    """A request to replace a plan's official draw: a planner's reason, a leader's decision
    (never the requester's own). Approved, it allows one new commitment."""

    __tablename__ = "redraws"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id"))
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, approved, rejected
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class VisitRecord(Base):
    """A visit of a finished draw, with its notice and the enterprise's notice code."""

    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id", ondelete="CASCADE"), index=True)
    visit_id: Mapped[str] = mapped_column(String(32))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise: Mapped[str] = mapped_column(String(255), default="")
    region_code: Mapped[str] = mapped_column(String(6), default="")
    task_ids: Mapped[str] = mapped_column(String(500))
    date: Mapped[dt.date] = mapped_column(Date)
    inspector_ids: Mapped[str] = mapped_column(String(500))
    lead_agency_id: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    notice_code: Mapped[str] = mapped_column(String(32))
    notice_html: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("draw_id", "visit_id"),
        Index("ix_visits_credit_code_notice_code", "credit_code", "notice_code"),
    )


class SelectionRecord(Base):
    __tablename__ = "selections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(64))
    credit_code: Mapped[str] = mapped_column(String(18))
    stratum: Mapped[str] = mapped_column(String(16))
    population_size: Mapped[int] = mapped_column(Integer)
    sample_size: Mapped[int] = mapped_column(Integer)
    inclusion_probability: Mapped[float] = mapped_column(Float)
    ticket: Mapped[str] = mapped_column(String(64))


class StratumRecord(Base):
    __tablename__ = "strata"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(64))
    stratum: Mapped[str] = mapped_column(String(16))
    population_size: Mapped[int] = mapped_column(Integer)
    sample_size: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[str] = mapped_column(String(64), default="")


class RecusalRecord(Base):
    """A request to remove an inspector from a visit (回避), and the planner's decision."""

    __tablename__ = "recusals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_pk: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    inspector_id: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, approved, rejected
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    replacement: Mapped[str] = mapped_column(String(64), default="")
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class ResultRecord(Base):
    """A visit's result in a standard category; final once published."""

    __tablename__ = "results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_pk: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), unique=True)
    category: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    entered_by: Mapped[str] = mapped_column(String(64), default="")
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    published_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class AuditHead(Base):
    """One row: the chain's length and last hash; updated first in every append (the lock)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="0" * 64)


class AuditRecordRow(Base):
    """One record of the hash chain (same rule as ``scheduler.audit``)."""

    __tablename__ = "audit_records"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)  # canonical JSON text, exactly as hashed
    prev: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Whose record it is (not hashed): lists are scoped by it; NULL: service-wide records.
    agency_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class Refusal(Base):
    """Every 401/403 the service gives, recorded (not in the hash chain, so refusals cannot
    flood it)."""

    __tablename__ = "refusals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    who: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(255), default="")
    # Aggregated (migration 0005): one row per (status, method, route, client, window), counted, so
    # that a flood of refusals cannot grow the table without bound (api.throttle).
    client: Mapped[str] = mapped_column(String(64), default="", server_default="")
    route: Mapped[str] = mapped_column(String(200), default="", server_default="")
    window_start: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (UniqueConstraint("status", "method", "route", "client", "window_start", name="uq_refusals_window"),)


class ThrottleCount(Base):
    """Failed (or counted) attempts of one kind by one key (a client address, an account, an
    enterprise) in one window (api.throttle): past its limit, the key waits for the window's end."""

    __tablename__ = "throttle_counts"
    __table_args__ = (UniqueConstraint("kind", "key", "window_start", name="uq_throttle_window"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    window_start: Mapped[dt.datetime] = mapped_column(DateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PublicRow(Base):
    """One published (visit, task) row, written when the draw is published: only the public
    facts of ``scheduler.publication.publication_frame`` (checked by ``assert_no_personal_data``).
    The date and the result are joined from ``visits`` and ``results`` when read."""

    __tablename__ = "public_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id", ondelete="CASCADE"), index=True)
    visit_pk: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(64), index=True)
    agency: Mapped[str] = mapped_column(Text, default="")
    joint_agencies: Mapped[str] = mapped_column(Text, default="")
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    enterprise: Mapped[str] = mapped_column(Text, default="")
    region_code: Mapped[str] = mapped_column(String(6), default="", index=True)
    industry: Mapped[str] = mapped_column(String(32), default="")
    items: Mapped[str] = mapped_column(Text, default="")
    drawn_as: Mapped[str] = mapped_column(String(16), default="")
    __table_args__ = (UniqueConstraint("draw_id", "visit_pk", "task_id"),)
