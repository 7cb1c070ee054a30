"""inbound message edits: an edited message is handled once per edit, apart from the message

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edit", sa.String(length=40), nullable=False, server_default=""))
        batch_op.drop_constraint("uq_inbound_message", type_="unique")
        batch_op.create_unique_constraint("uq_inbound_message", ["platform", "chat", "message_id", "edit"])


def downgrade() -> None:
    op.execute("DELETE FROM inbound_messages WHERE edit <> ''")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_constraint("uq_inbound_message", type_="unique")
        batch_op.create_unique_constraint("uq_inbound_message", ["platform", "chat", "message_id"])
        batch_op.drop_column("edit")
