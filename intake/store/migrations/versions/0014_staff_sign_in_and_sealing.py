"""staff sign-in (password change, TOTP, recovery codes, throttling, authority bindings) and
authority public keys for sealed batches

Revision ID: 0014
Revises: 0013
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_COLUMNS: dict[str, list[sa.Column[Any]]] = {
    "staff_user": [
        sa.Column("password_set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_secret", sa.Text(), nullable=True),
        sa.Column("totp_pending", sa.Text(), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
    ],
    "staff_session": [
        sa.Column("stage", sa.String(20), nullable=False, server_default="ready"),
    ],
    "authority": [
        sa.Column("public_key", sa.Text(), nullable=True),
        sa.Column("public_key_thumbprint", sa.String(64), nullable=True),
    ],
    "batch": [sa.Column("sealed_to", sa.String(64), nullable=True)],
}


def upgrade() -> None:
    for table, columns in _COLUMNS.items():
        for column in columns:
            op.add_column(table, column)
    # Sessions open at the upgrade were signed in with a password alone: they end, and the
    # next sign-in walks the new stages (a one-time password replaced, a second factor).
    op.execute("UPDATE staff_session SET ended_at = CURRENT_TIMESTAMP WHERE ended_at IS NULL")
    op.create_table(
        "staff_authority",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("staff_user.id"), primary_key=True),
        sa.Column("authority_key", sa.String(6), sa.ForeignKey("authority.key"),
                  primary_key=True),
    )
    op.create_table(
        "recovery_code",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=False,
                  index=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("sign_in_throttle", "recovery_code", "staff_authority"):
        op.drop_table(table)
    # Plain SQL: SQLite (3.35 and later) drops a column in place (see 0011).
    for table, columns in _COLUMNS.items():
        for column in columns:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")
