"""translation: cache, glossaries, usage, flag translations

Revision ID: 0002_translation
Revises: 0001_registry
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0002_translation'
down_revision: str | Sequence[str] | None = '0001_registry'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('deepl_glossary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source_lang', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('target_lang', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('entries_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('glossary_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deepl_glossary')),
    sa.UniqueConstraint('account', 'source_lang', 'target_lang', 'entries_hash', name=op.f('uq_deepl_glossary_pair_version'))
    )
    op.create_table('translation_cache',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('characters', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_translation_cache'))
    )
    op.create_table('translation_usage',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('billed_characters', sa.Integer(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('saved_by_cache', sa.Integer(), nullable=False),
    sa.Column('saved_by_skip', sa.Integer(), nullable=False),
    sa.Column('untranslated_characters', sa.Integer(), nullable=False),
    sa.Column('quota_alert_sent_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_translation_usage'))
    )
    op.create_table('flag_translation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('reply_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['requested_by_id'], ['person.id'], name=op.f('fk_flag_translation_requested_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag_translation')),
    sa.UniqueConstraint('platform', 'workspace', 'channel_id', 'message_id', 'language', name=op.f('uq_flag_translation_message_language'))
    )


def downgrade() -> None:
    op.drop_table('flag_translation')
    op.drop_table('translation_usage')
    op.drop_table('translation_cache')
    op.drop_table('deepl_glossary')
