"""audit-board members' signatures waiting for the others; passkeys and their challenges

Revision ID: a0002
Revises: a0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a0002"
down_revision: str | None = "a0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reading_signature",
        sa.Column("audit", sa.String(64), primary_key=True),
        sa.Column("board", sa.String(128), primary_key=True),
        sa.Column("item", sa.String(255), primary_key=True),
        sa.Column("contest", sa.String(128), primary_key=True),
        sa.Column("member", sa.String(64), primary_key=True),
        sa.Column("statement_sha256", sa.String(64), nullable=False),
        sa.Column("reading", sa.Text, nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.Column("signed_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "passkey",
        sa.Column("credential_id", sa.String(1024), primary_key=True),
        sa.Column("account", sa.Integer, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("sign_count", sa.Integer, nullable=False),
        sa.Column("added_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "passkey_challenge",
        sa.Column("session_sha256", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(16), primary_key=True),
        sa.Column("challenge", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    for table in ("passkey_challenge", "passkey", "reading_signature"):
        op.drop_table(table)
