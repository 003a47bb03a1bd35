"""el folio es secreto de la persona; cambios confirmados con código; avisos a la ciudadanía (issue #21)

- ``notificaciones``: registro's message outbox (shared/notificaciones.py): receipt with the folio, re-sent
  folio, dictamen, aclaración, inscription, change codes and notices. Contact and text encrypted.
- ``solicitudes.referencia``: the opaque name of a person on the party review (never the folio); existing
  rows get a random one. ``solicitudes.folio_reenviado_at``: a duplicate re-sends the folio at most every
  15 minutes.
- ``observaciones.referencia``: the person observed, as the party sees them (filled from the application).
- ``cambios_pendientes``: a change waiting for the code sent to the contact on file (the requested values
  encrypted; the code only as an HMAC).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALFABETO = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # as services/registro/domain.py (Crockford base32)
LOTE = 1000


def _referencia() -> str:
    return "R-" + "".join(secrets.choice(ALFABETO) for _ in range(12))


def _rellenar(tabla: sa.TableClause, donde: sa.ColumnElement[bool]) -> None:
    """A random referencia for each row of ``tabla`` that matches ``donde`` (in batches, by id)."""
    conn = op.get_bind()
    ultimo = 0
    while True:
        ids = list(
            conn.execute(
                sa.select(tabla.c.id).where(donde, tabla.c.id > ultimo).order_by(tabla.c.id).limit(LOTE)
            ).scalars()
        )
        if not ids:
            return
        conn.execute(
            tabla.update().where(tabla.c.id == sa.bindparam("_id")).values(referencia=sa.bindparam("_ref")),
            [{"_id": i, "_ref": _referencia()} for i in ids],
        )
        ultimo = ids[-1]


def upgrade() -> None:
    op.create_table(
        "notificaciones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canal", sa.String(length=8), nullable=False),
        sa.Column("destino", sa.Text(), nullable=False),
        sa.Column("plantilla", sa.String(length=64), nullable=False),
        sa.Column("asunto", sa.String(length=200), nullable=True),
        sa.Column("mensaje", sa.Text(), nullable=True),
        sa.Column("secreto", sa.Boolean(), nullable=False),
        sa.Column("referencia", sa.String(length=64), nullable=False),
        sa.Column("estado", sa.String(length=16), nullable=False),
        sa.Column("intentos", sa.Integer(), nullable=False),
        sa.Column("siguiente_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enviando_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("id_externo", sa.String(length=200), nullable=True),
        sa.Column("creada_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enviada_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notificaciones")),
    )
    with op.batch_alter_table("notificaciones", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notificaciones_estado_siguiente", ["estado", "siguiente_at", "id"], unique=False
        )
        batch_op.create_index("ix_notificaciones_referencia", ["referencia"], unique=False)

    op.create_table(
        "cambios_pendientes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("confirmacion", sa.String(length=24), nullable=False),
        sa.Column("solicitud_id", sa.Integer(), nullable=False),
        sa.Column("tipo", sa.String(length=16), nullable=False),
        sa.Column("cambio", sa.Text(), nullable=False),
        sa.Column("codigo_hash", sa.Text(), nullable=False),
        sa.Column("sal", sa.String(length=32), nullable=False),
        sa.Column("canal", sa.String(length=8), nullable=False),
        sa.Column("intentos", sa.Integer(), nullable=False),
        sa.Column("expira_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("usado_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("anulado_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("creado_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["solicitud_id"],
            ["solicitudes.id"],
            name=op.f("fk_cambios_pendientes_solicitud_id_solicitudes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cambios_pendientes")),
        sa.UniqueConstraint("confirmacion", name=op.f("uq_cambios_pendientes_confirmacion")),
    )
    with op.batch_alter_table("cambios_pendientes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cambios_pendientes_solicitud_id"), ["solicitud_id"], unique=False
        )

    with op.batch_alter_table("solicitudes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referencia", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("folio_reenviado_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("observaciones", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referencia", sa.String(length=16), nullable=True))

    solicitudes = sa.table("solicitudes", sa.column("id", sa.Integer), sa.column("referencia", sa.String))
    _rellenar(solicitudes, solicitudes.c.referencia.is_(None))
    # Each observation names the same person its party will now see on the list.
    observaciones = sa.table(
        "observaciones",
        sa.column("id", sa.Integer),
        sa.column("folio", sa.String),
        sa.column("referencia", sa.String),
    )
    s = sa.table("solicitudes", sa.column("folio", sa.String), sa.column("referencia", sa.String))
    op.get_bind().execute(
        observaciones.update().values(
            referencia=sa.select(s.c.referencia).where(s.c.folio == observaciones.c.folio).scalar_subquery()
        )
    )
    # An observation whose application was already purged (retention): a referencia of its own.
    _rellenar(observaciones, observaciones.c.referencia.is_(None))

    with op.batch_alter_table("solicitudes", schema=None) as batch_op:
        batch_op.alter_column("referencia", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_solicitudes_referencia"), ["referencia"])
    with op.batch_alter_table("observaciones", schema=None) as batch_op:
        batch_op.alter_column("referencia", existing_type=sa.String(length=16), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("observaciones", schema=None) as batch_op:
        batch_op.drop_column("referencia")
    with op.batch_alter_table("solicitudes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_solicitudes_referencia"), type_="unique")
        batch_op.drop_column("folio_reenviado_at")
        batch_op.drop_column("referencia")

    with op.batch_alter_table("cambios_pendientes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cambios_pendientes_solicitud_id"))
    op.drop_table("cambios_pendientes")

    with op.batch_alter_table("notificaciones", schema=None) as batch_op:
        batch_op.drop_index("ix_notificaciones_estado_siguiente")
    op.drop_table("notificaciones")
