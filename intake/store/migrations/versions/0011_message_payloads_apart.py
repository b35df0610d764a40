"""message payloads in a table of their own, and erasure marked on the message

Giving messages their batch rewrites their rows; on SQLite a row is rewritten whole, its
payload too, while registrations wait for the one write lock.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WAITING_BEFORE = sa.text("batch_id IS NULL AND payload IS NOT NULL")
WAITING = sa.text("batch_id IS NULL AND erased_at IS NULL")
COLUMNS = ["authority_key", "created_at", "id"]


def upgrade() -> None:
    op.create_table(
        "message_payload",
        sa.Column("message_id", sa.String(32), sa.ForeignKey("message.id"), primary_key=True),
        sa.Column("payload", sa.Text(), nullable=False),
    )
    op.add_column("message", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "INSERT INTO message_payload (message_id, payload)"
        " SELECT id, payload FROM message WHERE payload IS NOT NULL"
    )
    # A payload was emptied only by erasing its registration, which records when.
    op.execute(
        "UPDATE message SET erased_at = (SELECT COALESCE(registration.erased_at,"
        " CURRENT_TIMESTAMP) FROM registration WHERE registration.id = message.registration_id)"
        " WHERE payload IS NULL"
    )
    op.drop_index("message_waiting", table_name="message")
    # Plain SQL: SQLite (3.35 and later) drops a column in place, where Alembic's batch mode
    # would copy the table, which message_payload's foreign key forbids.
    op.execute("ALTER TABLE message DROP COLUMN payload")
    op.create_index("message_waiting", "message", COLUMNS,
                    sqlite_where=WAITING, postgresql_where=WAITING)


def downgrade() -> None:
    op.drop_index("message_waiting", table_name="message")
    op.add_column("message", sa.Column("payload", sa.Text(), nullable=True))
    op.execute(
        "UPDATE message SET payload = (SELECT payload FROM message_payload"
        " WHERE message_payload.message_id = message.id)"
    )
    op.execute("ALTER TABLE message DROP COLUMN erased_at")
    op.drop_table("message_payload")
    op.create_index("message_waiting", "message", COLUMNS,
                    sqlite_where=WAITING_BEFORE, postgresql_where=WAITING_BEFORE)
