"""throttle_counts, and refusals aggregated per (status, method, route, client, window)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 19:00:00

(issue 12)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "key", "window_start", name="uq_throttle_window"),
    )
    with op.batch_alter_table("refusals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client", sa.String(length=64), server_default="", nullable=False))
        batch_op.add_column(sa.Column("route", sa.String(length=200), server_default="", nullable=False))
        batch_op.add_column(sa.Column("window_start", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("count", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("last_at", sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint(
            "uq_refusals_window", ["status", "method", "route", "client", "window_start"]
        )


def downgrade() -> None:
    with op.batch_alter_table("refusals", schema=None) as batch_op:
        batch_op.drop_constraint("uq_refusals_window", type_="unique")
        for column in ("last_at", "count", "window_start", "route", "client"):
            batch_op.drop_column(column)
    op.drop_table("throttle_counts")
