"""certificates.pdf_link_base: the address printed in each stored PDF

Revision ID: 0002_sessions_certificate_links
Revises: 0002_sessions_user_sessions

PDFs stored before this migration have no recorded address (NULL): `flask academy
render-certificates --fix-links` renders them again with PUBLIC_BASE_URL, and any one left is
rendered again on its next download, with the address that request came to.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_sessions_certificate_links"
down_revision = "0002_sessions_user_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pdf_link_base", sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_column("pdf_link_base")
