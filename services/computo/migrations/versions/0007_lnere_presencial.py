"""la LNERE de cada entidad cuenta también a quienes votan en persona: el acta lo dice (#27)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 17:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lnere") as batch:
        batch.add_column(sa.Column("presencial", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("lnere") as batch:
        batch.drop_column("presencial")
