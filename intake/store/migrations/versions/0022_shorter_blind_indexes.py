"""blind indexes of 128 bits, and no second index on person.registration_id

Revision ID: 0022
Revises: 0021

A million registrations should take under 4 KB each (issue #29). Blind indexes kept 256
bits of their HMAC as 64 hex digits, in the row and again in its index: three a person and
one a registration. 128 bits find the same rows (crypto.STORED_INDEX_CHARS says why), and
an index is cut to its first 32 digits without decrypting anyone, since the service now
writes those digits. The index on person.registration_id repeated the unique index on
(registration_id, position), which finds a household's persons as well.
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

CUT = {"person": ("name_index", "family_index", "document_index"),
       "registration": ("email_index",)}


def upgrade() -> None:
    op.drop_index("ix_person_registration_id", table_name="person")
    for table, columns in CUT.items():
        for column in columns:
            op.execute(f"UPDATE {table} SET {column} = substr({column}, 1, 32) "  # noqa: S608
                       f"WHERE length({column}) > 32")


def downgrade() -> None:
    # The cut digits cannot come back; indexes of 32 digits still find what they found.
    op.create_index("ix_person_registration_id", "person", ["registration_id"])
