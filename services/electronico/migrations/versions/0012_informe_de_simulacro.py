"""informe de simulacro (#27): el inicio de cada sesión y de la que emitió cada boleta (el tiempo para votar),
y los errores de cada simulacro por motivo y hora

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 22:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sesiones") as batch:
        batch.add_column(sa.Column("creada_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("boletas") as batch:
        batch.add_column(
            sa.Column(
                "sesion_at",
                sa.DateTime(timezone=True),
                nullable=True,
                comment="Inicio de la sesión que la emitió: el tiempo para votar",
            )
        )
    op.create_table(
        "errores_simulacro",
        sa.Column("eleccion", sa.String(length=32), nullable=False),
        sa.Column("motivo", sa.String(length=40), nullable=False, comment="El tipo del problema"),
        sa.Column("hora", sa.DateTime(timezone=True), nullable=False),
        sa.Column("veces", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["eleccion"], ["elecciones.uuid"], name=op.f("fk_errores_simulacro_eleccion_elecciones")
        ),
        sa.PrimaryKeyConstraint("eleccion", "motivo", "hora", name=op.f("pk_errores_simulacro")),
    )


def downgrade() -> None:
    op.drop_table("errores_simulacro")
    with op.batch_alter_table("boletas") as batch:
        batch.drop_column("sesion_at")
    with op.batch_alter_table("sesiones") as batch:
        batch.drop_column("creada_at")
