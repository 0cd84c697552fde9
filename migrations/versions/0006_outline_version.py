"""courses.outline_version: a token the database renews whenever a module, lesson, quiz or
assignment of the course changes, and the triggers that renew it (academy/courses/
outline_cache.py): the learner's pages keep the outline by it.

Plain ADD / DROP COLUMN, no table rebuild: `courses` is the parent of most tables, and the
triggers name it. Courses are not stamped by the sync triggers (academy/sync/stamps.py), and no
stamped table is rebuilt here.

Revision ID: 0006_outline
Revises: 0005_phone_course_sources
"""

import sqlalchemy as sa
from alembic import op

from academy.courses import outline_cache

revision = "0006_outline"
down_revision = "0005_phone_course_sources"
branch_labels = None
depends_on = None

# As they were when this migration was written (not read from the models, which move on).
OUTLINE_TABLES = ("modules", "lessons", "quizzes", "assignments")


def upgrade():
    op.add_column(
        "courses",
        sa.Column("outline_version", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    outline_cache.install(op.get_bind(), OUTLINE_TABLES)


def downgrade():
    outline_cache.uninstall(op.get_bind(), OUTLINE_TABLES)
    op.drop_column("courses", "outline_version")
