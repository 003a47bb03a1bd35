"""cada boleta adicional, atada a una credencial de reserva de la sede para su entidad (#27)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "boletas_sede_entidad",
        sa.Column("proceso", sa.String(length=32), nullable=False),
        sa.Column("sede", sa.String(length=40), nullable=False),
        sa.Column("entidad", sa.String(length=2), nullable=False),
        sa.Column("tope", sa.Integer(), nullable=False),
        sa.Column("entregadas", sa.Integer(), nullable=False),
        sa.CheckConstraint("entregadas <= tope", name=op.f("ck_boletas_sede_entidad_tope")),
        sa.PrimaryKeyConstraint("proceso", "sede", "entidad", name=op.f("pk_boletas_sede_entidad")),
    )
    with op.batch_alter_table("boletas_adicionales") as batch:
        batch.add_column(
            sa.Column(
                "folio",
                sa.Integer(),
                nullable=True,
                comment="Su credencial de reserva en la sede para la entidad (1, 2, …)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("boletas_adicionales") as batch:
        batch.drop_column("folio")
    op.drop_table("boletas_sede_entidad")
