"""bitácora de auditoría encadenada (issue #11)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bitacora",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("rol", sa.String(length=32), nullable=False),
        sa.Column("accion", sa.String(length=300), nullable=False),
        sa.Column("objeto", sa.JSON(), nullable=False),
        sa.Column("origen", sa.String(length=64), nullable=False),
        sa.Column("estado", sa.String(length=16), nullable=False),
        sa.Column("detalle", sa.JSON(), nullable=False),
        sa.Column("hash_previo", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bitacora")),
    )
    with op.batch_alter_table("bitacora", schema=None) as batch_op:
        batch_op.create_index("ix_bitacora_seq", ["seq"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("bitacora", schema=None) as batch_op:
        batch_op.drop_index("ix_bitacora_seq")

    op.drop_table("bitacora")
