"""voto presencial (#27): votantes de una sede consular (sin contacto; sus credenciales van selladas a la clave
de la sede) y cuántos hay al cierre de la LNERE

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("votantes") as batch:
        batch.alter_column("email", existing_type=sa.Text(), nullable=True)
        batch.alter_column("telefono", existing_type=sa.Text(), nullable=True)
        batch.add_column(sa.Column("sede", sa.String(length=40), nullable=True, comment="voto presencial"))
    with op.batch_alter_table("cierres") as batch:
        batch.add_column(sa.Column("presencial", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("cierres") as batch:
        batch.drop_column("presencial")
    with op.batch_alter_table("votantes") as batch:
        batch.drop_column("sede")
        batch.alter_column("telefono", existing_type=sa.Text(), nullable=False)
        batch.alter_column("email", existing_type=sa.Text(), nullable=False)
