"""descifrados parciales: pruebas fuertes junto al descifrado de Belenios (issue #22)

Each custodian's delivery carries, next to its Belenios partial decryption, the "strong" proofs whose
challenge also hashes the ciphertext and the decryption factor; they are checked on arrival and kept here, to
go to electronico's public record. Shares delivered before this revision have none (NULL).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("descifrados_parciales", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "pruebas_fuertes",
                sa.Text(),
                nullable=True,
                comment="Pruebas fuertes del descifrado (JSON canónico: strong_decryption_proofs)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("descifrados_parciales", schema=None) as batch_op:
        batch_op.drop_column("pruebas_fuertes")
