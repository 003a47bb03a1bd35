"""la LNERE cerrada también cuenta a quienes votan en persona, y por sede consular (#27)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lnere") as batch:
        batch.add_column(sa.Column("presencial", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("por_sede", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("lnere") as batch:
        batch.drop_column("por_sede")
        batch.drop_column("presencial")
