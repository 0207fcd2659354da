"""一企一档 .zip exports in the database (issue 12, scale-out): the progress of an export, written by the rq worker
and polled through any app node, and the .zip's sha256 in the file store (shared folder or S3), instead of
status files and .zip files in a DOSSIER_EXPORT_FOLDER that every node and worker had to share. Exports made
before this revision (files in that folder) are not carried over: they expire after 7 days anyway.

Revision ID: eed90824e5c8
Revises: 977406bcb148
Create Date: 2026-11-27 20:38:12.370035

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "eed90824e5c8"
down_revision = "977406bcb148"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "zs_dossier_export",
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["ab_user.id"],
        ),
        sa.PrimaryKeyConstraint("token"),
    )
    with op.batch_alter_table("zs_dossier_export", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_zs_dossier_export_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_zs_dossier_export_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("zs_dossier_export", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zs_dossier_export_user_id"))
        batch_op.drop_index(batch_op.f("ix_zs_dossier_export_created_at"))

    op.drop_table("zs_dossier_export")
