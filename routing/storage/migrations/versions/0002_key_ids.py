"""The API key id (never the key) that made each prediction and each decision.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # rows stored before this revision keep no key id (null): the access log had it
    op.add_column("predictions", sa.Column("key_id", sa.String(64), nullable=True))
    op.add_column("feedback", sa.Column("key_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("key_id")
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("key_id")
