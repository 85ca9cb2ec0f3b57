"""Jurisdictions: the place each prediction found, and the one an admin's decision gives.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-15
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # nullable: no place found, no correction, or stored before jurisdictions existed
    with op.batch_alter_table("predictions") as batch:
        batch.add_column(sa.Column("jurisdiction", sa.String(), nullable=True))
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("jurisdiction", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("jurisdiction")
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("jurisdiction")
