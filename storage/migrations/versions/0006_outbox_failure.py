"""outbox failure: why a send failed, as a typed value rather than the platform's words

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Rows failed before this column existed: their reason read once from the words stored in
#: `error`, the first matching entry winning, so that old delivery reports read as they did.
_FROM_ERROR_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("moved", ("migrat", "upgraded to a supergroup", "another chat id")),
    (
        "removed",
        ("kicked", "forbidden", "removed", "not a member", "blocked", "deactivated", "unreachable",
         "chat not found", "not_found", "permission_denied"),
    ),
    ("no_rights", ("not enough rights", "have no rights")),
    ("no_answer", ("timed out", "timeout", "did not answer", "(504)")),
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure", sa.String(length=20), nullable=True))
    outbox = sa.table(
        "outbox", sa.column("status", sa.String), sa.column("error", sa.Text), sa.column("failure", sa.String)
    )
    for failure, words in _FROM_ERROR_WORDS:
        matches = sa.or_(*(sa.func.lower(outbox.c.error).contains(word, autoescape=True) for word in words))
        op.execute(
            outbox.update()
            .where(outbox.c.status == "failed", outbox.c.failure.is_(None), matches)
            .values(failure=failure)
        )
    op.execute(outbox.update().where(outbox.c.status == "failed", outbox.c.failure.is_(None)).values(failure="failed"))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("failure")
