"""voto presencial (#27): votantes de una sede consular (sin contacto ni acceso propio), su credencial sellada a
la clave de la sede, y los turnos que el personal de la sede abre en un módulo

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("votantes") as batch:
        batch.alter_column("email", existing_type=sa.Text(), nullable=True)
        batch.alter_column("telefono", existing_type=sa.Text(), nullable=True)
        batch.add_column(sa.Column("sede", sa.String(length=40), nullable=True, comment="voto presencial"))
    with op.batch_alter_table("credenciales") as batch:
        batch.add_column(
            sa.Column(
                "sellada",
                sa.Text(),
                nullable=True,
                comment="Voto presencial: la privada, sellada a la clave de la sede",
            )
        )
    op.create_table(
        "turnos",
        sa.Column("codigo_hash", sa.String(length=64), nullable=False),
        sa.Column("votante_id", sa.Integer(), nullable=False),
        sa.Column("sede", sa.String(length=40), nullable=False),
        sa.Column("abierto_por", sa.String(length=200), nullable=False, comment="sub del personal de la sede"),
        sa.Column("expira_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["votante_id"], ["votantes.id"], name=op.f("fk_turnos_votante_id_votantes")),
        sa.PrimaryKeyConstraint("codigo_hash", name=op.f("pk_turnos")),
        sa.UniqueConstraint("votante_id", name=op.f("uq_turnos_votante_id")),
    )


def downgrade() -> None:
    op.drop_table("turnos")
    with op.batch_alter_table("credenciales") as batch:
        batch.drop_column("sellada")
    with op.batch_alter_table("votantes") as batch:
        batch.drop_column("sede")
        batch.alter_column("telefono", existing_type=sa.Text(), nullable=False)
        batch.alter_column("email", existing_type=sa.Text(), nullable=False)
