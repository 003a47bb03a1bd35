"""la participación en vivo de cada sede consular: quién ya votó en persona, una vez por persona (#27)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 19:45:00
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
        "votos_sede",
        sa.Column("entidad", sa.String(length=2), nullable=False),
        sa.Column("numero", sa.Integer(), nullable=False),
        sa.Column("sede", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("entidad", "numero", name=op.f("pk_votos_sede")),
    )


def downgrade() -> None:
    op.drop_table("votos_sede")
