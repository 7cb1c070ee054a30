"""outbox in flight: which claimed rows were handed to the platform, so that only they count as ambiguous

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_flight_since", sa.DateTime(timezone=True), nullable=True))
    # Rows a sender before this column was holding when it stopped: nobody knows whether they
    # went, so they stay what they were, possibly doubled when sent again.
    outbox = sa.table(
        "outbox",
        sa.column("status", sa.String),
        sa.column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.column("in_flight_since", sa.DateTime(timezone=True)),
    )
    op.execute(outbox.update().where(outbox.c.status == "sending").values(in_flight_since=outbox.c.next_attempt_at))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("in_flight_since")
