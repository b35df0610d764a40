"""slot: closed, for a booked slot kept when the opening hours change

Revision ID: 0020
Revises: 0019

Staff change an authority's opening hours and closures in the desk (or `intake authorities
hours import`); the booking window's slots follow. A slot with bookings is never deleted: it
is kept, closed to further bookings, until its households cancel or come. Slots stored before
are open, as they were.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "slot", sa.Column("closed", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    # Plain SQL: SQLite (3.35 and later) drops a column in place (see 0011).
    op.execute("ALTER TABLE slot DROP COLUMN closed")
