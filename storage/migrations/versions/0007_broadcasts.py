"""broadcasts: broadcasts, their destinations and copies

Revision ID: 0007_broadcasts
Revises: 0006_discord
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0007_broadcasts'
down_revision: str | Sequence[str] | None = '0006_discord'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('broadcast',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('audience', sa.Text(), nullable=False),
    sa.Column('send_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('scheduled', sa.Boolean(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('sender_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('edited_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('finished_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['person.id'], name=op.f('fk_broadcast_cancelled_by_id_person')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['person.id'], name=op.f('fk_broadcast_confirmed_by_id_person')),
    sa.ForeignKeyConstraint(['sender_id'], ['person.id'], name=op.f('fk_broadcast_sender_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast'))
    )
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_sender_id'), ['sender_id'], unique=False)
        batch_op.create_index('ix_broadcast_state_send_at', ['state', 'send_at'], unique=False)

    op.create_table('broadcast_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('finished_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id'], name=op.f('fk_broadcast_target_broadcast_id_broadcast')),
    sa.ForeignKeyConstraint(['city_id'], ['city.id'], name=op.f('fk_broadcast_target_city_id_city')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast_target')),
    sa.UniqueConstraint('broadcast_id', 'platform', 'workspace', 'address', name=op.f('uq_broadcast_target_broadcast_id_platform_workspace_address'))
    )
    with op.batch_alter_table('broadcast_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_target_broadcast_id'), ['broadcast_id'], unique=False)

    op.create_table('broadcast_copy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('final', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id'], name=op.f('fk_broadcast_copy_broadcast_id_broadcast')),
    sa.ForeignKeyConstraint(['target_id'], ['broadcast_target.id'], name=op.f('fk_broadcast_copy_target_id_broadcast_target')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast_copy')),
    sa.UniqueConstraint('target_id', 'part', name=op.f('uq_broadcast_copy_target_id_part'))
    )
    with op.batch_alter_table('broadcast_copy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_copy_broadcast_id'), ['broadcast_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('broadcast_copy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_copy_broadcast_id'))

    op.drop_table('broadcast_copy')
    with op.batch_alter_table('broadcast_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_target_broadcast_id'))

    op.drop_table('broadcast_target')
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_index('ix_broadcast_state_send_at')
        batch_op.drop_index(batch_op.f('ix_broadcast_sender_id'))

    op.drop_table('broadcast')
