"""índices de «mi paquete»: los eventos de una guía y los sobres de un paquete (issue #25)

The citizen's page reads the carrier events of one tracking number and the envelopes of one package; without
these indexes each view scanned both tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 00:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_eventos_transportista_guia", "eventos_transportista", ["transportista", "guia"])
    op.create_index("ix_sobres_paquete_id", "sobres", ["paquete_id"])


def downgrade() -> None:
    op.drop_index("ix_sobres_paquete_id", table_name="sobres")
    op.drop_index("ix_eventos_transportista_guia", table_name="eventos_transportista")
