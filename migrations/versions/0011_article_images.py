"""images in articles

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:10:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "article_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("uploader_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("storage_name", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_images_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploader_id"],
            ["users.id"],
            name=op.f("fk_article_images_uploader_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_images")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_article_images_storage_name")),
    )
    with op.batch_alter_table("article_images", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_article_images_article_id"), ["article_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("article_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_images_article_id"))
    op.drop_table("article_images")
