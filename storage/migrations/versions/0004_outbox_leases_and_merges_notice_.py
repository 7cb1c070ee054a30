"""outbox leases and merges, notice receipts and acknowledgements

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_acknowledgements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("village", sa.String(length=100), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id", "person", name="uq_notice_ack"),
    )
    with op.batch_alter_table("notice_acknowledgements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_acknowledgements_notice_id"), ["notice_id"], unique=False)

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("receipt_sent_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("ambiguous", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("merged_into", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_outbox_merged_into", "outbox", ["merged_into"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_merged_into", type_="foreignkey")
        batch_op.drop_column("merged_into")
        batch_op.drop_column("ambiguous")
        batch_op.drop_column("lease_until")

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_column("receipt_sent_at")
        batch_op.drop_column("chat")

    with op.batch_alter_table("notice_acknowledgements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_acknowledgements_notice_id"))

    op.drop_table("notice_acknowledgements")
