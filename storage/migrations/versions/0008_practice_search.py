"""practice search: the PostgreSQL search vector kept by a trigger, its GIN index without a pending list

Revision ID: 0008_practice_search
Revises: 0007_broadcasts
Create Date: 2026-11-26

PostgreSQL only (SQLite keeps its FTS5 table and triggers from 0004_practices):

- `practice.search` stops being a generated column, which PostgreSQL recomputes on every UPDATE of
  the row, whatever it changes: publishing, announcing or retrying an English version re-parsed
  the whole text each time. A trigger now sets it on INSERT and on an UPDATE of the columns it is
  made of only. Existing rows keep the vectors they have (DROP EXPRESSION keeps the stored values,
  which the trigger's expression would compute again identically), so the upgrade is instant;
  rows without a vector are filled in.
- The GIN index without `fastupdate`: with it, new rows wait in an unsorted pending list that
  every search reads in full until a vacuum merges it, so search slowed down after each batch of
  new practices. Each insert now updates the index directly (a few milliseconds more to store a
  practice, a search time that does not depend on recent writes).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0008_practice_search'
down_revision: str | Sequence[str] | None = '0007_broadcasts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The indexed text, as 0004_practices defined it (copied: a migration must not change when a later
# one does). Titles weigh A, the rest B, the filter terms (zc<city>, zn<network>, zt<topic>) D.
_TITLE = "{t}.title || ' ' || coalesce({t}.title_en, '')"
_BODY = " || ' ' || ".join(
    f"{{t}}.{name} || ' ' || coalesce({{t}}.{name}_en, '')" for name in ("period", "purpose", "rationale", "process"))
_FACETS = ("'zc' || CAST({t}.city_id AS TEXT) || ' zn' || coalesce(CAST({t}.network_id AS TEXT), '0') || "
           "' zt' || replace(replace({t}.topics, '-', ''), ' ', ' zt')")
# The columns the vector is made of: an UPDATE of any other column leaves it alone.
_COLUMNS = [f"{name}{suffix}" for name in ("title", "period", "purpose", "rationale", "process")
            for suffix in ("", "_en")] + ["city_id", "network_id", "topics"]


def _vector(row: str) -> str:
    return (f"setweight(to_tsvector('icc_search'::regconfig, {_TITLE.format(t=row)}), 'A') || "
            f"setweight(to_tsvector('icc_search'::regconfig, {_BODY.format(t=row)}), 'B') || "
            f"setweight(to_tsvector('simple'::regconfig, {_FACETS.format(t=row)}), 'D')")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE practice ALTER COLUMN search DROP EXPRESSION")
    op.execute("CREATE FUNCTION practice_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"NEW.search := {_vector('NEW')}; RETURN NEW; END $$")
    op.execute("CREATE TRIGGER practice_search_insert BEFORE INSERT ON practice "
               "FOR EACH ROW EXECUTE FUNCTION practice_search_vector()")
    op.execute(f"CREATE TRIGGER practice_search_update BEFORE UPDATE OF {', '.join(_COLUMNS)} ON practice "
               "FOR EACH ROW EXECUTE FUNCTION practice_search_vector()")
    op.execute(f"UPDATE practice SET search = {_vector('practice')} WHERE search IS NULL")
    op.execute("ALTER INDEX ix_practice_search SET (fastupdate = off)")
    # What already waits in the pending list goes into the index proper now.
    op.execute("SELECT gin_clean_pending_list('ix_practice_search'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Back to 0004's generated column (PostgreSQL cannot turn a column back into a generated one:
    # it is made again, which computes every row's vector).
    op.execute("DROP TRIGGER IF EXISTS practice_search_update ON practice")
    op.execute("DROP TRIGGER IF EXISTS practice_search_insert ON practice")
    op.execute("DROP FUNCTION IF EXISTS practice_search_vector()")
    op.execute("DROP INDEX IF EXISTS ix_practice_search")
    op.execute("ALTER TABLE practice DROP COLUMN search")
    op.execute(f"ALTER TABLE practice ADD COLUMN search tsvector GENERATED ALWAYS AS ({_vector('practice')}) STORED")
    lz4 = op.get_bind().exec_driver_sql("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
                                        "AND 'lz4' = ANY(enumvals)").first() is not None
    if lz4:
        op.execute("ALTER TABLE practice ALTER COLUMN search SET COMPRESSION lz4")
    op.execute("CREATE INDEX ix_practice_search ON practice USING gin (search)")
