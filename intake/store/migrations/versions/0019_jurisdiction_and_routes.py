"""jurisdiction: districts, municipalities, the places of postal codes, who serves which
area, and the routes made from them

Revision ID: 0019
Revises: 0018

Registrations are routed by `postal_route` from now on. The postal codes routed so far
(`postal_code`, one authority each) become its rows here, so that a database upgraded
routes as before until the operator imports the jurisdiction data.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "district",
        sa.Column("key", sa.String(5), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
    )
    op.create_table(
        "municipality",
        sa.Column("key", sa.String(8), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
    )
    op.create_table(
        "postal_code_place",
        sa.Column("postal_code", sa.String(5), primary_key=True),
        sa.Column("municipality_key", sa.String(8), primary_key=True),
        sa.Column("place_name", sa.Text(), nullable=False),
    )
    op.create_table(
        "jurisdiction",
        sa.Column("official_key", sa.String(8), primary_key=True),
        sa.Column("authority_key", sa.String(6), sa.ForeignKey("authority.key"),
                  nullable=False),
    )
    op.create_table(
        "postal_route",
        sa.Column("postal_code", sa.String(5), primary_key=True),
        sa.Column("municipality_key", sa.String(8), primary_key=True),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("authority_key", sa.String(6), sa.ForeignKey("authority.key"),
                  nullable=True),
    )
    op.execute(
        "INSERT INTO postal_route (postal_code, municipality_key, place, authority_key) "
        "SELECT code, '', '', authority_key FROM postal_code"
    )


def downgrade() -> None:
    for name in ("postal_route", "jurisdiction", "postal_code_place", "municipality",
                 "district"):
        op.drop_table(name)
