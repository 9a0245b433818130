"""discord: remembered webhooks and thread posts

Revision ID: 0006_discord
Revises: 0004_practices
Create Date: 2026-11-25 20:13:31.618652
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0006_discord'
down_revision: str | Sequence[str] | None = '0004_practices'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('discord_thread_post',
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('thread_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('webhook_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_discord_thread_post'))
    )
    with op.batch_alter_table('discord_thread_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discord_thread_post_channel_id'), ['channel_id'], unique=False)

    op.create_table('discord_webhook',
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('guild_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('webhook_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel_id', name=op.f('pk_discord_webhook'))
    )


def downgrade() -> None:
    op.drop_table('discord_webhook')
    with op.batch_alter_table('discord_thread_post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discord_thread_post_channel_id'))

    op.drop_table('discord_thread_post')
