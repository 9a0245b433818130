"""Fixtures for the good-practice tests: the console with the bot's DeepL translator (the relay
branch's, through the real deepl client) on the fake DeepL in lexicon mode, so that words really
cross languages. The lexicon (tests/practices/lexicon.json) also serves the console demo:
`python -m tests.fakes.fake_deepl --lexicon tests/practices/lexicon.json`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.fake_deepl import FakeDeepL, _read_lexicon
from tests.harness import ConsoleHarness

LEXICON = _read_lexicon(str(Path(__file__).with_name("lexicon.json")))


@pytest.fixture
def lexicon_deepl(fake_deepl: FakeDeepL) -> FakeDeepL:
    fake_deepl.use_lexicon(LEXICON)
    return fake_deepl


async def _translated(url: str, fake: FakeDeepL) -> ConsoleHarness:
    return await ConsoleHarness.start(url, demo=False, deepl_auth_key=fake.auth_key, deepl_server_url=fake.url)


@pytest.fixture
async def translated_console(demo_database_url: str, lexicon_deepl: FakeDeepL) -> AsyncIterator[ConsoleHarness]:
    """The demo network on the console, on each database, translating through the fake DeepL."""
    harness = await _translated(demo_database_url, lexicon_deepl)
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def sqlite_translated_console(sqlite_demo_url: str, lexicon_deepl: FakeDeepL
                                    ) -> AsyncIterator[ConsoleHarness]:
    harness = await _translated(sqlite_demo_url, lexicon_deepl)
    try:
        yield harness
    finally:
        await harness.stop()
