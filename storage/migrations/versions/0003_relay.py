"""relay: event claims, outbox, relayed messages and copies

Revision ID: 0003_relay
Revises: 0002_translation
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0003_relay'
down_revision: str | Sequence[str] | None = '0002_translation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('event_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('claimed_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_claim')),
    sa.UniqueConstraint('platform', 'scope', 'event_id', name=op.f('uq_event_claim_platform_scope_event_id'))
    )
    with op.batch_alter_table('event_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_claim_claimed_at'), ['claimed_at'], unique=False)

    op.create_table('outbox_lane',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('claimed_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('blocked_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_lane')),
    sa.UniqueConstraint('platform', 'workspace', 'target', name=op.f('uq_outbox_lane_platform_workspace_target'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lane_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('posted', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['lane_id'], ['outbox_lane.id'], name=op.f('fk_outbox_lane_id_outbox_lane')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending', ['lane_id', 'id'], unique=False,
                              sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
        batch_op.create_index(batch_op.f('ix_outbox_reference'), ['reference'], unique=False)

    op.create_table('relay_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('thread_root_id', sa.Integer(), nullable=True),
    sa.Column('author_user', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('author_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('author_avatar', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('channel_language', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('edited_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['icc_group.id'], name=op.f('fk_relay_message_group_id_icc_group')),
    sa.ForeignKeyConstraint(['thread_root_id'], ['relay_message.id'], name=op.f('fk_relay_message_thread_root_id_relay_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relay_message')),
    sa.UniqueConstraint('platform', 'workspace', 'channel_id', 'message_id', name=op.f('uq_relay_message_platform_workspace_channel_id_message_id'))
    )
    with op.batch_alter_table('relay_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relay_message_group_id'), ['group_id'], unique=False)

    op.create_table('relay_copy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('relay_message_id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['relay_message_id'], ['relay_message.id'], name=op.f('fk_relay_copy_relay_message_id_relay_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relay_copy')),
    sa.UniqueConstraint('platform', 'workspace', 'channel_id', 'message_id', name=op.f('uq_relay_copy_platform_workspace_channel_id_message_id'))
    )
    with op.batch_alter_table('relay_copy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relay_copy_relay_message_id'), ['relay_message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('relay_copy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relay_copy_relay_message_id'))

    op.drop_table('relay_copy')
    with op.batch_alter_table('relay_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relay_message_group_id'))

    op.drop_table('relay_message')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_reference'))
        batch_op.drop_index('ix_outbox_pending')

    op.drop_table('outbox')
    op.drop_table('outbox_lane')
    with op.batch_alter_table('event_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_claim_claimed_at'))

    op.drop_table('event_claim')