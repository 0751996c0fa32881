"""bureaus: the agency tree, accounts' agencies, owning agencies, the official draw flow

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 19:00:00

Existing data: nothing is deleted or guessed. Accounts, registries, plans and audit records made
before this revision get no agency (NULL): they are in no account's scope (404 everywhere) and
such accounts cannot sign in, until ``randinspect agencies adopt AGENCY_ID`` gives them to an
agency of the loaded tree (see the README). Draws made before keep ``seed_kind`` ``test``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("agency_id"),
    )
    for table in ("users", "registries", "plans"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("agency_id", sa.String(length=64), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_agency_id"), ["agency_id"], unique=False)
            batch_op.create_foreign_key(f"fk_{table}_agency_id", "agencies", ["agency_id"], ["agency_id"])
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("approved_by", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("published_draw_id", sa.Integer(), nullable=True))
    op.create_table(
        "redraws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"]),
        sa.ForeignKeyConstraint(["draw_id"], ["draws.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_redraws_plan_id", "redraws", ["plan_id"], unique=False)
    op.create_table(
        "commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("audit_head", sa.String(length=64), nullable=False),
        sa.Column("redraw_id", sa.Integer(), nullable=True),
        sa.Column("beacon", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"]),
        sa.ForeignKeyConstraint(["redraw_id"], ["redraws.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_commitments_plan_id", "commitments", ["plan_id"], unique=False)
    with op.batch_alter_table("draws", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commitment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("beacon", sa.String(length=500), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("draw_head", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("publication_head", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("published_by", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_draws_commitment_id"), ["commitment_id"], unique=False)
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agency_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_records_agency_id"), ["agency_id"], unique=False)
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index("ix_visits_credit_code_notice_code", ["credit_code", "notice_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index("ix_visits_credit_code_notice_code")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_records_agency_id"))
        batch_op.drop_column("agency_id")
    with op.batch_alter_table("draws", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draws_commitment_id"))
        for c in ("superseded_by", "published_by", "publication_head", "draw_head", "beacon", "commitment_id"):
            batch_op.drop_column(c)
    op.drop_index("ix_commitments_plan_id", table_name="commitments")
    op.drop_table("commitments")
    op.drop_index("ix_redraws_plan_id", table_name="redraws")
    op.drop_table("redraws")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        for c in ("published_draw_id", "approved_at", "approved_by", "created_by"):
            batch_op.drop_column(c)
    for table in ("plans", "registries", "users"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_agency_id", type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_agency_id"))
            batch_op.drop_column("agency_id")
    op.drop_table("agencies")
