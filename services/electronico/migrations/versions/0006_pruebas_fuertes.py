"""descifrados: pruebas fuertes junto al descifrado parcial de Belenios (issue #22)

Each custodian's partial decryption keeps, next to its Belenios record, the "strong" Chaum–Pedersen proofs
whose challenge also hashes the ciphertext and the decryption factor (Belenios 3.0's proof hashes only its
commitments, so a custodian can forge a wrong factor with a proof that verifies). See
shared/cripto/escrutinio.py (pruebas_fuertes). Older rows have none (NULL).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("descifrados", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "pruebas_fuertes",
                sa.Text(),
                nullable=True,
                comment="Pruebas fuertes del descifrado (JSON canónico: strong_decryption_proofs)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("descifrados", schema=None) as batch_op:
        batch_op.drop_column("pruebas_fuertes")
