"""paquetes y sobres

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 05:37:58.313460
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('eventos_transportista',
    sa.Column('transportista', sa.String(length=32), nullable=False),
    sa.Column('evento_id', sa.String(length=100), nullable=False),
    sa.Column('guia', sa.String(length=64), nullable=False),
    sa.Column('estado', sa.String(length=16), nullable=False),
    sa.Column('ocurrido_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resultado', sa.String(length=16), nullable=False, comment='aplicado, ignorado (no avanza) o sin_paquete'),
    sa.Column('recibido_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detalle', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('transportista', 'evento_id', name=op.f('pk_eventos_transportista'))
    )
    op.create_table('notificaciones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('canal', sa.String(length=8), nullable=False),
    sa.Column('destino', sa.String(length=254), nullable=False),
    sa.Column('plantilla', sa.String(length=64), nullable=False),
    sa.Column('mensaje', sa.Text(), nullable=False),
    sa.Column('referencia', sa.String(length=64), nullable=False),
    sa.Column('creada_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enviada_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notificaciones'))
    )
    with op.batch_alter_table('notificaciones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notificaciones_enviada_at'), ['enviada_at'], unique=False)

    op.create_table('paquetes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entidad', sa.String(length=2), nullable=False),
    sa.Column('numero', sa.Integer(), nullable=False, comment='Número en la LNERE de la entidad'),
    sa.Column('folio', sa.String(length=32), nullable=False),
    sa.Column('clave_elector', sa.String(length=18), nullable=False),
    sa.Column('nombre', sa.String(length=400), nullable=False),
    sa.Column('calle_numero', sa.String(length=200), nullable=False),
    sa.Column('ciudad', sa.String(length=120), nullable=False),
    sa.Column('region', sa.String(length=120), nullable=True),
    sa.Column('codigo_postal', sa.String(length=20), nullable=False),
    sa.Column('pais', sa.String(length=2), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('telefono', sa.String(length=16), nullable=True),
    sa.Column('boletas', sa.JSON(), nullable=False, comment='Un cargo por boleta'),
    sa.Column('sobres_voto', sa.Integer(), nullable=False),
    sa.Column('lote', sa.Integer(), nullable=False, comment='Lote de envío dentro de la entidad'),
    sa.Column('estado', sa.String(length=16), nullable=False),
    sa.Column('estado_at', sa.DateTime(timezone=True), nullable=True, comment='Hora del transportista del último estado'),
    sa.Column('transportista', sa.String(length=32), nullable=True),
    sa.Column('guia', sa.String(length=64), nullable=True),
    sa.Column('envios', sa.Integer(), nullable=False),
    sa.Column('voto_recibido_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('aviso_retraso_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('integrado_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enviado_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paquetes')),
    sa.UniqueConstraint('clave_elector', name=op.f('uq_paquetes_clave_elector')),
    sa.UniqueConstraint('entidad', 'numero', name=op.f('uq_paquetes_entidad_numero')),
    sa.UniqueConstraint('folio', name=op.f('uq_paquetes_folio')),
    sa.UniqueConstraint('transportista', 'guia', name=op.f('uq_paquetes_transportista_guia'))
    )
    with op.batch_alter_table('paquetes', schema=None) as batch_op:
        batch_op.create_index('ix_paquetes_entidad_estado', ['entidad', 'estado'], unique=False)

    op.create_table('sobres',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clave_elector', sa.String(length=18), nullable=False),
    sa.Column('paquete_id', sa.Integer(), nullable=True),
    sa.Column('entidad', sa.String(length=2), nullable=True),
    sa.Column('clasificacion', sa.String(length=16), nullable=False),
    sa.Column('recibido_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('operador', sa.String(length=200), nullable=False),
    sa.Column('mesa', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['paquete_id'], ['paquetes.id'], name=op.f('fk_sobres_paquete_id_paquetes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sobres'))
    )
    with op.batch_alter_table('sobres', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sobres_clave_elector'), ['clave_elector'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sobres', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sobres_clave_elector'))

    op.drop_table('sobres')
    with op.batch_alter_table('paquetes', schema=None) as batch_op:
        batch_op.drop_index('ix_paquetes_entidad_estado')

    op.drop_table('paquetes')
    with op.batch_alter_table('notificaciones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notificaciones_enviada_at'))

    op.drop_table('notificaciones')
    op.drop_table('eventos_transportista')
