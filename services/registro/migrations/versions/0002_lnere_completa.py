"""lnere completa

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 04:51:20.336582
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows from 0001 (the foundation slice) get neutral values for the new mandatory columns.
    op.create_table(
        "auditoria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folio", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("rol", sa.String(length=32), nullable=False),
        sa.Column("accion", sa.String(length=64), nullable=False),
        sa.Column("detalle", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auditoria")),
    )
    with op.batch_alter_table("auditoria", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auditoria_folio"), ["folio"], unique=False)

    op.create_table(
        "cierres_lnere",
        sa.Column("proceso", sa.String(length=32), nullable=False),
        sa.Column("entidad", sa.String(length=2), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("postal", sa.Integer(), nullable=False),
        sa.Column("electronica", sa.Integer(), nullable=False),
        sa.Column("cerrada_por", sa.String(length=200), nullable=False),
        sa.Column("cerrada_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("proceso", "entidad", name=op.f("pk_cierres_lnere")),
    )
    op.create_table(
        "observaciones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entidad", sa.String(length=2), nullable=False),
        sa.Column("partido", sa.String(length=16), nullable=False),
        sa.Column("folio", sa.String(length=32), nullable=False),
        sa.Column("descripcion", sa.Text(), nullable=False),
        sa.Column("estado", sa.String(length=16), nullable=False),
        sa.Column("respuesta", sa.Text(), nullable=True),
        sa.Column("creada_por", sa.String(length=200), nullable=False),
        sa.Column("creada_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resuelta_por", sa.String(length=200), nullable=True),
        sa.Column("resuelta_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observaciones")),
    )
    with op.batch_alter_table("observaciones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observaciones_entidad"), ["entidad"], unique=False)

    op.create_table(
        "documentos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("solicitud_id", sa.Integer(), nullable=False),
        sa.Column("tipo", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("tamano", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("contenido", sa.LargeBinary(), nullable=False),
        sa.Column("recibido_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["solicitud_id"],
            ["solicitudes.id"],
            name=op.f("fk_documentos_solicitud_id_solicitudes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documentos")),
        sa.UniqueConstraint("solicitud_id", "tipo", name=op.f("uq_documentos_solicitud_id_tipo")),
    )
    with op.batch_alter_table("documentos", schema=None) as batch_op:
        batch_op.create_index("ix_documentos_sha256", ["sha256"], unique=False)

    with op.batch_alter_table("solicitudes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proceso", sa.String(length=32), nullable=False, server_default=sa.text("'demo'")))
        batch_op.add_column(sa.Column("nombre", sa.String(length=120), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column("apellido_paterno", sa.String(length=120), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column("apellido_materno", sa.String(length=120), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column("fecha_nacimiento", sa.Date(), nullable=False, server_default=sa.text("'1900-01-01'")))
        batch_op.add_column(sa.Column("sexo", sa.String(length=1), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column("pais", sa.String(length=2), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column("calle_numero", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("ciudad", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("region", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("codigo_postal", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("telefono", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("canal", sa.String(length=16), nullable=False, server_default=sa.text("'internet'")))
        batch_op.add_column(sa.Column("motivos", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("plazo_aclaracion", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("numero_lnere", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("actualizada_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()))
        batch_op.drop_constraint(batch_op.f("uq_solicitudes_clave_elector"), type_="unique")
        batch_op.create_index("ix_solicitudes_cola", ["estado", "recibida_at", "id"], unique=False)
        batch_op.create_index("ix_solicitudes_entidad_estado", ["entidad", "estado"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_solicitudes_proceso_clave_elector"), ["proceso", "clave_elector"]
        )


def downgrade() -> None:
    with op.batch_alter_table("solicitudes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_solicitudes_proceso_clave_elector"), type_="unique")
        batch_op.drop_index("ix_solicitudes_entidad_estado")
        batch_op.drop_index("ix_solicitudes_cola")
        batch_op.create_unique_constraint(batch_op.f("uq_solicitudes_clave_elector"), ["clave_elector"])
        batch_op.drop_column("actualizada_at")
        batch_op.drop_column("numero_lnere")
        batch_op.drop_column("plazo_aclaracion")
        batch_op.drop_column("motivos")
        batch_op.drop_column("canal")
        batch_op.drop_column("telefono")
        batch_op.drop_column("email")
        batch_op.drop_column("codigo_postal")
        batch_op.drop_column("region")
        batch_op.drop_column("ciudad")
        batch_op.drop_column("calle_numero")
        batch_op.drop_column("pais")
        batch_op.drop_column("sexo")
        batch_op.drop_column("fecha_nacimiento")
        batch_op.drop_column("apellido_materno")
        batch_op.drop_column("apellido_paterno")
        batch_op.drop_column("nombre")
        batch_op.drop_column("proceso")

    with op.batch_alter_table("documentos", schema=None) as batch_op:
        batch_op.drop_index("ix_documentos_sha256")

    op.drop_table("documentos")
    with op.batch_alter_table("observaciones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observaciones_entidad"))

    op.drop_table("observaciones")
    op.drop_table("cierres_lnere")
    with op.batch_alter_table("auditoria", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditoria_folio"))

    op.drop_table("auditoria")
