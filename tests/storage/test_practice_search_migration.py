"""Migrations 0008_practice_search and 0009_practice_search_function on both engines: practices
stored before them are found after them, by their words and filters; after them the index follows
inserts and edits; they downgrade cleanly (the index still works on 0007's schema, the search
function goes with 0009) and upgrade again."""

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from storage.db import Database, sync_url
from storage.migrate import alembic_config, current_revisions, head_revisions, upgrade
from storage.queries import practices as queries

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    from tests.conftest import NO_POSTGRES, POSTGRES_URL, create_postgres_database, drop_postgres_database, postgres_url

    if POSTGRES_URL is None:
        pytest.skip(NO_POSTGRES)
    name = create_postgres_database()
    yield postgres_url(name)
    drop_postgres_database(name)


def _downgrade(url: str, revision: str) -> None:
    engine = create_engine(sync_url(url), poolclass=NullPool)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    engine.dispose()


def _sql(url: str, statement: str, **params: object) -> None:
    engine = create_engine(sync_url(url), poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text(statement), params)
    engine.dispose()


def _add(url: str, practice_id: int, title: str, purpose: str, topic: str, city_id: int) -> None:
    _sql(url, "INSERT INTO practice (id, title, city_id, network_id, period, purpose, rationale, process, link, "
              "contact, topics, language, status, en_state, en_attempts, author_name, created_at, updated_at, "
              "review_note) VALUES (:id, :title, :city, 1, '', :purpose, '', '', '', '', :topic, 'fr', "
              "'submitted', 'pending', 0, '', :now, :now, '')",
         id=practice_id, title=title, city=city_id, purpose=purpose, topic=topic, now=NOW)
    _sql(url, "INSERT INTO practice_topic (practice_id, topic) VALUES (:id, :topic)", id=practice_id, topic=topic)


def _search(url: str, words: str, filters: queries.Filters | None = None) -> list[int]:
    async def run() -> list[int]:
        database = Database(url)
        try:
            async with database.session() as session:
                result = await queries.search(session, [queries.search_words(words)], filters or queries.Filters())
            return [hit.practice_id for hit in result.hits]
        finally:
            await database.dispose()

    return asyncio.run(run())


def _matching(url: str, word: str, topic: str | None = None) -> list[int]:
    """The practices whose index has `word` (and `topic`), straight from the index: on PostgreSQL
    before 0009 the search function the bot calls does not exist yet."""
    if not url.startswith("postgresql"):
        return _search(url, word, queries.Filters(topic=topic))
    engine = create_engine(sync_url(url), poolclass=NullPool)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT id FROM practice WHERE search @@ (to_tsquery('icc_search', :word) && "
            "to_tsquery('simple', :facet)) ORDER BY id"),
            {"word": word, "facet": queries.topic_term(topic) if topic else "zc1 | zc2"}).all()
    engine.dispose()
    return [row[0] for row in rows]


def _has_search_function(url: str) -> bool:
    engine = create_engine(sync_url(url), poolclass=NullPool)
    with engine.connect() as connection:
        found = connection.execute(text("SELECT 1 FROM pg_proc WHERE proname = 'practice_search'")).first()
    engine.dispose()
    return found is not None


def test_practices_from_before_are_found_after_and_it_downgrades_cleanly(empty_database: str) -> None:
    url = empty_database
    upgrade(url, "0007_broadcasts")
    _sql(url, "INSERT INTO network (id, slug, name) VALUES (1, 'net', 'Network')")
    for city_id, name in ((1, "Lyon"), (2, "Milano")):
        _sql(url, "INSERT INTO city (id, slug, name, country, language, timezone, network_id, note, reminders_to) "
                  "VALUES (:id, :slug, :name, 'X', 'fr', 'Europe/Paris', 1, '', 'channel')",
             id=city_id, slug=name.lower(), name=name)
    _add(url, 1, "Médiation scolaire", "Des médiateurs dans les écoles.", "education", 1)
    _add(url, 2, "Jardins partagés", "Cultiver ensemble.", "participation", 2)

    upgrade(url)
    assert current_revisions(url) == head_revisions() == ("0009_practice_search_function",)
    assert _search(url, "médiateurs écoles") == [1]
    assert _search(url, "jardins", queries.Filters(city_id=2)) == [2]
    assert _search(url, "jardins", queries.Filters(city_id=1)) == []
    assert _search(url, "cultiver", queries.Filters(topic="participation")) == [2]

    # After the migration: new rows and edits of the indexed text are followed; other edits keep it.
    _add(url, 3, "Théâtre forum", "Des ateliers de théâtre.", "education", 1)
    _sql(url, "UPDATE practice SET title = 'Potagers urbains', purpose = 'Semer des graines.' WHERE id = 2")
    _sql(url, "UPDATE practice SET status = 'published', announced_at = :now WHERE id = 1", now=NOW)
    assert _search(url, "théâtre") == [3]
    assert _search(url, "potagers graines") == [2]
    assert _search(url, "jardins") == []
    assert _search(url, "médiateurs") == [1]

    _downgrade(url, "0007_broadcasts")
    assert current_revisions(url) == ("0007_broadcasts",)
    assert _matching(url, "potagers") == [2]
    assert _matching(url, "théâtre", "education") == [3]

    upgrade(url)
    _add(url, 4, "Potagers partagés", "Des graines.", "participation", 2)
    assert sorted(_search(url, "potagers graines")) == [2, 4]
    assert _search(url, "médiateurs") == [1]


def test_the_search_function_comes_with_0009_and_goes_with_its_downgrade(empty_database: str) -> None:
    url = empty_database
    postgres = url.startswith("postgresql")
    upgrade(url, "0008_practice_search")
    _sql(url, "INSERT INTO network (id, slug, name) VALUES (1, 'net', 'Network')")
    _sql(url, "INSERT INTO city (id, slug, name, country, language, timezone, network_id, note, reminders_to) "
              "VALUES (1, 'lyon', 'Lyon', 'X', 'fr', 'Europe/Paris', 1, '', 'channel')")
    _add(url, 1, "Médiation scolaire", "Des médiateurs dans les écoles.", "education", 1)
    assert not postgres or not _has_search_function(url)

    upgrade(url)
    assert current_revisions(url) == ("0009_practice_search_function",)
    assert not postgres or _has_search_function(url)
    assert _search(url, "médiateurs écoles") == [1]
    assert _search(url, "médiateurs", queries.Filters(topic="education", network_id=1)) == [1]
    assert _search(url, "médiateurs", queries.Filters(topic="participation")) == []

    _downgrade(url, "0008_practice_search")
    assert current_revisions(url) == ("0008_practice_search",)
    assert not postgres or not _has_search_function(url)
    assert _matching(url, "médiateurs") == [1]

    upgrade(url)
    assert _search(url, "médiateurs écoles") == [1]
