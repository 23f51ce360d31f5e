"""sentence-embedding vectors of article revisions (semantic search)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "revision_embeddings",
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["revision_id"], ["article_revisions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("revision_id", "model"),
    )


def downgrade():
    op.drop_table("revision_embeddings")
