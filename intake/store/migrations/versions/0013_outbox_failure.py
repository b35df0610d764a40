"""outbox: why a registration's messages could not be built (for operators)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("failure", sa.Text(), nullable=True))


def downgrade() -> None:
    # Plain SQL: SQLite (3.35 and later) drops a column in place (see 0011).
    op.execute("ALTER TABLE outbox DROP COLUMN failure")
