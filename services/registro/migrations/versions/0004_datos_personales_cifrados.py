"""datos personales cifrados en reposo, índice ciego de la clave de elector (issue #11)

Names, clave de elector, address, email and phone of each solicitud, the document images and the outbox
payloads (the LNERE events carry names and addresses) become Fernet tokens; the clave de elector gets an
HMAC-SHA256 blind index that carries the one-person-per-clave constraint. Existing rows are converted with
the service's keys (VMRE_REGISTRO_CLAVES_DATOS, VMRE_REGISTRO_CLAVE_INDICE); downgrade decrypts them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared import migrations
from shared.datos_personales import Columnas, convertir

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Column -> its length before this migration (downgrade restores it).
TEXTO = {
    "clave_elector": 18,
    "nombre": 120,
    "apellido_paterno": 120,
    "apellido_materno": 120,
    "calle_numero": 200,
    "ciudad": 120,
    "region": 120,
    "codigo_postal": 20,
    "email": 254,
    "telefono": 16,
}
NULOS = {"calle_numero", "ciudad", "region", "codigo_postal", "email", "telefono"}
SOLICITUDES = Columnas(
    "solicitudes", texto=tuple(TEXTO), indices=(("clave_elector_indice", "clave_elector"),)
)
DOCUMENTOS = Columnas("documentos", binario=("contenido",))
OUTBOX = Columnas("outbox", texto=("payload",))


def upgrade() -> None:
    with op.batch_alter_table("solicitudes", schema=None) as batch_op:
        for columna, largo in TEXTO.items():
            batch_op.alter_column(
                columna,
                existing_type=sa.String(length=largo),
                type_=sa.Text(),
                existing_nullable=columna in NULOS,
            )
        batch_op.add_column(
            sa.Column(
                "clave_elector_indice",
                sa.String(length=64),
                nullable=True,
                comment="HMAC-SHA256 de la clave de elector: búsquedas y duplicados",
            )
        )
    conn, cifrador = op.get_bind(), migrations.cifrador()
    for columnas in (SOLICITUDES, DOCUMENTOS, OUTBOX):
        convertir(conn, columnas, cifrador, cifrar=True)
    with op.batch_alter_table("solicitudes", schema=None) as batch_op:
        batch_op.alter_column(
            "clave_elector_indice",
            existing_type=sa.String(length=64),
            nullable=False,
            existing_comment="HMAC-SHA256 de la clave de elector: búsquedas y duplicados",
        )
        batch_op.drop_constraint(batch_op.f("uq_solicitudes_proceso_clave_elector"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_solicitudes_proceso_clave_elector_indice"), ["proceso", "clave_elector_indice"]
        )


def downgrade() -> None:
    conn, cifrador = op.get_bind(), migrations.cifrador()
    with op.batch_alter_table("solicitudes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_solicitudes_proceso_clave_elector_indice"), type_="unique")
        batch_op.drop_column("clave_elector_indice")
    for columnas in (
        Columnas("solicitudes", texto=tuple(TEXTO)),
        DOCUMENTOS,
        OUTBOX,
    ):
        convertir(conn, columnas, cifrador, cifrar=False)
    with op.batch_alter_table("solicitudes", schema=None) as batch_op:
        for columna, largo in TEXTO.items():
            batch_op.alter_column(
                columna,
                existing_type=sa.Text(),
                type_=sa.String(length=largo),
                existing_nullable=columna in NULOS,
            )
        batch_op.create_unique_constraint(
            batch_op.f("uq_solicitudes_proceso_clave_elector"), ["proceso", "clave_elector"]
        )
