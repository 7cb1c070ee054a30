"""people under observation, temperature checks, audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "observed_people",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("village", sa.String(length=100), nullable=False),
        sa.Column("name_encrypted", sa.Text(), nullable=True),
        sa.Column("phone_encrypted", sa.Text(), nullable=True),
        sa.Column("id_number_encrypted", sa.Text(), nullable=True),
        sa.Column("id_number_index", sa.String(length=64), nullable=True),
        sa.Column("name_masked", sa.String(length=40), nullable=False),
        sa.Column("phone_masked", sa.String(length=20), nullable=True),
        sa.Column("id_number_masked", sa.String(length=24), nullable=True),
        sa.Column("origin", sa.String(length=100), nullable=True),
        sa.Column("returned_on", sa.Date(), nullable=False),
        sa.Column("observe_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("observed_people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observed_people_id_number_index"), ["id_number_index"], unique=False)
        batch_op.create_index(batch_op.f("ix_observed_people_village"), ["village"], unique=False)

    op.create_table(
        "temperature_checks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("celsius", sa.Double(), nullable=False),
        sa.Column("checked_by", sa.String(length=200), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["observed_people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("temperature_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_temperature_checks_person_id"), ["person_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("temperature_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_temperature_checks_person_id"))

    op.drop_table("temperature_checks")
    with op.batch_alter_table("observed_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observed_people_village"))
        batch_op.drop_index(batch_op.f("ix_observed_people_id_number_index"))

    op.drop_table("observed_people")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
