"""practices: the good-practice database and its full-text index

Revision ID: 0004_practices
Revises: 0005_deadlines
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0004_practices'
down_revision: str | Sequence[str] | None = '0005_deadlines'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('practice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('process', sa.Text(), nullable=False),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=True),
    sa.Column('topics', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('title_en', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
    sa.Column('period_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('purpose_en', sa.Text(), nullable=True),
    sa.Column('rationale_en', sa.Text(), nullable=True),
    sa.Column('process_en', sa.Text(), nullable=True),
    sa.Column('en_state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('en_attempts', sa.Integer(), nullable=False),
    sa.Column('en_retry_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('review_note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('announced_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('import_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_practice_author_id_person')),
    sa.ForeignKeyConstraint(['city_id'], ['city.id'], name=op.f('fk_practice_city_id_city')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['person.id'], name=op.f('fk_practice_reviewed_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice')),
    sa.UniqueConstraint('import_key', name=op.f('uq_practice_import_key'))
    )
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_practice_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_practice_en_retry_at'), ['en_retry_at'], unique=False)
        batch_op.create_index('ix_practice_status_city_id', ['status', 'city_id'], unique=False)
        batch_op.create_index('ix_practice_search_filter', ['id', 'status', 'city_id', 'author_id'], unique=False)

    op.create_table('practice_topic',
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_practice_topic_practice_id_practice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('practice_id', 'topic', name=op.f('pk_practice_topic'))
    )
    with op.batch_alter_table('practice_topic', schema=None) as batch_op:
        batch_op.create_index('ix_practice_topic_topic_practice_id', ['topic', 'practice_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        _postgres_search()
    else:
        _sqlite_search()


# The indexed text: the original and the English version side by side, titles apart so that a
# match in a title ranks higher. Both engines fold case and accents and reduce words with the
# English stemmer (SQLite's porter, PostgreSQL's english snowball), on the texts and on the
# queries alike: every practice has an English text, and a query is searched in English too, so
# `newcomer` finds `newcomers`; on words of other languages the stemmer only trims a few English
# endings, the same way on both sides.
_SEARCH_TITLE = ("{t}.title || ' ' || coalesce({t}.title_en, '')")
_SEARCH_BODY = " || ' ' || ".join(
    f"{{t}}.{name} || ' ' || coalesce({{t}}.{name}_en, '')" for name in ("period", "purpose", "rationale", "process"))
# Filter terms: `zc12` for city 12, `zn3` for network 3, `ztantirumours` for the topic
# anti-rumours (see the model).
_SEARCH_FACETS = ("'zc' || CAST({t}.city_id AS TEXT) || ' zn' || coalesce(CAST({t}.network_id AS TEXT), '0') || "
                  "' zt' || replace(replace({t}.topics, '-', ''), ' ', ' zt')")


def _sqlite_search() -> None:
    # Contentless FTS5 (the text is in `practice` already); triggers keep it in step with every
    # write, whoever makes it. A contentless table forgets a row by being told its old text.
    op.execute("CREATE VIRTUAL TABLE practice_fts USING fts5(title, body, facets, content='', "
               "tokenize='porter unicode61 remove_diacritics 2')")
    values = {row: f"{_SEARCH_TITLE.format(t=row)}, {_SEARCH_BODY.format(t=row)}, {_SEARCH_FACETS.format(t=row)}"
              for row in ("new", "old")}
    insert = f"INSERT INTO practice_fts(rowid, title, body, facets) VALUES (new.id, {values['new']});"
    forget = (f"INSERT INTO practice_fts(practice_fts, rowid, title, body, facets) "
              f"VALUES ('delete', old.id, {values['old']});")
    columns = ", ".join([f"{name}{suffix}" for name in ("title", "period", "purpose", "rationale", "process")
                         for suffix in ("", "_en")] + ["city_id", "network_id", "topics"])
    op.execute(f"CREATE TRIGGER practice_fts_insert AFTER INSERT ON practice BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER practice_fts_delete AFTER DELETE ON practice BEGIN {forget} END")
    op.execute(f"CREATE TRIGGER practice_fts_update AFTER UPDATE OF {columns} ON practice "
               f"BEGIN {forget} {insert} END")


def _postgres_search() -> None:
    # The text search configuration `icc_search`: English stemming, with accents folded by the
    # unaccent dictionary as SQLite's remove_diacritics does. unaccent is a trusted extension (any
    # database owner may create it); where it cannot be had, accents are kept and search still
    # works, just without folding.
    bind = op.get_bind()
    have = bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'unaccent'").first() is not None
    if not have:
        savepoint = bind.begin_nested()
        try:
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
            savepoint.commit()
            have = True
        except sa.exc.DBAPIError:
            savepoint.rollback()
    op.execute("CREATE TEXT SEARCH CONFIGURATION icc_search (COPY = english)")
    if have:
        schema = bind.exec_driver_sql("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                      "ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'").scalar_one()
        op.execute("ALTER TEXT SEARCH CONFIGURATION icc_search ALTER MAPPING FOR hword, hword_part, word "
                   f"WITH {schema}.unaccent, english_stem")
    title, body_text = _SEARCH_TITLE.format(t="practice"), _SEARCH_BODY.format(t="practice")
    op.execute("ALTER TABLE practice ADD COLUMN search tsvector GENERATED ALWAYS AS ("
               f"setweight(to_tsvector('icc_search'::regconfig, {title}), 'A') || "
               f"setweight(to_tsvector('icc_search'::regconfig, {body_text}), 'B') || "
               f"setweight(to_tsvector('simple'::regconfig, {_SEARCH_FACETS.format(t='practice')}), 'D')) STORED")
    # lz4 (PostgreSQL 14+, when built with it) decompresses several times faster than pglz: ranking
    # reads the vectors of the candidate matches.
    lz4 = bind.exec_driver_sql("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
                               "AND 'lz4' = ANY(enumvals)").first() is not None
    if lz4:
        op.execute("ALTER TABLE practice ALTER COLUMN search SET COMPRESSION lz4")
    op.execute("CREATE INDEX ix_practice_search ON practice USING gin (search)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_practice_search")
        op.execute("ALTER TABLE practice DROP COLUMN IF EXISTS search")
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS icc_search")
    else:
        for trigger in ("practice_fts_insert", "practice_fts_delete", "practice_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS practice_fts")
    with op.batch_alter_table('practice_topic', schema=None) as batch_op:
        batch_op.drop_index('ix_practice_topic_topic_practice_id')

    op.drop_table('practice_topic')
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.drop_index('ix_practice_search_filter')
        batch_op.drop_index('ix_practice_status_city_id')
        batch_op.drop_index(batch_op.f('ix_practice_en_retry_at'))
        batch_op.drop_index(batch_op.f('ix_practice_city_id'))
        batch_op.drop_index(batch_op.f('ix_practice_author_id'))

    op.drop_table('practice')
