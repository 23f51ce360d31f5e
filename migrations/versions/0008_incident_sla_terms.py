"""the SLA targets an incident is held to, snapshotted when raised or re-prioritised

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:00:00

Incidents raised before this revision have no snapshot: they follow the settings of the day
until their next recompute (a status change, a reply), which then holds them to those.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("sla_terms", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("sla_terms")
