"""practice search function: a PostgreSQL search in one round trip

Revision ID: 0009_practice_search_function
Revises: 0008_practice_search
Create Date: 2026-11-26

PostgreSQL only (SQLite searches its FTS5 table in one statement already).

A search used to take four statements, each a round trip from the bot to the server: an EXPLAIN
for the planner's estimate of how many practices match (a broad query is found soonest by
reading the table in order, a narrow one through the GIN index), `SET LOCAL enable_seqscan = off`
for a narrow one, the query, and a `RESET`. `practice_search(...)` does all four inside the
server, so a search is one statement; it decides exactly as before (see `search` in
`storage/queries/practices.py`, which calls it and documents the choices).

Arguments: the words of every group ORed (ranking, and the broad query's condition); the words of
each group (the narrow query's index conditions, one per group); the filter terms (NULL: none);
the statuses asked (NULL: every status but `draft`, plus `drafts_of`'s own drafts, or every draft
with `all_drafts`); the author asked (NULL: anyone); the number of results; the number of
candidates ranked; the share of the table above which a query counts as broad. It returns the
results best first, each with `capped`: more practices matched than were ranked.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0009_practice_search_function'
down_revision: str | Sequence[str] | None = '0008_practice_search'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The dynamic statements' parameters ($n) are the function's arguments, in this order (USING).
_USING = ("all_words, group_words, facets, statuses, draft, drafts_of, all_drafts, author_id, "
          "used_candidates, result_limit")

_FUNCTION = f"""
CREATE FUNCTION practice_search(all_words tsquery, group_words tsquery[], facets tsquery, statuses text[],
                                draft text, drafts_of integer, all_drafts boolean, author_id integer,
                                result_limit integer, candidates integer, broad_share double precision)
RETURNS TABLE (id integer, score real, capped boolean)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    condition text;
    filters text;
    plan json;
    matching double precision;
    total double precision;
    narrow boolean;
    used_candidates integer := candidates;
    seqscan text;
BEGIN
    condition := CASE WHEN facets IS NULL THEN 'p.search @@ $1' ELSE 'p.search @@ ($1 && $3)' END;
    -- The planner's estimate of the matches and of the whole table, from the same plan.
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM practice p WHERE ' || condition
            || ' UNION ALL SELECT 1 FROM practice' INTO plan USING {_USING};
    matching := (plan -> 0 -> 'Plan' -> 'Plans' -> 0 ->> 'Plan Rows')::double precision;
    total := (plan -> 0 -> 'Plan' -> 'Plans' -> 1 ->> 'Plan Rows')::double precision;
    narrow := coalesce(total <= 0 OR matching < broad_share * total, true);

    filters := CASE WHEN statuses IS NOT NULL THEN 'p.status = ANY($4)'
                   WHEN all_drafts THEN 'true'
                   WHEN drafts_of IS NOT NULL THEN '(p.status <> $5 OR p.author_id = $6)'
                   ELSE 'p.status <> $5' END;
    IF author_id IS NOT NULL THEN
        filters := filters || ' AND p.author_id = $8';
    END IF;

    IF narrow THEN
        -- One index condition per group, ORed; the index, never a table scan.
        SELECT '(' || string_agg(CASE WHEN facets IS NULL THEN format('p.search @@ $2[%s]', i)
                                      ELSE format('p.search @@ ($2[%s] && $3)', i) END, ' OR ') || ')'
          INTO condition FROM generate_subscripts(group_words, 1) AS i;
        condition := coalesce(condition, 'false');
        seqscan := current_setting('enable_seqscan');
        PERFORM set_config('enable_seqscan', 'off', true);
    ELSE
        used_candidates := greatest(candidates / 2, result_limit);
    END IF;

    RETURN QUERY EXECUTE
        'WITH c AS MATERIALIZED (SELECT p.id, ts_rank(p.search, $1) AS score FROM practice p WHERE '
        || condition || ' AND ' || filters || ' LIMIT $9) '
        || 'SELECT c.id, c.score, (SELECT count(*) FROM c) >= $9 FROM c ORDER BY c.score DESC, c.id DESC LIMIT $10'
        USING {_USING};

    IF narrow THEN
        PERFORM set_config('enable_seqscan', seqscan, true);
    END IF;
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS practice_search(tsquery, tsquery[], tsquery, text[], text, integer, boolean, "
               "integer, integer, integer, double precision)")
