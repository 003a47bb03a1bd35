"""la modalidad presencial: la sede consular donde vota la persona, y cuántas votan así al cierre (#27)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("solicitudes") as batch:
        batch.add_column(sa.Column("sede", sa.String(length=40), nullable=True, comment="voto presencial"))
    with op.batch_alter_table("cierres_lnere") as batch:
        batch.add_column(sa.Column("presencial", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("cierres_lnere") as batch:
        batch.drop_column("presencial")
    with op.batch_alter_table("solicitudes") as batch:
        batch.drop_column("sede")
