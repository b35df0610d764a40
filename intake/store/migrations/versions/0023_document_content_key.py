"""document: content_key, a key of its own for each document's content

Revision ID: 0023
Revises: 0022

A document's content is sealed with a random key, kept in its row under the data key
(documents.store): rotation seals the key again, not the content, and a deleted row takes
the only key to its content along. Documents stored before have none (NULL): their content
is sealed with the data key itself and stays readable, rotated and deleted as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("document", sa.Column("content_key", sa.Text(), nullable=True))


def downgrade() -> None:
    # Documents with a key of their own cannot be read without it: a downgrade past this
    # revision would lose them, and is refused while there are any.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM document WHERE content_key IS NOT NULL LIMIT 1")
                    ).first() is not None:
        raise RuntimeError("documents sealed with keys of their own are stored: "
                           "downgrading past 0023 would make them unreadable")
    # Plain SQL: SQLite (3.35 and later) drops a column in place (see 0011).
    op.execute("ALTER TABLE document DROP COLUMN content_key")
