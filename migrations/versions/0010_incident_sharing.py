"""incidents: updates agents post for followers; a requester shares an incident with a colleague

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incident_comments") as batch:
        batch.add_column(
            sa.Column("for_followers", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "incident_shares",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("shared_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shared_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("incident_id", "user_id"),
    )
    op.create_index("ix_incident_shares_user_id", "incident_shares", ["user_id"])


def downgrade():
    op.drop_index("ix_incident_shares_user_id", table_name="incident_shares")
    op.drop_table("incident_shares")
    with op.batch_alter_table("incident_comments") as batch:
        batch.drop_column("for_followers")
