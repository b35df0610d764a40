"""authority kind and state, from the official ABH list

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("authority") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=50), nullable=True))
        batch.add_column(sa.Column("state", sa.String(length=50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("authority") as batch:
        batch.drop_column("state")
        batch.drop_column("kind")
