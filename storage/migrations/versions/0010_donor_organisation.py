"""donations: whether the donor is an organisation, so the bulletin counts companies and people apart

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The name endings the donation parser read as organisations when this migration was written
#: (handlers/parsing/donation.py); a copy, so that the migration does what it did whatever the
#: parser learns later. Rows stored before it are marked by these alone.
_ENDINGS = (
    "公司", "企业", "集团", "超市", "商店", "商行", "商贸", "药店", "药房", "诊所", "医院", "卫生院", "卫生所",
    "厂", "合作社", "信用社", "协会", "商会", "基金会", "联合会", "委员会", "村委会", "居委会", "红十字会",
    "银行", "支行", "分行", "加油站", "酒店", "宾馆", "饭店", "餐厅", "门市部", "小卖部", "农场", "养殖场",
    "学校", "中学", "小学", "幼儿园", "工作室", "中心", "单位", "车队", "施工队", "党支部", "营业部",
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation", sa.Boolean(), nullable=False, server_default=sa.false()))
    donations = sa.table("donations", sa.column("donor", sa.String), sa.column("organisation", sa.Boolean))
    ends_like_one = sa.or_(*(donations.c.donor.endswith(ending, autoescape=True) for ending in _ENDINGS))
    op.execute(donations.update().where(ends_like_one).values(organisation=True))


def downgrade() -> None:
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.drop_column("organisation")
