"""votantes.ultimo_codigo: el paso TOTP del último código aceptado, no el código (issue #23)

A TOTP code is refused when its time step is at or before that of the last accepted one: remembering only
the last code let an older code of the window work again after a newer one. The codes stored so far say
nothing about their step and are forgotten (a code accepted in the minute before the upgrade could be used
once more while it stays in the window).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANTES = "Anti-reuso TOTP"
AHORA = "Paso TOTP (hora Unix // 30) del último código aceptado"


def upgrade() -> None:
    op.execute("UPDATE votantes SET ultimo_codigo = NULL")
    with op.batch_alter_table("votantes", schema=None) as batch_op:
        batch_op.alter_column(
            "ultimo_codigo",
            existing_type=sa.String(length=16),
            type_=sa.Integer(),
            existing_nullable=True,
            comment=AHORA,
            existing_comment=ANTES,
            postgresql_using="NULL::integer",
        )


def downgrade() -> None:
    op.execute("UPDATE votantes SET ultimo_codigo = NULL")
    with op.batch_alter_table("votantes", schema=None) as batch_op:
        batch_op.alter_column(
            "ultimo_codigo",
            existing_type=sa.Integer(),
            type_=sa.String(length=16),
            existing_nullable=True,
            comment=ANTES,
            existing_comment=AHORA,
            postgresql_using="NULL::varchar(16)",
        )
