"""message: the size of its stored payload, which bounds batch files by bytes

Revision ID: 0018
Revises: 0017

Batches are bounded by their file's bytes (INTAKE_BATCH_MAX_BYTES); a message's share is its
stored payload's length. Kept beside the message so that assembling a batch does not read
every waiting payload (hundreds of megabytes) to count it. Rows stored before stay NULL:
batches.assemble then takes the payload's length, as it did.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("message", sa.Column("stored_bytes", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain SQL: SQLite (3.35 and later) drops a column in place (see 0011).
    op.execute("ALTER TABLE message DROP COLUMN stored_bytes")
