"""archivo_trozos: el archivo .bel de cada elección, guardado una vez al sellar (issue #23)

``GET /v1/elecciones/{uuid}/archivo.bel`` rebuilt the whole record in memory on every request (~10 KB a
ballot: hundreds of MB for a large entidad). From the seal on it is built once and stored in pieces of at most
1 MiB (the database is the store of record: Kubernetes pods share nothing else), and served from them with
ETag and Range; ``elecciones.archivo_tamano``/``archivo_etag`` say how long it is and which event it ends
with. The result appends its last events. Elections sealed before this revision have no stored pieces: their
record is streamed from the database, as an open ballot box's is.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("elecciones", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "archivo_tamano",
                sa.BigInteger(),
                nullable=True,
                comment="Bytes del archivo .bel guardado (desde el sello)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "archivo_etag",
                sa.String(length=64),
                nullable=True,
                comment="Hash del último evento del archivo .bel guardado (su ETag)",
            )
        )
    op.create_table(
        "archivo_trozos",
        sa.Column("eleccion", sa.String(length=32), nullable=False),
        sa.Column(
            "posicion", sa.BigInteger(), autoincrement=False, nullable=False, comment="Byte del archivo donde empieza"
        ),
        sa.Column("datos", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["eleccion"], ["elecciones.uuid"], name=op.f("fk_archivo_trozos_eleccion_elecciones")
        ),
        sa.PrimaryKeyConstraint("eleccion", "posicion", name=op.f("pk_archivo_trozos")),
    )


def downgrade() -> None:
    op.drop_table("archivo_trozos")
    with op.batch_alter_table("elecciones", schema=None) as batch_op:
        batch_op.drop_column("archivo_etag")
        batch_op.drop_column("archivo_tamano")
