"""Suggestions while typing command options, from the database and the static lists."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import create_bot
from bot.clock import ManualClock
from bot.completion import Choice, Completer, CompletionRequest, rank
from bot.core import Bot
from bot.events import PersonRef
from bot.settings import Settings
from tests.harness import START


@pytest.fixture
async def bot(demo_database_url: str) -> AsyncIterator[Bot]:
    bot = await create_bot(Settings(_env_file=None, database_url=demo_database_url), database_url=demo_database_url,
                           clock=ManualClock(START), migrate=False)
    yield bot
    await bot.db.dispose()


async def values(bot: Bot, source: str, typed: str, **options: object) -> list[str]:
    return [choice.value for choice in await bot.service(Completer).complete(source, typed, **options)]  # type: ignore


async def test_groups_cities_networks(bot: Bot) -> None:
    assert await values(bot, "group", "rum") == ["anti-rumours"]  # a word inside the name
    assert (await values(bot, "group", ""))[:3] == ["anti-rumours", "mediterranean", "welcoming-newcomers"]
    assert (await values(bot, "city", "lis"))[0] == "Lisboa"
    assert "Reggio Emilia" in await values(bot, "city", "reggio")
    assert await values(bot, "city", "forli") == ["Forlì"]  # accents forgiven
    assert await values(bot, "network", "rec") == ["reci"]
    assert len(await values(bot, "city", "")) == 25  # never more than Discord shows


async def test_the_askers_city_comes_first(bot: Bot) -> None:
    marie = PersonRef("console", "local", "marie")  # coordinator of Lyon in the demo network
    assert (await values(bot, "city", "", person=marie))[0] == "Lyon"


async def test_topics_languages_roles(bot: Bot) -> None:
    assert await values(bot, "topic", "anti") == ["anti-discrimination", "anti-rumours"]
    assert await values(bot, "topic", "rumour") == ["anti-rumours"]
    completer = bot.service(Completer)
    [ukrainian] = [c for c in await completer.complete("language", "ukr", locale="fr") if c.value == "uk"]
    assert ukrainian.label == "ukrainien (uk)"
    assert (await values(bot, "language", "pt"))[0] == "pt"  # an exact code first
    assert await values(bot, "role", "lead") == ["group-lead"]


async def test_other_areas_add_their_own_sources_and_unknown_ones_are_empty(bot: Bot) -> None:
    async def deadlines(bot: Bot, request: CompletionRequest) -> list[Choice]:
        return rank(request.typed, [(Choice("#7 Annual survey", "7"), ("7", "annual survey"))])

    completer = bot.service(Completer)
    completer.add("deadline", deadlines)
    assert await values(bot, "deadline", "annual") == ["7"]
    assert await values(bot, "nothing-known", "x") == []


def test_labels_and_values_are_clipped_to_what_platforms_accept() -> None:
    ranked = rank("", [(Choice("x" * 150, "v"), ("x",))])
    assert ranked[0].label == "x" * 150  # rank keeps them; Completer.complete clips
