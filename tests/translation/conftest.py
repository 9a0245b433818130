"""A DeepL translator on the fake DeepL and a fresh database, for the translation tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bot.clock import ManualClock
from bot.translation.engine import DeepLTranslator
from storage.db import Database
from tests.fakes.fake_deepl import FakeDeepL
from tests.harness import START

TranslatorFactory = Callable[..., DeepLTranslator]


@pytest.fixture
async def translator_factory(fake_deepl: FakeDeepL, sqlite_url: str) -> AsyncIterator[TranslatorFactory]:
    """Builds translators on one database (two of them are two bot processes, or a restart)."""
    made: list[DeepLTranslator] = []
    databases: list[Database] = []
    clock = ManualClock(START)

    def make(**options: object) -> DeepLTranslator:
        database = Database(str(options.pop("database_url", sqlite_url)))
        databases.append(database)
        translator = DeepLTranslator(fake_deepl.auth_key, server_url=fake_deepl.url, db=database,
                                     clock=options.pop("clock", clock), **options)  # type: ignore[arg-type]
        made.append(translator)
        return translator

    yield make
    for translator in made:
        await translator.close()
    for database in databases:
        await database.dispose()


@pytest.fixture
def translator(translator_factory: TranslatorFactory) -> DeepLTranslator:
    return translator_factory()
