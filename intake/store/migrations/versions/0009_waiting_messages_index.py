"""messages waiting for a batch: a partial index, so finding them does not read every message

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WAITING = sa.text("batch_id IS NULL AND payload IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "message_waiting",
        "message",
        ["authority_key", "created_at", "id"],
        sqlite_where=WAITING,
        postgresql_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("message_waiting", table_name="message")
