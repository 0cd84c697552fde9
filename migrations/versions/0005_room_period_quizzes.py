"""quizzes.period_only and the opening of a quiz in a period (issue 14: quizzes in the period)

Revision ID: 0005_room_period_quizzes
Revises: 0002_assignments
"""

import sqlalchemy as sa
from alembic import op

import academy.core.db

revision = "0005_room_period_quizzes"
down_revision = "0002_assignments"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("quizzes") as batch_op:
        batch_op.add_column(
            sa.Column("period_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("period_items") as batch_op:
        batch_op.add_column(
            sa.Column("opened_at", academy.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("closed_at", academy.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("start_code", sa.String(length=4), nullable=True))


def downgrade():
    with op.batch_alter_table("period_items") as batch_op:
        batch_op.drop_column("start_code")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("opened_at")
    with op.batch_alter_table("quizzes") as batch_op:
        batch_op.drop_column("period_only")
