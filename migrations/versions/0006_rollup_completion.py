"""The completion reports' rollup (docs/reports.md): report_completion (pairs per class,
learner's school and course) and report_learners (each learner's pairs per report group), the
triggers that keep them, and their first filling from the existing rows.

Revision ID: 0006_rollup
Revises: 0006_outline
Create Date: 2026-12-06 21:00:00

"""
from alembic import op
import sqlalchemy as sa

from academy.reports import rollup


# revision identifiers, used by Alembic.
revision = '0006_rollup'
down_revision = '0006_outline'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_completion',
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('enrolled', sa.Integer(), nullable=False),
    sa.Column('started', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_report_completion_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('class_id', 'school_id', 'course_id', name=op.f('pk_report_completion'))
    )
    with op.batch_alter_table('report_completion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_completion_course_id'), ['course_id'], unique=False)

    op.create_table('report_learners',
    sa.Column('dimension', sa.String(length=12), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pairs', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_report_learners_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dimension', 'group_id', 'user_id', name=op.f('pk_report_learners'))
    )
    with op.batch_alter_table('report_learners', schema=None) as batch_op:
        batch_op.create_index('ix_report_learners_dimension_school', ['dimension', 'school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_learners_user_id'), ['user_id'], unique=False)

    bind = op.get_bind()
    rollup.install(bind)
    rollup.rebuild(bind)


def downgrade():
    rollup.uninstall(op.get_bind())
    with op.batch_alter_table('report_learners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_learners_user_id'))
        batch_op.drop_index('ix_report_learners_dimension_school')
    op.drop_table('report_learners')
    with op.batch_alter_table('report_completion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_completion_course_id'))
    op.drop_table('report_completion')
