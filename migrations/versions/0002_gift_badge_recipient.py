"""certificates: the identity a learner claims the Open Badge with

Revision ID: 0002_gift_badge_recipient
Revises: 0001
Create Date: 2026-12-04 19:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0002_gift_badge_recipient"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("badge_recipient_type", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("badge_recipient", sa.String(length=320), nullable=True))


def downgrade():
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("badge_recipient")
        batch.drop_column("badge_recipient_type")
