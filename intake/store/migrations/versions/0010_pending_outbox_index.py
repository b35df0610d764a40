"""outbox rows not finished: a partial index instead of one on done_at, which led the relay
and the reconciler to read the whole backlog of a burst

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PENDING = sa.text("done_at IS NULL AND failed_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "outbox_pending", "outbox", ["enqueued_at", "id"],
        sqlite_where=PENDING, postgresql_where=PENDING,
    )
    op.drop_index("ix_outbox_done_at", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_done_at", "outbox", ["done_at"])
    op.drop_index("outbox_pending", table_name="outbox")
