"""artifact sizes as 64-bit integers: a CVR export may be larger than 2 GiB

SQLite's INTEGER is already 64-bit; PostgreSQL's is 32-bit, so there the column widens.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("artifact", "size", type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("artifact", "size", type_=sa.Integer(), existing_nullable=False)
