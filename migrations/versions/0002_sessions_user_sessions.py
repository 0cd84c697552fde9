"""user_sessions: one row per signed-in browser, so signing out ends the session on the server

Revision ID: 0002_sessions_user_sessions
Revises: 0002_gift_badge_recipient

Cookies made before this migration carry no session token and are refused: everyone signs in
once more after the upgrade.
"""

import sqlalchemy as sa
from alembic import op

import academy.core.db

revision = "0002_sessions_user_sessions"
down_revision = "0002_gift_badge_recipient"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", academy.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_created_at"), ["created_at"])
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"])


def downgrade():
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_user_sessions_created_at"))
    op.drop_table("user_sessions")
