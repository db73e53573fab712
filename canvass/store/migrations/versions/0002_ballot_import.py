"""ballot imports and ballot manifests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ballot_import",
        sa.Column("entry", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("county", sa.String(), nullable=False),
        sa.Column("format", sa.String(), nullable=False),
        sa.Column("cards", sa.Integer(), nullable=False),
        sa.Column("sources_sha256", sa.String(length=64), nullable=False),
        sa.Column("definition_sha256", sa.String(length=64), nullable=False),
        sa.Column("table_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("entry"),
    )

    op.create_table(
        "manifest_batch",
        sa.Column("entry", sa.Integer(), nullable=False),
        sa.Column("county", sa.String(), nullable=False),
        sa.Column("tabulator", sa.String(), nullable=False),
        sa.Column("batch", sa.String(), nullable=False),
        sa.Column("cards", sa.Integer(), nullable=False),
        sa.Column("container", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("entry", "tabulator", "batch"),
    )


def downgrade() -> None:
    op.drop_table("manifest_batch")
    op.drop_table("ballot_import")
