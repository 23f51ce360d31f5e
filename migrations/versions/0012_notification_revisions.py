"""notifications: a staff notification may be about an article revision (a proposal decided)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 16:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("revision_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_notifications_revision_id_article_revisions"),
            "article_revisions",
            ["revision_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_notifications_revision_id", ["revision_id"])


def downgrade():
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("ix_notifications_revision_id")
        batch.drop_constraint(op.f("fk_notifications_revision_id_article_revisions"), type_="foreignkey")
        batch.drop_column("revision_id")
