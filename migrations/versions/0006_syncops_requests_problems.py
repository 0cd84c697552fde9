"""sync: the last error kept as a message id with its values (last_problem), to translate it

Revision ID: 0006_syncops
Revises: 0005_phone_course_sources
Create Date: 2026-12-06 21:00:00

sync_peers and sync_link carry no sync triggers, so the SQLite rebuild of the downgrade
needs no `academy.sync.stamps.install`.
"""
from alembic import op
import sqlalchemy as sa

import academy.core.db


# revision identifiers, used by Alembic.
revision = '0006_syncops'
down_revision = '0005_phone_course_sources'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases: no table rebuild.
    op.add_column('sync_peers', sa.Column('last_problem', sa.JSON(), nullable=True))
    op.add_column('sync_link', sa.Column('last_problem', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('sync_link', schema=None) as batch_op:
        batch_op.drop_column('last_problem')
    with op.batch_alter_table('sync_peers', schema=None) as batch_op:
        batch_op.drop_column('last_problem')
