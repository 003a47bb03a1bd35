"""autoridad de credenciales: cada credencial pública ligada al número del votante en la LNERE; la lista
firmada por la autoridad en la elección (issue #22)

The credential authority (services/credenciales) issues the credentials now; electronico receives the public
halves with the voter's number on the entidad's LNERE (possibly before the voter's own account exists: the
streams are separate), so a credential is keyed by (elección, número) instead of the account's id.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NUMERO = "Número en la LNERE de la entidad"


def upgrade() -> None:
    with op.batch_alter_table("elecciones", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "lista_credenciales",
                sa.JSON(),
                nullable=True,
                comment="Lista firmada por la autoridad de credenciales",
            )
        )
    with op.batch_alter_table("credenciales", schema=None) as batch_op:
        batch_op.add_column(sa.Column("numero", sa.Integer(), nullable=True, comment=NUMERO))
    op.execute(
        "UPDATE credenciales SET numero = "
        "(SELECT votantes.numero FROM votantes WHERE votantes.id = credenciales.votante_id)"
    )
    with op.batch_alter_table("credenciales", schema=None) as batch_op:
        batch_op.drop_constraint("pk_credenciales", type_="primary")
        batch_op.drop_constraint("fk_credenciales_votante_id_votantes", type_="foreignkey")
        batch_op.drop_column("votante_id")
        batch_op.alter_column("numero", existing_type=sa.Integer(), nullable=False, existing_comment=NUMERO)
        batch_op.create_primary_key("pk_credenciales", ["eleccion", "numero"])


def downgrade() -> None:
    with op.batch_alter_table("credenciales", schema=None) as batch_op:
        batch_op.add_column(sa.Column("votante_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE credenciales SET votante_id = (SELECT votantes.id FROM votantes, elecciones "
        "WHERE elecciones.uuid = credenciales.eleccion AND votantes.entidad = elecciones.entidad "
        "AND votantes.numero = credenciales.numero)"
    )
    op.execute("DELETE FROM credenciales WHERE votante_id IS NULL")
    with op.batch_alter_table("credenciales", schema=None) as batch_op:
        batch_op.drop_constraint("pk_credenciales", type_="primary")
        batch_op.drop_column("numero")
        batch_op.alter_column("votante_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key("fk_credenciales_votante_id_votantes", "votantes", ["votante_id"], ["id"])
        batch_op.create_primary_key("pk_credenciales", ["eleccion", "votante_id"])
    with op.batch_alter_table("elecciones", schema=None) as batch_op:
        batch_op.drop_column("lista_credenciales")
