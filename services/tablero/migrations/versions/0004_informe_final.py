"""lo que pide el informe final del proceso: las elecciones y simulacros, el cierre de cada LNERE (issue #26)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "elecciones",
        sa.Column("eleccion", sa.String(length=64), nullable=False),
        sa.Column("entidad", sa.String(length=2), nullable=False),
        sa.Column("cargo", sa.String(length=64), nullable=False),
        sa.Column("nombre", sa.String(length=200), nullable=False),
        sa.Column("simulacro", sa.Boolean(), nullable=False),
        sa.Column("credenciales", sa.Integer(), nullable=True),
        sa.Column("abierta_at", UTCDateTime(), nullable=True),
        sa.Column("sellada_at", UTCDateTime(), nullable=True),
        sa.Column("boletas", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("eleccion", name=op.f("pk_elecciones")),
    )
    with op.batch_alter_table("lnere") as batch:
        batch.add_column(sa.Column("cerrada_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lnere") as batch:
        batch.drop_column("cerrada_at")
    op.drop_table("elecciones")
