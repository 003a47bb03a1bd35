"""candidaturas: las candidaturas de cada boleta, cargadas por el OPL y aprobadas por INE (issue #27)

Una fila por boleta (ámbito: la entidad, o «nacional» para la Presidencia, y cargo): la lista en orden de la
boleta, su huella, quién la cargó y quién la aprobó. Aprobada, la boleta queda fija y su huella entra en la
configuración de cada elección al abrirla.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "candidaturas",
        sa.Column("ambito", sa.String(length=8), nullable=False),
        sa.Column("cargo", sa.String(length=64), nullable=False),
        sa.Column("lista", sa.JSON(), nullable=False),
        sa.Column("huella", sa.String(length=64), nullable=False),
        sa.Column("capturada_por", sa.String(length=200), nullable=False),
        sa.Column("capturada_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("aprobada_por", sa.String(length=200), nullable=True),
        sa.Column("aprobada_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("ambito", "cargo", name=op.f("pk_candidaturas")),
    )


def downgrade() -> None:
    op.drop_table("candidaturas")
