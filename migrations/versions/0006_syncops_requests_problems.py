"""sync: changes asked of a school server (sync_requests at the city, sync_requests_done at the
school), and the last error kept as a message id with its values (last_problem) to translate

Revision ID: 0006_syncops
Revises: 0006_syncdata
Create Date: 2026-12-06 21:00:00

Neither table is stamped and sync_peers / sync_link carry no sync triggers, so the SQLite
rebuild of the downgrade needs no `academy.sync.stamps.install`.
"""
from alembic import op
import sqlalchemy as sa

import academy.core.db


# revision identifiers, used by Alembic.
revision = '0006_syncops'
down_revision = '0006_syncdata'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sync_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('peer_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('account', sa.String(length=250), nullable=False),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('asked_by', sa.String(length=100), nullable=True),
    sa.Column('answered_at', academy.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.JSON(), nullable=True),
    sa.Column('created_at', academy.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['peer_id'], ['sync_peers.id'], name=op.f('fk_sync_requests_peer_id_sync_peers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sync_requests_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_requests')),
    sa.UniqueConstraint('uuid', name=op.f('uq_sync_requests_uuid'))
    )
    with op.batch_alter_table('sync_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_requests_peer_id'), ['peer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_requests_user_id'), ['user_id'], unique=False)

    op.create_table('sync_requests_done',
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.JSON(), nullable=True),
    sa.Column('done_at', academy.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('uuid', name=op.f('pk_sync_requests_done'))
    )
    # Plain ADD COLUMN on both databases: no table rebuild.
    op.add_column('sync_peers', sa.Column('last_problem', sa.JSON(), nullable=True))
    op.add_column('sync_link', sa.Column('last_problem', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('sync_link', schema=None) as batch_op:
        batch_op.drop_column('last_problem')
    with op.batch_alter_table('sync_peers', schema=None) as batch_op:
        batch_op.drop_column('last_problem')
    op.drop_table('sync_requests_done')
    with op.batch_alter_table('sync_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_requests_user_id'))
        batch_op.drop_index(batch_op.f('ix_sync_requests_peer_id'))
    op.drop_table('sync_requests')
