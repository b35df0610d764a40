"""mails owed to applicants (confirmation, lost link), and the e-mail blind index that finds
a registration by its address

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_PENDING = "sent_at IS NULL AND failed_at IS NULL"


def upgrade() -> None:
    # Registrations stored before have no index: the lost-link page does not find them.
    op.add_column("registration", sa.Column("email_index", sa.String(64), nullable=True))
    op.create_index("ix_registration_email_index", "registration", ["email_index"])
    op.create_table(
        "mail",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("registration_id", sa.String(32), sa.ForeignKey("registration.id"),
                  nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
    )
    op.create_index(
        "mail_pending", "mail", ["enqueued_at", "id"],
        sqlite_where=sa.text(_PENDING), postgresql_where=sa.text(_PENDING),
    )


def downgrade() -> None:
    op.drop_index("mail_pending", table_name="mail")
    op.drop_table("mail")
    op.drop_index("ix_registration_email_index", table_name="registration")
    # Plain SQL: SQLite (3.35 and later) drops a column in place (see 0011).
    op.execute("ALTER TABLE registration DROP COLUMN email_index")
