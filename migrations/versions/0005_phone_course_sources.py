"""course sources: the files of a loaded course folder, given back by the export

Revision ID: 0005_phone_course_sources
Revises: 0002_assignments
Create Date: 2026-12-04 22:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_phone_course_sources'
down_revision = '0005_sync_identity'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('course_sources',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('written_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_sources_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('course_id', 'kind', 'key', name=op.f('pk_course_sources'))
    )


def downgrade():
    op.drop_table('course_sources')
