"""certificates.name_hidden: the learner may hide their name from the public verify page

Revision ID: 0003_phones
Revises: 0002_periods
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_phones"
down_revision = "0002_periods"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificates") as batch_op:
        batch_op.add_column(
            sa.Column("name_hidden", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("certificates") as batch_op:
        batch_op.drop_column("name_hidden")
