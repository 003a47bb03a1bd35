"""un documento enviado después de la revisión (o que reemplaza otro) espera el código de confirmación (#25)

- ``documentos_pendientes``: the file (encrypted, as ``documentos.contenido``) of a ``cambios_pendientes`` row
  of tipo ``documento``; it joins ``documentos`` only with the code, and the row is deleted then or when the
  change is voided.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 03:00:00
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
        "documentos_pendientes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cambio_id", sa.Integer(), nullable=False),
        sa.Column("tipo", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("tamano", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("contenido", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cambio_id"],
            ["cambios_pendientes.id"],
            name=op.f("fk_documentos_pendientes_cambio_id_cambios_pendientes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documentos_pendientes")),
        sa.UniqueConstraint("cambio_id", name=op.f("uq_documentos_pendientes_cambio_id")),
    )


def downgrade() -> None:
    op.drop_table("documentos_pendientes")
