"""actas de destrucción de los sobres extemporáneos (issue #26)

LGIPE 345.2: the envelopes received after the deadline are listed by sender and destroyed unopened before
party representatives. Each act records where, when and who attended; each late envelope points at the act
that destroyed it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "actas_destruccion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entidad", sa.String(length=2), nullable=False),
        sa.Column("lugar", sa.String(length=200), nullable=False),
        sa.Column("celebrada_at", UTCDateTime(), nullable=False),
        sa.Column("asistentes", sa.JSON(), nullable=False, comment="[{nombre, cargo}]"),
        sa.Column("sobres", sa.Integer(), nullable=False),
        sa.Column("registrada_por", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actas_destruccion")),
    )
    op.create_index(op.f("ix_actas_destruccion_entidad"), "actas_destruccion", ["entidad"])
    with op.batch_alter_table("sobres") as batch:
        batch.add_column(
            sa.Column(
                "acta_destruccion_id",
                sa.Integer(),
                nullable=True,
                comment="Extemporáneo: el acta que lo destruyó",
            )
        )
        batch.create_foreign_key(
            batch.f("fk_sobres_acta_destruccion_id_actas_destruccion"),
            "actas_destruccion",
            ["acta_destruccion_id"],
            ["id"],
        )
        batch.create_index(batch.f("ix_sobres_acta_destruccion_id"), ["acta_destruccion_id"])


def downgrade() -> None:
    with op.batch_alter_table("sobres") as batch:
        batch.drop_index(batch.f("ix_sobres_acta_destruccion_id"))
        batch.drop_constraint(batch.f("fk_sobres_acta_destruccion_id_actas_destruccion"), type_="foreignkey")
        batch.drop_column("acta_destruccion_id")
    op.drop_index(op.f("ix_actas_destruccion_entidad"), table_name="actas_destruccion")
    op.drop_table("actas_destruccion")
