"""avisos por SMTP y SMS: estados, intentos e identificador de la pasarela (issue #21)

The notification outbox gets what a real gateway needs: a state per message (pendiente, enviando, enviada,
fallida, incierta), tries and the next try's time, the last error, the Message-ID or the provider's id, the
subject, and whether the text is a secret (erased once the gateway has it). See shared/notificaciones.py.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

from alembic import op

from shared.notificaciones import migrar_bandeja

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migrar_bandeja(op, subir=True)


def downgrade() -> None:
    migrar_bandeja(op, subir=False)
