"""probadores de los simulacros: la lista que carga ine-admin, fuera de la LNERE (#27)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 22:30:00
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
        "probadores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proceso", sa.String(length=32), nullable=False),
        sa.Column(
            "entidad", sa.String(length=2), nullable=False, comment="la de los simulacros en que participa"
        ),
        sa.Column("nombre", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column(
            "email_indice",
            sa.String(length=64),
            nullable=False,
            comment="HMAC-SHA256 del correo: una cuenta de prueba por persona",
        ),
        sa.Column("telefono", sa.Text(), nullable=False),
        sa.Column("cargado_por", sa.String(length=200), nullable=False),
        sa.Column("cargado_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probadores")),
        sa.UniqueConstraint("proceso", "email_indice", name=op.f("uq_probadores_proceso_email_indice")),
    )


def downgrade() -> None:
    op.drop_table("probadores")
