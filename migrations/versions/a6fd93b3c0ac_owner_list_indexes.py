"""owner list indexes (issue 12): every list an enterprise sees of its own records (我的工作台 tabs, 我的产品,
信息变更, 预奖补) is WHERE organisation_id = ? ORDER BY created_at DESC, id DESC; an index on exactly that gives
the page's 20 rows without sorting all of the enterprise's records (the 工作台 项目备案/概览 tab of an enterprise
with 1,835 projects: 2.3 ms sort → an index range)

Revision ID: a6fd93b3c0ac
Revises: c3d20d5cbbc5
Create Date: 2026-11-27 17:35:04.159944

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a6fd93b3c0ac"
down_revision = "c3d20d5cbbc5"
branch_labels = None
depends_on = None

TABLES = (
    "zs_completion",
    "zs_filing",
    "zs_implementation",
    "zs_info_change",
    "zs_post_assessment",
    "zs_pre_diagnosis",
    "zs_pre_subsidy",
    "zs_product",
    "zs_project",
    "zs_signing",
    "zs_warehousing",
)


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_owner_list", ["organisation_id", "created_at", "id"], unique=False)


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_owner_list")
