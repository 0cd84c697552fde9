"""periods: the computer-room period, its items and attendance (issue 14)

Revision ID: 0002_periods
Revises: 0002_sessions_certificate_links
"""

import sqlalchemy as sa
from alembic import op

import academy.core.db

revision = "0002_periods"
down_revision = "0002_sessions_certificate_links"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("teacher_id", sa.Integer(), nullable=True),
        sa.Column("follow_me", sa.Boolean(), nullable=False),
        sa.Column("current_position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("started_at", academy.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", academy.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", academy.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_periods_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_periods_room_id_rooms"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["users.id"],
            name=op.f("fk_periods_teacher_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_periods")),
    )
    op.create_index("ix_periods_class_started", "periods", ["class_id", "started_at"])
    op.create_index(
        "uq_periods_open_class",
        "periods",
        ["class_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "period_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=True),
        sa.Column("quiz_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_period_items_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["periods.id"],
            name=op.f("fk_period_items_period_id_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["quizzes.id"],
            name=op.f("fk_period_items_quiz_id_quizzes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_items")),
    )
    op.create_index(op.f("ix_period_items_period_id"), "period_items", ["period_id"])
    op.create_table(
        "period_attendance",
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", academy.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["periods.id"],
            name=op.f("fk_period_attendance_period_id_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_period_attendance_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_period_attendance_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("period_id", "user_id", name=op.f("pk_period_attendance")),
    )
    op.create_index(op.f("ix_period_attendance_user_id"), "period_attendance", ["user_id"])


def downgrade():
    op.drop_table("period_attendance")
    op.drop_table("period_items")
    op.drop_index("uq_periods_open_class", table_name="periods")
    op.drop_index("ix_periods_class_started", table_name="periods")
    op.drop_table("periods")
