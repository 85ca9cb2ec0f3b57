"""Predictions and feedback.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("complaint_id", sa.String(), nullable=True),
        sa.Column("text_masked", sa.Text(), nullable=True),
        sa.Column("text_purged", sa.Boolean(), nullable=False),
        sa.Column("suggestions", sa.JSON(), nullable=False),
        sa.Column("top_agency", sa.String(), nullable=False),
        sa.Column("top_confidence", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("model_version", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_predictions"),
    )
    op.create_index("ix_predictions_created_at", "predictions", ["created_at"])
    op.create_index("ix_predictions_complaint_id", "predictions", ["complaint_id"])
    op.create_index("ix_predictions_top_agency", "predictions", ["top_agency"])
    op.create_index("ix_predictions_model_version", "predictions", ["model_version"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("prediction_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("new_agency", sa.Boolean(), nullable=False),
        sa.Column("admin", sa.String(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["prediction_id"],
            ["predictions.id"],
            name="fk_feedback_prediction_id_predictions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
    )
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])
    op.create_index(
        "ix_feedback_prediction_id_created_at", "feedback", ["prediction_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("predictions")
