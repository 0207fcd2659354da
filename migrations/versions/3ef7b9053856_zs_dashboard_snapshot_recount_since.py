"""数据看板 snapshots (issue 12): recount_since, when a worker took on recounting a scope's expired figures in the
background (the other workers show them meanwhile instead of all counting them at once). Nullable, no data: the
downgrade drops it, and nothing is lost.

Revision ID: 3ef7b9053856
Revises: c354d0a50dc2
Create Date: 2026-11-28 02:07:13.819542

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "3ef7b9053856"
down_revision = "c354d0a50dc2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("zs_dashboard_snapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recount_since", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("zs_dashboard_snapshot", schema=None) as batch_op:
        batch_op.drop_column("recount_since")
