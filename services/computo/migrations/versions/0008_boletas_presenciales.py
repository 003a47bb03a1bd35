"""voto en persona (#27): cuántas boletas de la urna electrónica se emitieron en los módulos de las sedes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escrutinios_electronicos") as batch:
        batch.add_column(
            sa.Column(
                "presenciales",
                sa.Integer(),
                nullable=False,
                server_default="0",
                comment="De las boletas, las de los módulos de las sedes",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("escrutinios_electronicos") as batch:
        batch.drop_column("presenciales")
