"""Queries on good practices: storing, finding, listing, full-text search on both engines, and
the queues of English versions to make and submissions to announce.

Search takes words, never query syntax: `search_words` turns any text into plain word tokens, and
each engine's query is built from those tokens with its own quoting (FTS5 string literals; a
tsquery of quoted lexemes passed as a bound parameter), so no operator a person types (`OR`,
`NEAR(`, `"`, `:*`, `'`) reaches the engine's parser as syntax.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Channel, City, Group, Practice, PracticeTopic
from storage.models.practices import DRAFT, EN_PENDING, SUBMITTED

_WORD = re.compile(r"[^\W_]+")
# Words too common to help a search (and that would make every text match), in the network's
# main languages. A query made only of them is searched as it is.
STOPWORDS = frozenset("""
a an and are as at be by for from in into is it of on or the to with our we this that
de des du la le les un une et en au aux dans pour par sur avec est qui que ou l d
el los las y del con por para una al se lo es o e
il lo gli i di da della delle dei con per una nel che è
o os as do da dos das em no na um uma com para por que é
der die das und den dem des ein eine mit für von zu im ist auf
het een van en met voor op is te
і та в на з до що це
""".split())

# At most this many words of a query are searched (a pasted paragraph is not a query).
MAX_QUERY_WORDS = 12


def search_words(query: str) -> list[str]:
    """The words of a query, lower case, in order, without duplicates or stop words (unless the
    query has nothing else). Everything but letters and digits separates words."""
    words: list[str] = []
    for word in _WORD.findall(unicodedata.normalize("NFC", query).lower()):
        if word not in words:
            words.append(word)
    meaningful = [word for word in words if word not in STOPWORDS and len(word) > 1]
    return (meaningful or words)[:MAX_QUERY_WORDS]


def fts5_query(groups: Sequence[Sequence[str]], *, every_word: bool = True) -> str:
    """`[["accueil", "migrants"], ["welcome", "migrants"]]` → `("accueil" AND "migrants") OR (…)`.
    Each word is an FTS5 string literal (letters and digits only, quoted all the same). No prefix
    matching: stemming joins word forms (`newcomer`, `newcomers`), and a prefix makes the engines
    merge the whole lists of every word it starts, far too slow for common words."""
    joiner = " AND " if every_word else " OR "
    parts = []
    for words in groups:
        if words:
            parts.append("(" + joiner.join('"' + word.replace('"', '""') + '"' for word in words) + ")")
    return " OR ".join(parts)


def tsquery(groups: Sequence[Sequence[str]], *, every_word: bool = True) -> str:
    """The same query in PostgreSQL's tsquery syntax: quoted lexemes."""
    joiner = " & " if every_word else " | "
    parts = []
    for words in groups:
        if words:
            parts.append("(" + joiner.join("'" + word.replace("'", "''") + "'" for word in words) + ")")
    return " | ".join(parts)


# ---- storing --------------------------------------------------------------------------------


async def place(session: AsyncSession, practice: Practice) -> None:
    """Set the practice's network from its city (call after setting or changing `city_id`)."""
    city = await session.get(City, practice.city_id)
    practice.network_id = city.network_id if city is not None else None


async def add_practice(session: AsyncSession, practice: Practice, topics: Iterable[str]) -> Practice:
    unique = list(dict.fromkeys(topics))
    practice.topics = " ".join(unique)
    await place(session, practice)
    session.add(practice)
    await session.flush()
    assert practice.id is not None
    for topic in unique:
        session.add(PracticeTopic(practice_id=practice.id, topic=topic))
    await session.flush()
    return practice


async def set_topics(session: AsyncSession, practice_id: int, topics: Iterable[str]) -> None:
    """Its topics, in `practice_topic` and in the practice's own copy (the index's filter terms)."""
    unique = list(dict.fromkeys(topics))
    await session.exec(delete(PracticeTopic).where(col(PracticeTopic.practice_id) == practice_id))
    for topic in unique:
        session.add(PracticeTopic(practice_id=practice_id, topic=topic))
    await session.exec(update(Practice).where(col(Practice.id) == practice_id).values(topics=" ".join(unique)))
    await session.flush()


def city_term(city_id: int) -> str:
    return f"zc{city_id}"


def topic_term(slug: str) -> str:
    return "zt" + re.sub(r"[^a-z0-9]", "", slug.lower())


