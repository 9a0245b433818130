"""Translation storage on both databases: counters, the cache, claims that two processes race for."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.db import Database
from storage.models import TranslationCacheEntry
from storage.queries import translation as queries
from tests.harness import START


async def test_counters_add_up_per_day(database_url: str) -> None:
    database = Database(database_url)
    try:
        async with database.session() as session:
            await queries.add_usage(session, START.date(), billed_characters=10, requests=1)
            await queries.add_usage(session, START.date(), billed_characters=5, saved_by_cache=7)
            await queries.add_usage(session, (START + timedelta(days=1)).date(), saved_by_skip=3)
        async with database.session() as session:
            day = await queries.usage_between(session, START.date(), START.date())
            both = await queries.usage_between(session, START.date(), (START + timedelta(days=1)).date())
        assert (day.billed_characters, day.requests, day.saved_by_cache, day.saved_by_skip) == (15, 1, 7, 0)
        assert both.saved_by_skip == 3 and both.billed_characters == 15
    finally:
        await database.dispose()


async def test_the_cache_keeps_the_first_of_two_identical_stores(database_url: str) -> None:
    databases = [Database(database_url), Database(database_url)]
    try:
        async def store(database: Database, text: str) -> None:
            async with database.session() as session:
                await queries.store_segments(session, [TranslationCacheEntry(
                    key="k" * 64, target="EN-GB", source="FR", text=text, characters=3, created_at=START)])

        await asyncio.gather(store(databases[0], "one"), store(databases[1], "one"))
        async with databases[0].session() as session:
            found = await queries.cached_segments(session, ["k" * 64, "missing"])
        assert list(found) == ["k" * 64] and found["k" * 64].text == "one"
    finally:
        for database in databases:
            await database.dispose()


async def test_one_flag_translation_per_message_and_language_across_processes(database_url: str) -> None:
    databases = [Database(database_url), Database(database_url)]
    try:
        async def claim(database: Database, language: str) -> bool:
            async with database.session() as session:
                return await queries.claim_flag_translation(session, "slack", "T1", "C1", "171.2", language,
                                                            person_id=None, now=START)

        results = await asyncio.gather(*(claim(database, "uk") for database in databases * 3))
        assert sorted(results) == [False] * 5 + [True]
        assert await claim(databases[0], "en-GB")
        async with databases[0].session() as session:  # a failed post gives the claim back
            await queries.finish_flag_translation(session, "slack", "T1", "C1", "171.2", "uk", None)
        assert await claim(databases[1], "uk")
    finally:
        for database in databases:
            await database.dispose()


async def test_a_glossary_recorded_twice_keeps_the_first(database_url: str) -> None:
    database = Database(database_url)
    try:
        async with database.session() as session:
            first = await queries.remember_glossary(session, "acct", "EN", "FR", "v1", "g-1", START)
            second = await queries.remember_glossary(session, "acct", "EN", "FR", "v1", "g-2", START)
            assert first == second == "g-1"
            await queries.forget_glossary(session, "acct", "g-1")
            assert await queries.find_glossary_id(session, "acct", "EN", "FR", "v1") is None
    finally:
        await database.dispose()
