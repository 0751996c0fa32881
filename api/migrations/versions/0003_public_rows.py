"""public_rows: the published (visit, task) rows of a draw, without personal data

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("visit_pk", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.Text(), nullable=False),
        sa.Column("joint_agencies", sa.Text(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("industry", sa.String(length=32), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("drawn_as", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["draw_id"], ["draws.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["visit_pk"], ["visits.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("draw_id", "visit_pk", "task_id"),
    )
    with op.batch_alter_table("public_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_public_rows_draw_id"), ["draw_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_public_rows_visit_pk"), ["visit_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_public_rows_task_id"), ["task_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_public_rows_credit_code"), ["credit_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_public_rows_region_code"), ["region_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("public_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_public_rows_region_code"))
        batch_op.drop_index(batch_op.f("ix_public_rows_credit_code"))
        batch_op.drop_index(batch_op.f("ix_public_rows_task_id"))
        batch_op.drop_index(batch_op.f("ix_public_rows_visit_pk"))
        batch_op.drop_index(batch_op.f("ix_public_rows_draw_id"))
    op.drop_table("public_rows")
