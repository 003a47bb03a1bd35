"""datos personales cifrados en reposo (issue #11)

Each voter's email, phone and TOTP secret, and the notifications (destination and text: a voting credential
until it is delivered) become Fernet tokens. Login is by usuario: no blind index needed. Existing rows are
converted with the service's keys (VMRE_ELECTRONICO_CLAVES_DATOS); downgrade decrypts them.

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

# (table, column) -> (length before this migration, nullable)
TIPOS = {
    ("votantes", "email"): (254, False),
    ("votantes", "telefono"): (16, False),
    ("votantes", "totp_secreto"): (64, True),
    ("notificaciones", "destino"): (254, False),
}
TABLAS = (
    Columnas("votantes", texto=("email", "telefono", "totp_secreto")),
    Columnas("notificaciones", texto=("destino", "mensaje")),
)


def _tipos(subir: bool) -> None:
    for tabla in ("votantes", "notificaciones"):
        with op.batch_alter_table(tabla, schema=None) as batch_op:
            for (t, columna), (largo, nulo) in TIPOS.items():
                if t == tabla:
                    antes: sa.types.TypeEngine[Any] = sa.String(length=largo)
                    despues: sa.types.TypeEngine[Any] = sa.Text()
                    if not subir:
                        antes, despues = despues, antes
                    batch_op.alter_column(columna, existing_type=antes, type_=despues, existing_nullable=nulo)


def upgrade() -> None:
    _tipos(subir=True)
    conn, cifrador = op.get_bind(), migrations.cifrador()
    for columnas in TABLAS:
        convertir(conn, columnas, cifrador, cifrar=True)


def downgrade() -> None:
    conn, cifrador = op.get_bind(), migrations.cifrador()
    for columnas in TABLAS:
        convertir(conn, columnas, cifrador, cifrar=False)
    _tipos(subir=False)
