"""las boletas adicionales de cada sede consular: el tope por sede y una boleta por clave de elector (#27)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "boletas_sede",
        sa.Column("proceso", sa.String(length=32), nullable=False),
        sa.Column("sede", sa.String(length=40), nullable=False),
        sa.Column("tope", sa.Integer(), nullable=False),
        sa.Column("entregadas", sa.Integer(), nullable=False),
        sa.CheckConstraint("entregadas <= tope", name=op.f("ck_boletas_sede_tope")),
        sa.PrimaryKeyConstraint("proceso", "sede", name=op.f("pk_boletas_sede")),
    )
    op.create_table(
        "boletas_adicionales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proceso", sa.String(length=32), nullable=False),
        sa.Column("sede", sa.String(length=40), nullable=False),
        sa.Column("entidad", sa.String(length=2), nullable=False, comment="la de la credencial: da la boleta"),
        sa.Column("clave_elector", sa.Text(), nullable=False),
        sa.Column(
            "clave_elector_indice",
            sa.String(length=64),
            nullable=False,
            comment="HMAC-SHA256 de la clave de elector: una boleta por persona",
        ),
        sa.Column("entregada_por", sa.String(length=200), nullable=False),
        sa.Column("entregada_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boletas_adicionales")),
        sa.UniqueConstraint(
            "proceso", "clave_elector_indice", name=op.f("uq_boletas_adicionales_proceso_clave_elector_indice")
        ),
    )


def downgrade() -> None:
    op.drop_table("boletas_adicionales")
    op.drop_table("boletas_sede")
