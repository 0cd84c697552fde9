"""School servers, more of what they own (docs/sync.md): each quiz question gets an identity
that survives reordering (its key within the quiz), hand-ins are stamped so a school pushes
them, and the city keeps answers to questions it deleted since (sync_set_aside).

No table is rebuilt (SQLite's rebuild would drop stamping triggers, and with foreign keys on,
dropping the old `questions` would delete the answers to it): columns are added, uniqueness is
a unique index.

Revision ID: 0006_syncdata
Revises: 0006_rollup
Create Date: 2026-12-06 21:00:00

"""
from alembic import op
import sqlalchemy as sa

import academy.core.db
from academy.sync import stamps


# revision identifiers, used by Alembic.
revision = '0006_syncdata'
down_revision = '0006_rollup'
branch_labels = None
depends_on = None

# Every existing question is named by its rank in its quiz ("q1", "q2", ...): the city and a
# school server that loaded the city's course folder hold the same questions in the same order,
# so both give each question the same key without talking to each other. New questions get
# random hex keys (models.new_question_key), which never start with "q".
_RANK = (
    "UPDATE questions SET key = 'q' || (SELECT count(*) FROM questions AS earlier "
    "WHERE earlier.quiz_id = questions.quiz_id AND (earlier.position < questions.position "
    "OR (earlier.position = questions.position AND earlier.id <= questions.id)))"
)


def upgrade():
    bind = op.get_bind()
    op.add_column('questions', sa.Column('key', sa.String(length=64), nullable=False,
                                         server_default=''))
    op.execute(_RANK)
    if bind.dialect.name == 'postgresql':
        op.alter_column('questions', 'key', server_default=None)
    op.create_index('ux_questions_quiz_key', 'questions', ['quiz_id', 'key'], unique=True)

    op.add_column('submissions', sa.Column('sync_seq', sa.BigInteger(), nullable=True))
    op.create_index(op.f('ix_submissions_sync_seq'), 'submissions', ['sync_seq'], unique=False)
    stamps.install(bind, ('submissions',))
    # On a school server that has joined: the hand-ins already there go in the next round, and
    # the periods already sent go again, now with their plan.
    op.execute("UPDATE submissions SET sync_seq = sync_seq")
    op.execute("UPDATE periods SET sync_seq = sync_seq")

    op.create_table('sync_set_aside',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('peer_id', sa.Integer(), nullable=False),
    sa.Column('table_name', sa.String(length=64), nullable=False),
    sa.Column('row_uuid', sa.String(length=36), nullable=False),
    sa.Column('question', sa.String(length=300), nullable=False),
    sa.Column('row', sa.JSON(), nullable=False),
    sa.Column('received_at', academy.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['peer_id'], ['sync_peers.id'], name=op.f('fk_sync_set_aside_peer_id_sync_peers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_set_aside')),
    sa.UniqueConstraint('table_name', 'row_uuid', 'question', name=op.f('uq_sync_set_aside_table_name_row_uuid_question'))
    )
    op.create_index(op.f('ix_sync_set_aside_peer_id'), 'sync_set_aside', ['peer_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_sync_set_aside_peer_id'), table_name='sync_set_aside')
    op.drop_table('sync_set_aside')
    stamps.uninstall(op.get_bind(), ('submissions',), functions=False)
    op.drop_index(op.f('ix_submissions_sync_seq'), table_name='submissions')
    op.drop_column('submissions', 'sync_seq')
    op.drop_index('ux_questions_quiz_key', table_name='questions')
    op.drop_column('questions', 'key')
