"""replaced imports: a recount or corrected export replaces a county's earlier CVRs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ballot_import") as batch:
        batch.add_column(sa.Column("replaced_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ballot_import") as batch:
        batch.drop_column("replaced_by")
