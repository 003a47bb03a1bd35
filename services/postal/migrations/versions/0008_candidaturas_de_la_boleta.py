"""las candidaturas aprobadas de cada boleta, para imprimir la boleta postal con los nombres (#27)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 15:00:00
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
        "candidaturas_boleta",
        sa.Column("ambito", sa.String(length=8), nullable=False),
        sa.Column("cargo", sa.String(length=64), nullable=False),
        sa.Column("huella", sa.String(length=64), nullable=False),
        sa.Column("lista", sa.JSON(), nullable=False, comment="[{nombre, partidos}] en orden"),
        sa.PrimaryKeyConstraint("ambito", "cargo", name=op.f("pk_candidaturas_boleta")),
    )


def downgrade() -> None:
    op.drop_table("candidaturas_boleta")
