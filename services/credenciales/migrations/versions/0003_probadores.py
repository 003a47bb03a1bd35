"""probadores de los simulacros (#27): cuántos espera cada simulacro antes de firmar su lista

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("elecciones") as batch:
        batch.add_column(
            sa.Column(
                "probadores",
                sa.Integer(),
                nullable=False,
                server_default="0",
                comment="Simulacro: probadores de la entidad (fuera de la LNERE) que recibirán credencial",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("elecciones") as batch:
        batch.drop_column("probadores")
