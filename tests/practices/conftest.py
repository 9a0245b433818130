"""Fixtures for the good-practice tests: the console with translation through the real deepl
client against the fake DeepL in lexicon mode, so that words really cross languages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import deepl
import pytest

from bot.translation import Translator
from tests.fakes.fake_deepl import FakeDeepL
from tests.harness import ConsoleHarness
from tests.practices.deepl_stand_in import DeepLStandIn

# A few words of the network's languages, enough for the scenarios below.
LEXICON: dict[tuple[str, str], dict[str, str]] = {
    ("FR", "EN"): {"accueil": "welcome", "des": "of", "nouveaux": "new", "arrivants": "arrivals", "aider": "help",
                   "les": "the", "migrants": "migrants", "à": "to", "trouver": "find", "leur": "their",
                   "place": "place", "dans": "in", "la": "the", "ville": "city", "ateliers": "workshops",
                   "chaque": "each", "semaine": "week", "depuis": "since", "rumeurs": "rumours",
                   "contre": "against", "quartiers": "neighbourhoods", "écoles": "schools"},
    ("IT", "EN"): {"accoglienza": "welcome", "laboratori": "workshops", "nuovi": "new", "arrivati": "arrivals",
                   "città": "city", "settimanali": "weekly", "dicerie": "rumours", "scuole": "schools"},
    ("EN", "IT"): {"welcome": "accoglienza", "of": "di", "new": "nuovi", "arrivals": "arrivati", "help": "aiutare",
                   "the": "i", "migrants": "migranti", "to": "a", "find": "trovare", "their": "il loro",
                   "place": "posto", "in": "nella", "city": "città", "workshops": "laboratori"},
    ("EN", "FR"): {"welcome": "accueil", "workshops": "ateliers", "schools": "écoles", "rumours": "rumeurs"},
    ("ES", "EN"): {"rumores": "rumours", "barrios": "neighbourhoods", "escuelas": "schools",
                   "contra": "against", "los": "the", "en": "in"},
}


@pytest.fixture
def lexicon_deepl(fake_deepl: FakeDeepL) -> FakeDeepL:
    fake_deepl.use_lexicon(LEXICON)
    return fake_deepl


@pytest.fixture
def translator(lexicon_deepl: FakeDeepL) -> DeepLStandIn:
    return DeepLStandIn(deepl.Translator("test-key:fx", server_url=lexicon_deepl.url))


async def _translated(url: str, translator: DeepLStandIn) -> ConsoleHarness:
    harness = await ConsoleHarness.start(url, demo=False)
    harness.bot.provide(Translator, translator)  # type: ignore[type-abstract]
    return harness


@pytest.fixture
async def translated_console(demo_database_url: str, translator: DeepLStandIn) -> AsyncIterator[ConsoleHarness]:
    """The demo network on the console, on each database, translating through the fake DeepL."""
    harness = await _translated(demo_database_url, translator)
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def sqlite_translated_console(sqlite_demo_url: str, translator: DeepLStandIn
                                    ) -> AsyncIterator[ConsoleHarness]:
    harness = await _translated(sqlite_demo_url, translator)
    try:
        yield harness
    finally:
        await harness.stop()