async def get_practice(session: AsyncSession, practice_id: int, *, for_update: bool = False) -> Practice | None:
    query = select(Practice).where(Practice.id == practice_id)
    if for_update:
        query = query.with_for_update()  # PostgreSQL: two editors wait for each other; SQLite: no-op
    return (await session.exec(query)).first()


async def delete_practice(session: AsyncSession, practice_id: int) -> bool:
    await session.exec(delete(PracticeTopic).where(col(PracticeTopic.practice_id) == practice_id))
    result = await session.exec(delete(Practice).where(col(Practice.id) == practice_id))
    return bool(result.rowcount)


async def topics_of(session: AsyncSession, practice_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {practice_id: [] for practice_id in practice_ids}
    if not practice_ids:
        return found
    rows = await session.exec(select(PracticeTopic).where(col(PracticeTopic.practice_id).in_(practice_ids))
                              .order_by(col(PracticeTopic.practice_id), col(PracticeTopic.topic)))
    for row in rows:
        found[row.practice_id].append(row.topic)
    return found


async def practices_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Practice]:
    if not ids:
        return {}
    rows = await session.exec(select(Practice).where(col(Practice.id).in_(ids)))
    return {practice.id: practice for practice in rows if practice.id is not None}


async def import_key_exists(session: AsyncSession, key: str) -> bool:
    return (await session.exec(select(Practice.id).where(Practice.import_key == key))).first() is not None


async def claim_announcement(session: AsyncSession, practice_id: int, now: datetime) -> bool:
    """True for the one caller (process) that gets to announce this submission."""
    result = await session.exec(update(Practice).where(col(Practice.id) == practice_id,
                                                       col(Practice.status) == SUBMITTED,
                                                       col(Practice.announced_at).is_(None))
                                .values(announced_at=now))
    return bool(result.rowcount)


# ---- filters shared by search and lists ---------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    topic: str | None = None
    city_id: int | None = None
    network_id: int | None = None
    statuses: tuple[str, ...] | None = None
    """None: every status but drafts, plus `drafts_of`'s own drafts."""
    drafts_of: int | None = None
    all_drafts: bool = False
    author_id: int | None = None


def _filter_sql(filters: Filters, params: dict[str, object], alias: str = "p") -> str:
    clauses = []
    if filters.statuses is not None:
        names = []
        for index, status in enumerate(filters.statuses):
            params[f"status{index}"] = status
            names.append(f":status{index}")
        clauses.append(f"{alias}.status IN ({', '.join(names) or 'NULL'})")
    elif not filters.all_drafts:
        params["draft"] = DRAFT
        if filters.drafts_of is not None:
            params["drafts_of"] = filters.drafts_of
            clauses.append(f"({alias}.status <> :draft OR {alias}.author_id = :drafts_of)")
        else:
            clauses.append(f"{alias}.status <> :draft")
    if filters.city_id is not None:
        params["city_id"] = filters.city_id
        clauses.append(f"{alias}.city_id = :city_id")
    if filters.network_id is not None:
        params["network_id"] = filters.network_id
        clauses.append(f"{alias}.city_id IN (SELECT id FROM city WHERE network_id = :network_id)")
    if filters.topic is not None:
        params["topic"] = filters.topic
        clauses.append(f"EXISTS (SELECT 1 FROM practice_topic t WHERE t.practice_id = {alias}.id "
                       f"AND t.topic = :topic)")
    if filters.author_id is not None:
        params["author_id"] = filters.author_id
        clauses.append(f"{alias}.author_id = :author_id")
    return " AND ".join(clauses) or "1 = 1"


# ---- search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    practice_id: int
    score: float


# Relevance is ranked among at most this many matches (SQLite: the newest; PostgreSQL: the first
# its index yields): a query that matches a large part of the database ("city") costs about what
# a precise one does, and the answer says that more practices match (add words or a filter).
# Most queries match fewer and are ranked exactly.
CANDIDATES = 100


@dataclass
class SearchResult:
    hits: list[Hit]
    capped: bool
    """More practices matched than were ranked (the best of the newest CANDIDATES are shown)."""


def _facet_terms(filters: Filters) -> list[list[str]]:
    """The filter terms a match must have (each inner list: alternatives)."""
    terms: list[list[str]] = []
    if filters.topic is not None:
        terms.append([topic_term(filters.topic)])
    if filters.city_id is not None:
        terms.append([city_term(filters.city_id)])
    if filters.network_id is not None:
        terms.append([f"zn{filters.network_id}"])
    return terms


