"""the clock: scheduled sends, scheduled notices, missed reports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "missed_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("village", sa.String(length=100), nullable=False),
        sa.Column("incomplete", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "village", name="uq_missed_report"),
    )
    with op.batch_alter_table("missed_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_missed_reports_day"), ["day"], unique=False)

    op.create_table(
        "scheduled_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("villages", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chat", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scheduled_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduled_notices_run_at"), ["run_at"], unique=False)

    op.create_table(
        "scheduled_sends",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("chat", sa.String(length=200), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "kind", "chat", name="uq_scheduled_send"),
    )


def downgrade() -> None:

    op.drop_table("scheduled_sends")
    with op.batch_alter_table("scheduled_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduled_notices_run_at"))

    op.drop_table("scheduled_notices")
    with op.batch_alter_table("missed_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_missed_reports_day"))

    op.drop_table("missed_reports")
