"""Full-text search in storage, on SQLite (FTS5) and PostgreSQL (tsvector): words never become
query syntax, the index follows every write, filters and drafts, ranking."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import City, Practice
from storage.queries import practices as queries

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)


async def _city(db: Database, name: str) -> City:
    async with db.session() as session:
        from storage.queries.registry import find_city

        city = await find_city(session, name)
        assert city is not None
        return city


async def _add(db: Database, city: City, title: str, purpose: str, *, topics: tuple[str, ...] = ("education",),
               status: str = "submitted", title_en: str | None = None, author_id: int | None = None) -> int:
    async with db.session() as session:
        practice = Practice(title=title, purpose=purpose, city_id=city.id, language="fr", status=status,
                            title_en=title_en, created_at=NOW, updated_at=NOW, author_id=author_id)
        await queries.add_practice(session, practice, topics)
        assert practice.id is not None
        return practice.id


async def _search(db: Database, query: str, filters: queries.Filters | None = None) -> list[int]:
    async with db.session() as session:
        result = await queries.search(session, [queries.search_words(query)], filters or queries.Filters())
    return [hit.practice_id for hit in result.hits]


@pytest.fixture
async def db(demo_database_url: str):  # type: ignore[no-untyped-def]
    database = Database(demo_database_url)
    yield database
    await database.dispose()


async def test_words_accents_stems_and_the_english_version_are_found(db: Database) -> None:
    lyon = await _city(db, "Lyon")
    first = await _add(db, lyon, "Accueil des nouveaux arrivants", "Des ateliers pour les élèves.",
                       title_en="Welcoming newcomers")
    await _add(db, lyon, "Jardins partagés", "Cultiver ensemble dans le quartier.")
    assert await _search(db, "accueil") == [first]
    assert await _search(db, "eleves") == [first]          # accents folded
    assert await _search(db, "ÉLÈVES ateliers") == [first]
    assert await _search(db, "newcomer") == [first]        # English stem
    assert await _search(db, "welcome newcomers") == [first]
    assert await _search(db, "élève") == [first]           # a stem shared with `élèves`
    assert await _search(db, "accueil jardins") == []      # every word must match


@pytest.mark.parametrize("query", ["'; DROP TABLE practice; --", "title:x OR", '"unbalanced', "NEAR(", "a* OR b*",
                                   "accueil) OR (x", "-accueil", "accueil:* & !x", "\\' \\\" %", "^accueil"])
async def test_query_syntax_typed_by_people_is_only_words(db: Database, query: str) -> None:
    lyon = await _city(db, "Lyon")
    first = await _add(db, lyon, "Accueil des nouveaux arrivants", "Des ateliers.")
    found = await _search(db, query)
    assert found in ([], [first])
    async with db.session() as session:
        assert len(list(await session.exec(select(Practice)))) == 1


async def test_the_index_follows_edits_and_deletes(db: Database) -> None:
    lyon = await _city(db, "Lyon")
    practice_id = await _add(db, lyon, "Médiation scolaire", "Des médiateurs dans les écoles.")
    async with db.session() as session:
        practice = await queries.get_practice(session, practice_id)
        assert practice is not None
        practice.purpose = "Des ateliers de théâtre."
        practice.purpose_en = "Theatre workshops."
        session.add(practice)
    assert await _search(db, "médiateurs") == []
    assert await _search(db, "theatre") == [practice_id]
    async with db.session() as session:
        assert await queries.delete_practice(session, practice_id)
    assert await _search(db, "theatre") == []


async def test_filters_drafts_and_title_ranking(db: Database) -> None:
    lyon, milano = await _city(db, "Lyon"), await _city(db, "Milano")
    in_title = await _add(db, lyon, "Rumeurs : les agents anti-rumeurs", "Former des volontaires.",
                          topics=("anti-rumours",))
    in_text = await _add(db, milano, "Volontari in città", "Contro le rumeurs, rumeurs e dicerie.",
                         topics=("participation",))
    draft = await _add(db, lyon, "Rumeurs du quartier", "Un brouillon.", status="draft", author_id=7)
    assert await _search(db, "rumeurs") == [in_title, in_text]
    assert await _search(db, "rumeurs", queries.Filters(topic="participation")) == [in_text]
    assert await _search(db, "rumeurs", queries.Filters(city_id=lyon.id)) == [in_title]
    assert await _search(db, "rumeurs", queries.Filters(network_id=milano.network_id)) == [in_text]
    assert draft in await _search(db, "rumeurs", queries.Filters(drafts_of=7))
    assert draft not in await _search(db, "rumeurs", queries.Filters(drafts_of=8))
    assert draft in await _search(db, "rumeurs", queries.Filters(all_drafts=True))
    assert await _search(db, "rumeurs", queries.Filters(all_drafts=True, author_id=7)) == [draft]
    assert await _search(db, "rumeurs", queries.Filters(statuses=("draft",))) == [draft]
    assert await _search(db, "rumeurs", queries.Filters(statuses=("submitted", "published"))) == [in_title, in_text]
    assert await _search(db, "rumeurs", queries.Filters(statuses=())) == []
    # Two groups (the words as typed, the words in English) and any word instead of every word.
    async with db.session() as session:
        either = await queries.search(session, [["agents", "dicerie"], ["volontari", "nothing"]],
                                      queries.Filters(), every_word=False)
        both = await queries.search(session, [["agents", "dicerie"], ["volontari", "nothing"]], queries.Filters())
    assert sorted(hit.practice_id for hit in either.hits) == sorted([in_title, in_text])
    assert both.hits == []


async def test_many_matches_are_capped_and_said(db: Database) -> None:
    lyon = await _city(db, "Lyon")
    for index in range(6):
        await _add(db, lyon, f"Atelier {index}", "Des ateliers.")
    async with db.session() as session:
        capped = await queries.search(session, [["ateliers"]], queries.Filters(), limit=3, candidates=4)
        exact = await queries.search(session, [["ateliers"]], queries.Filters(), limit=3)
    assert capped.capped and len(capped.hits) == 3
    assert not exact.capped and len(exact.hits) == 3


def test_search_words_drop_syntax_and_stop_words() -> None:
    assert queries.search_words("'; DROP TABLE practice; --") == ["drop", "table", "practice"]
    assert queries.search_words('Accueil des "nouveaux" arrivants*') == ["accueil", "nouveaux", "arrivants"]
    assert queries.search_words("the of") == ["the", "of"]
    assert queries.fts5_query([["a\"b", "migra"]]) == '("a""b" AND "migra")'
    assert queries.tsquery([["it's"], ["x", "y"]], every_word=False) == "('it''s') | ('x' | 'y')"
