"""candidaturas_boleta: los nombres de las candidaturas aprobadas de cada boleta, para el acta (issue #27)

Llegan con la apertura de cada elección (electronico); el acta de cómputo pone junto a cada candidatura el nombre
de la persona.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 12:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "candidaturas_boleta",
        sa.Column("entidad", sa.String(length=2), nullable=False),
        sa.Column("cargo", sa.String(length=64), nullable=False),
        sa.Column("lista", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("entidad", "cargo", name=op.f("pk_candidaturas_boleta")),
    )


def downgrade() -> None:
    op.drop_table("candidaturas_boleta")
