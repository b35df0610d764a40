"""documents: pages of identity documents, proofs and the summary, their content encrypted
in document_blob or an object store

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("registration_id", sa.String(32), sa.ForeignKey("registration.id"),
                  nullable=True, index=True),
        sa.Column("draft_id", sa.String(32), sa.ForeignKey("draft.id"), nullable=True,
                  index=True),
        sa.Column("person_position", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("location", sa.String(10), nullable=False),
        sa.Column("blob_key", sa.String(32), nullable=True, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(registration_id IS NULL) <> (draft_id IS NULL)",
                           name="document_one_owner"),
    )
    op.create_table(
        "document_blob",
        sa.Column("document_id", sa.String(32), sa.ForeignKey("document.id"),
                  primary_key=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("document_blob")
    op.drop_table("document")
