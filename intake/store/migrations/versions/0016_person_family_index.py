"""person: a blind index of the family name and the date of birth, so that the desk finds
a person by the family name alone

Revision ID: 0016
Revises: 0015

The index is a keyed hash of the decrypted name, and a migration has neither the data key
nor the index key: the rows stored before stay without it here. `intake db upgrade` fills
it after migrating (store.blind_index.fill_missing), as it does whenever it runs.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("person", sa.Column("family_index", sa.String(64), nullable=True))
    op.create_index("ix_person_family_index", "person", ["family_index"])


def downgrade() -> None:
    op.drop_index("ix_person_family_index", table_name="person")
    # Plain SQL: SQLite (3.35 and later) drops a column in place (see 0011).
    op.execute("ALTER TABLE person DROP COLUMN family_index")
