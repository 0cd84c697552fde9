"""School servers (docs/sync.md): a UUID beside the integer key of every row that travels
between servers (every existing row gets one), the change sequence column and its triggers on
the tables a school pushes, and what each side remembers about the other.

Revision ID: 0005_sync_identity
Revises: 0002_assignments
Create Date: 2026-12-04 21:42:59.500440

"""
from alembic import op
import sqlalchemy as sa

import academy.core.db
from academy.sync import stamps


# revision identifiers, used by Alembic.
revision = '0005_sync_identity'
down_revision = '0005_coach'
branch_labels = None
depends_on = None

# As they were when this migration was written (not read from the models, which move on).
STAMPED_TABLES = (
    'users', 'classes', 'class_instructors', 'class_members', 'class_courses', 'enrolments',
    'progress_events', 'learner_month_activity', 'lesson_progress', 'quiz_results',
    'course_progress', 'attempts', 'responses', 'certificates', 'periods', 'period_attendance',
)
UUID_TABLES = (
    'users', 'schools', 'classes', 'progress_events', 'attempts', 'responses', 'certificates',
    'periods',
)
# A random (version 4) UUID in SQLite's own SQL.
_SQLITE_UUID4 = (
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || "
    "substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
    "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
)


def upgrade():
    op.create_table('sync_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('stamping', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_counter'))
    )
    op.create_table('sync_tombstones',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('table_name', sa.String(length=64), nullable=False),
    sa.Column('key', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_sync_tombstones'))
    )
    op.create_table('sync_courses',
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('pulled_at', academy.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', academy.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('slug', name=op.f('pk_sync_courses'))
    )
    op.create_table('sync_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_url', sa.String(length=300), nullable=False),
    sa.Column('peer_uuid', sa.String(length=36), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('city_version', sa.String(length=32), nullable=False),
    sa.Column('joined_at', academy.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_round_at', academy.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_pushed', sa.Integer(), nullable=False),
    sa.Column('last_pulled', sa.Integer(), nullable=False),
    sa.Column('city_mark', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_sync_link_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_link'))
    )
    op.create_table('sync_peers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', academy.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('joined_at', academy.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', academy.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pushed_seq', sa.BigInteger(), nullable=False),
    sa.Column('school_version', sa.String(length=32), nullable=True),
    sa.Column('last_round_at', academy.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', academy.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_sync_peers_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_peers')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sync_peers_token_hash')),
    sa.UniqueConstraint('uuid', name=op.f('uq_sync_peers_uuid'))
    )
    with op.batch_alter_table('sync_peers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_peers_school_id'), ['school_id'], unique=False)

    op.create_table('sync_accounts',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('peer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['peer_id'], ['sync_peers.id'], name=op.f('fk_sync_accounts_peer_id_sync_peers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sync_accounts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_sync_accounts'))
    )
    with op.batch_alter_table('sync_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_accounts_peer_id'), ['peer_id'], unique=False)

    for table in STAMPED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('sync_seq', sa.BigInteger(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_sync_seq'), ['sync_seq'], unique=False)
    bind = op.get_bind()
    for table in UUID_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('uuid', sa.String(length=36), nullable=True))
        # Every existing row gets its identity in SQL (a million progress events in seconds).
        if bind.dialect.name == 'postgresql':
            op.execute(f"UPDATE {table} SET uuid = gen_random_uuid()::text")
        else:
            op.execute(f"UPDATE {table} SET uuid = {_SQLITE_UUID4}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('uuid', existing_type=sa.String(length=36), nullable=False)
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_uuid'), ['uuid'])
    stamps.install(bind, STAMPED_TABLES)


def downgrade():
    stamps.uninstall(op.get_bind(), STAMPED_TABLES)
    for table in UUID_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_uuid'), type_='unique')
            batch_op.drop_column('uuid')
    for table in STAMPED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_sync_seq'))
            batch_op.drop_column('sync_seq')
    with op.batch_alter_table('sync_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_accounts_peer_id'))
    op.drop_table('sync_accounts')
    with op.batch_alter_table('sync_peers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_peers_school_id'))
    op.drop_table('sync_peers')
    op.drop_table('sync_link')
    op.drop_table('sync_courses')
    op.drop_table('sync_tombstones')
    op.drop_table('sync_counter')
