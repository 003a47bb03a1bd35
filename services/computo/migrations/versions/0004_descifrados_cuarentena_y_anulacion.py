"""descifrados parciales: cuarentena y anulación (issue #22)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("descifrados_parciales", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "estado",
                sa.String(length=12),
                server_default="valido",
                nullable=False,
                comment="valido (se usa), cuarentena (su factor no combina con los demás) o anulado (por "
                "ine-admin)",
            )
        )
        batch_op.add_column(
            sa.Column("motivo", sa.Text(), nullable=True, comment="Por qué está en cuarentena o anulado")
        )
        batch_op.add_column(sa.Column("cambio_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("descifrados_parciales", schema=None) as batch_op:
        batch_op.drop_column("cambio_at")
        batch_op.drop_column("motivo")
        batch_op.drop_column("estado")
