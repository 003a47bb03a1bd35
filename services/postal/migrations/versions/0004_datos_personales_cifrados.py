"""datos personales cifrados en reposo, índice ciego de la clave de elector (issue #11)

Each package's name, address, contact and clave de elector, the scanned clave of each SPV and the
notifications (destination and text) become Fernet tokens; the package's clave de elector gets an
HMAC-SHA256 blind index (the SPV scan looks it up; one package per clave). Existing rows are converted with
the service's keys (VMRE_POSTAL_CLAVES_DATOS, VMRE_POSTAL_CLAVE_INDICE); downgrade decrypts them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from shared import migrations
from shared.datos_personales import Columnas, convertir

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMENTARIO = "HMAC-SHA256 de la clave de elector (escaneo del sobre)"
# Column -> its length before this migration (downgrade restores it).
PAQUETES = {
    "clave_elector": 18,
    "nombre": 400,
    "calle_numero": 200,
    "ciudad": 120,
    "region": 120,
    "codigo_postal": 20,
    "email": 254,
    "telefono": 16,
}
NULOS = {"region", "email", "telefono"}
TABLAS = (
    Columnas("paquetes", texto=tuple(PAQUETES), indices=(("clave_elector_indice", "clave_elector"),)),
    Columnas("sobres", texto=("clave_elector",)),
    Columnas("notificaciones", texto=("destino", "mensaje")),
)


def _tipos(subir: bool) -> None:
    def cambio(batch_op: Any, columna: str, largo: int, nulo: bool) -> None:
        antes: sa.types.TypeEngine[Any] = sa.String(length=largo)
        despues: sa.types.TypeEngine[Any] = sa.Text()
        if not subir:
            antes, despues = despues, antes
        batch_op.alter_column(columna, existing_type=antes, type_=despues, existing_nullable=nulo)

    with op.batch_alter_table("paquetes", schema=None) as batch_op:
        for columna, largo in PAQUETES.items():
            cambio(batch_op, columna, largo, columna in NULOS)
    with op.batch_alter_table("sobres", schema=None) as batch_op:
        cambio(batch_op, "clave_elector", 18, False)
    with op.batch_alter_table("notificaciones", schema=None) as batch_op:
        cambio(batch_op, "destino", 254, False)


def upgrade() -> None:
    with op.batch_alter_table("sobres", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sobres_clave_elector"))  # an index on ciphertext finds nothing
    _tipos(subir=True)
    with op.batch_alter_table("paquetes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clave_elector_indice", sa.String(length=64), nullable=True, comment=COMENTARIO)
        )
    conn, cifrador = op.get_bind(), migrations.cifrador()
    for columnas in TABLAS:
        convertir(conn, columnas, cifrador, cifrar=True)
    with op.batch_alter_table("paquetes", schema=None) as batch_op:
        batch_op.alter_column(
            "clave_elector_indice",
            existing_type=sa.String(length=64),
            nullable=False,
            existing_comment=COMENTARIO,
        )
        batch_op.drop_constraint(batch_op.f("uq_paquetes_clave_elector"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_paquetes_clave_elector_indice"), ["clave_elector_indice"]
        )


def downgrade() -> None:
    with op.batch_alter_table("paquetes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_paquetes_clave_elector_indice"), type_="unique")
        batch_op.drop_column("clave_elector_indice")
    conn, cifrador = op.get_bind(), migrations.cifrador()
    for columnas in TABLAS:
        convertir(conn, Columnas(columnas.tabla, texto=columnas.texto), cifrador, cifrar=False)
    _tipos(subir=False)
    with op.batch_alter_table("paquetes", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_paquetes_clave_elector"), ["clave_elector"])
    with op.batch_alter_table("sobres", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sobres_clave_elector"), ["clave_elector"], unique=False)
