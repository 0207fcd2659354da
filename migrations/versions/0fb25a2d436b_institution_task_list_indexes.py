"""评估机构 任务列表 (issue 12): an index per task kind on (institution_id, assigned_at, id), read backwards for the
newest assignments up to the page (the list sorted all of an institution's tasks, ~6,000 in gen-load data, for
each page). Indexes only: the downgrade drops them, and nothing is lost.

Revision ID: 0fb25a2d436b
Revises: 3ef7b9053856
Create Date: 2026-11-28 05:17:50.889433

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0fb25a2d436b"
down_revision = "3ef7b9053856"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("zs_post_assessment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_zs_post_assessment_institution_tasks", ["institution_id", "assigned_at", "id"], unique=False
        )

    with op.batch_alter_table("zs_pre_diagnosis", schema=None) as batch_op:
        batch_op.create_index(
            "ix_zs_pre_diagnosis_institution_tasks", ["institution_id", "assigned_at", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("zs_pre_diagnosis", schema=None) as batch_op:
        batch_op.drop_index("ix_zs_pre_diagnosis_institution_tasks")

    with op.batch_alter_table("zs_post_assessment", schema=None) as batch_op:
        batch_op.drop_index("ix_zs_post_assessment_institution_tasks")
