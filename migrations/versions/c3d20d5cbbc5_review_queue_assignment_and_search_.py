"""review queue, assignment and search indexes (issue 12): a town's review queue (镇街 scope, 镇街 filter, 逾期)
read from one index, 分配评估机构's waiting / assigned lists newest first from an index per kind, and trigram
indexes for 一企一档's name / 备案号 search (GIN + pg_trgm on PostgreSQL, plain indexes elsewhere)

Revision ID: c3d20d5cbbc5
Revises: fc8e742eec96
Create Date: 2026-11-27 17:10:24.195210

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c3d20d5cbbc5"
down_revision = "fc8e742eec96"
branch_labels = None
depends_on = None

TRGM_COLUMNS = ("ent_name", "project_name", "filing_no")


def _postgresql():
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    postgresql = _postgresql()
    if postgresql:
        # trusted since PostgreSQL 13: the database owner may create it; kept on downgrade (it may serve others)
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table("zs_filing", schema=None) as batch_op:
        for column in TRGM_COLUMNS:
            gin = {"postgresql_using": "gin", "postgresql_ops": {column: "gin_trgm_ops"}} if postgresql else {}
            batch_op.create_index(f"ix_zs_filing_{column}_trgm", [column], unique=False, **gin)
        batch_op.create_index(
            "ix_zs_filing_town_queue",
            ["status", "current_step", "town_id", "submitted_at", "id", "step_entered_at"],
            unique=False,
        )

    with op.batch_alter_table("zs_post_assessment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_zs_post_assessment_city_assign", ["method", "started_at", "id", "institution_id"], unique=False
        )

    with op.batch_alter_table("zs_pre_diagnosis", schema=None) as batch_op:
        batch_op.create_index(
            "ix_zs_pre_diagnosis_city_assign", ["method", "started_at", "id", "institution_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("zs_pre_diagnosis", schema=None) as batch_op:
        batch_op.drop_index("ix_zs_pre_diagnosis_city_assign")

    with op.batch_alter_table("zs_post_assessment", schema=None) as batch_op:
        batch_op.drop_index("ix_zs_post_assessment_city_assign")

    with op.batch_alter_table("zs_filing", schema=None) as batch_op:
        batch_op.drop_index("ix_zs_filing_town_queue")
        for column in reversed(TRGM_COLUMNS):
            batch_op.drop_index(f"ix_zs_filing_{column}_trgm")
