"""report_days, report_field_totals, checkpoint_day_totals, summary_state: summaries kept up to date,
so that a day's report reads O(villages) rows (built from the records at the first start after this);
and the indexes of the hot paths over the audit log and notice deliveries

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_days",
        sa.Column("village", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revisions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("village", "day"),
    )
    with op.batch_alter_table("report_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_days_day"), ["day"], unique=False)
    op.create_table(
        "report_field_totals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "field"),
    )
    op.create_table(
        "checkpoint_day_totals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("vehicles", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("fevers", sa.Integer(), nullable=False),
        sa.Column("key_area_arrivals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "summary_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("built_for", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_audit_log_action_subject", "audit_log", ["action", "subject"])
    # The hot paths over notice deliveries: a 收到 (by chat) and the settled-notices check (by send).
    op.create_index("ix_notice_deliveries_chat", "notice_deliveries", ["chat"])
    op.create_index(op.f("ix_notice_deliveries_outbox_id"), "notice_deliveries", ["outbox_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notice_deliveries_outbox_id"), table_name="notice_deliveries")
    op.drop_index("ix_notice_deliveries_chat", table_name="notice_deliveries")
    op.drop_index("ix_audit_log_action_subject", table_name="audit_log")
    op.drop_table("summary_state")
    op.drop_table("checkpoint_day_totals")
    op.drop_table("report_field_totals")
    with op.batch_alter_table("report_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_days_day"))
    op.drop_table("report_days")
