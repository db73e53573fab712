"""the accounts as they were first kept: accounts, invitations, sessions, key requests,
one-time codes used, the access log

Revision ID: a0001
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "invitation",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("account", sa.Integer, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("used_at", sa.String(32)),
    )
    op.create_table(
        "web_session",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("account", sa.Integer, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("second_factor", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("ended_at", sa.String(32)),
    )
    op.create_table(
        "key_request",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account", sa.Integer, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("vkey", sa.Text, nullable=False),
        sa.Column("key_role", sa.String(32), nullable=False),
        sa.Column("requested_at", sa.String(32), nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", sa.String(32)),
        sa.Column("decision", sa.String(16)),
        sa.Column("log_entry", sa.Integer),
    )
    op.create_table(
        "one_time_code",
        sa.Column("account", sa.Integer, sa.ForeignKey("account.id"), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True),
        sa.Column("used_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("previous_sha256", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "access_log",
        "one_time_code",
        "key_request",
        "web_session",
        "invitation",
        "account",
    ):
        op.drop_table(table)