async def search(session: AsyncSession, groups: Sequence[Sequence[str]], filters: Filters, *, limit: int = 10,
                 every_word: bool = True, candidates: int = CANDIDATES) -> SearchResult:
    """Practices matching every word of one of the `groups` (the query as typed, the query in
    English…), best first. `every_word=False` takes any word instead. The topic, city and network
    filters are terms of the index itself, so the engine intersects them with the words."""
    if not any(groups):
        return SearchResult([], False)
    facets = _facet_terms(filters)
    if session.get_bind().dialect.name == "postgresql":
        return await _search_postgres(session, groups, facets, filters, limit=limit, every_word=every_word,
                                      candidates=candidates)
    params: dict[str, object] = {"limit": limit, "candidates": candidates}
    where = _filter_sql(Filters(statuses=filters.statuses, drafts_of=filters.drafts_of,
                                all_drafts=filters.all_drafts, author_id=filters.author_id), params)
    words = fts5_query(groups, every_word=every_word)
    conditions = [f"({words})"] + ["facets : (" + " OR ".join(f'"{term}"' for term in alternatives) + ")"
                                   for alternatives in facets]
    params["q"] = " AND ".join(conditions)
    # bm25 is lower for better matches; a word in the title counts four times one in the text,
    # the filter terms not at all.
    sql = ("WITH c AS (SELECT practice_fts.rowid AS id, bm25(practice_fts, 4.0, 1.0, 0.0) AS score "
           "FROM practice_fts JOIN practice p ON p.id = practice_fts.rowid "
           f"WHERE practice_fts MATCH :q AND {where} ORDER BY practice_fts.rowid DESC LIMIT :candidates) "
           "SELECT id, score, (SELECT count(*) FROM c) FROM c ORDER BY score, id DESC LIMIT :limit")
    rows = (await session.exec(text(sql), params=params)).all()  # type: ignore[call-overload]
    hits = [Hit(int(row[0]), float(row[1])) for row in rows]
    return SearchResult(hits, bool(rows) and int(rows[0][2]) >= candidates)


# Above this share of the table matching, reading the table in order finds the candidates soonest;
# below it, the GIN index does.
BROAD_SHARE = 0.3


async def _search_postgres(session: AsyncSession, groups: Sequence[Sequence[str]], facets: list[list[str]],
                           filters: Filters, *, limit: int, every_word: bool, candidates: int) -> SearchResult:
    """One statement, one round trip: `practice_search(...)` (migration 0009_practice_search_function)
    makes, inside the server, the choices below.

    - The planner's estimate of how many practices match (EXPLAIN of the words and filter terms):
      less than BROAD_SHARE of the table is a narrow query, found through the GIN index; more is a
      broad one, whose candidates are found soonest by reading the table in order (the index would
      list most of the table first).
    - A narrow query has one index condition per group, ORed, rather than one tsquery ORing the
      groups: for a group of several words (and the filter terms) GIN then walks the rarest word's
      entries and skips through the common ones; an OR at the top of a single tsquery makes it
      read every word's whole list. A table scan is ruled out while it runs (`enable_seqscan`,
      set back afterwards): the planner costs a scan as if testing a row's vector were free; it is
      read out of line (TOAST) and decompressed, so a scan that has to pass a few thousand rows to
      find the candidates of a query matching a few per cent is slower than the index by far.
    - A broad query reads each candidate's vector twice (test, then rank): it ranks half the
      candidates, which keeps its cost near a precise one's.
    - Candidates as the scan yields them (no order asked, so it stops at the limit), ranked by
      ts_rank as they come: only those few vectors are read.
    """
    params: dict[str, object] = {
        "q": tsquery(groups, every_word=every_word),
        "f": " & ".join("(" + " | ".join(alternatives) + ")" for alternatives in facets) or None,
        "statuses": list(filters.statuses) if filters.statuses is not None else None,
        "draft": DRAFT, "drafts_of": filters.drafts_of, "all_drafts": filters.all_drafts,
        "author_id": filters.author_id, "limit": limit, "candidates": candidates, "broad": BROAD_SHARE}
    each = []
    for index, words in enumerate(group for group in groups if group):
        params[f"g{index}"] = tsquery([words], every_word=every_word)
        each.append(f"to_tsquery('icc_search', :g{index})")
    rows = (await session.exec(text(  # type: ignore[call-overload]
        "SELECT id, score, capped FROM practice_search(to_tsquery('icc_search', :q), "
        f"ARRAY[{', '.join(each)}]::tsquery[], to_tsquery('simple', CAST(:f AS text)), CAST(:statuses AS text[]), "
        "CAST(:draft AS text), CAST(:drafts_of AS integer), CAST(:all_drafts AS boolean), "
        "CAST(:author_id AS integer), CAST(:limit AS integer), CAST(:candidates AS integer), "
        "CAST(:broad AS double precision))"), params=params)).all()
    return SearchResult([Hit(int(row[0]), float(row[1])) for row in rows], bool(rows) and bool(rows[0][2]))


