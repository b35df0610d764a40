"""batches not acknowledged: a partial index, so that /metrics and `intake status` read
them, not every batch ever made

Revision ID: 0021
Revises: 0020

Every scrape of /metrics reads, per authority, the oldest batch it has not acknowledged and
the messages in those batches. Batches are made every two minutes for each authority with
waiting messages and never deleted (erased ones keep their row), so without it each scrape
would read the whole table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

UNACKNOWLEDGED = sa.text("acknowledged_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "batch_unacknowledged", "batch", ["authority_key", "created_at"],
        sqlite_where=UNACKNOWLEDGED, postgresql_where=UNACKNOWLEDGED,
    )


def downgrade() -> None:
    op.drop_index("batch_unacknowledged", table_name="batch")