async def list_practices(session: AsyncSession, filters: Filters, *, limit: int = 20,
                         offset: int = 0) -> list[Practice]:
    params: dict[str, object] = {"limit": limit, "offset": offset}
    where = _filter_sql(filters, params)
    ids = [row[0] for row in (await session.exec(text(  # type: ignore[call-overload]
        f"SELECT p.id FROM practice p WHERE {where} ORDER BY p.updated_at DESC, p.id DESC "
        "LIMIT :limit OFFSET :offset"), params=params)).all()]
    found = await practices_by_ids(session, ids)
    return [found[practice_id] for practice_id in ids if practice_id in found]


async def count_practices(session: AsyncSession, filters: Filters) -> int:
    params: dict[str, object] = {}
    where = _filter_sql(filters, params)
    row = (await session.exec(text(f"SELECT count(*) FROM practice p WHERE {where}"),  # type: ignore[call-overload]
                              params=params)).first()
    return int(row[0]) if row else 0


async def iter_practices(session: AsyncSession, filters: Filters, *, batch: int = 500
                         ) -> AsyncIterator[tuple[Practice, list[str]]]:
    """Every practice matching `filters`, by id, fetched in batches (an export of 100,000 rows
    never holds them all in memory)."""
    last = 0
    while True:
        params: dict[str, object] = {"last": last, "batch": batch}
        where = _filter_sql(filters, params)
        ids = [row[0] for row in (await session.exec(text(  # type: ignore[call-overload]
            f"SELECT p.id FROM practice p WHERE p.id > :last AND {where} ORDER BY p.id LIMIT :batch"),
            params=params)).all()]
        if not ids:
            return
        found = await practices_by_ids(session, ids)
        topics = await topics_of(session, ids)
        for practice_id in ids:
            if practice_id in found:
                yield found[practice_id], topics[practice_id]
        session.expunge_all()
        last = ids[-1]


# ---- English versions -----------------------------------------------------------------------


async def english_due(session: AsyncSession, now: datetime, limit: int = 20) -> list[int]:
    rows = await session.exec(select(Practice.id).where(Practice.en_state == EN_PENDING,
                                                        or_(col(Practice.en_retry_at).is_(None),
                                                            col(Practice.en_retry_at) <= now))
                              .order_by(col(Practice.en_retry_at), col(Practice.id)).limit(limit))
    return [practice_id for practice_id in rows if practice_id is not None]


async def next_english_retry(session: AsyncSession) -> datetime | None:
    return (await session.exec(select(func.min(Practice.en_retry_at))
                               .where(Practice.en_state == EN_PENDING))).first()


async def unannounced(session: AsyncSession, before: datetime, limit: int = 20) -> list[int]:
    rows = await session.exec(select(Practice.id).where(Practice.status == SUBMITTED,
                                                        col(Practice.announced_at).is_(None),
                                                        col(Practice.submitted_at) <= before)
                              .order_by(col(Practice.submitted_at)).limit(limit))
    return [practice_id for practice_id in rows if practice_id is not None]


async def oldest_unannounced(session: AsyncSession) -> datetime | None:
    return (await session.exec(select(func.min(Practice.submitted_at))
                               .where(Practice.status == SUBMITTED, col(Practice.announced_at).is_(None)))).first()


async def city_names(session: AsyncSession, city_ids: Iterable[int]) -> dict[int, City]:
    ids = list(set(city_ids))
    if not ids:
        return {}
    return {city.id: city for city in await session.exec(select(City).where(col(City.id).in_(ids)))
            if city.id is not None}


async def topic_channels(session: AsyncSession, topics: Sequence[str]) -> list[Channel]:
    """The channels of every group working on one of `topics`."""
    if not topics:
        return []
    rows = await session.exec(select(Channel).join(Group, col(Group.id) == col(Channel.group_id))
                              .where(col(Group.topic).in_(list(topics))).order_by(col(Channel.id)))
    return list(rows)
