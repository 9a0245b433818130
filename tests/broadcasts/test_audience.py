"""Audiences resolved on the demo network: which channels each one takes, and which it leaves out."""

from __future__ import annotations

import pytest

from bot.broadcasts.audience import Audience, resolve, speaks
from bot.commands import UsageError
from bot.i18n import render
from storage.db import Database
from storage.models import Channel


async def resolved(url: str, text: str) -> Audience:
    db = Database(url)
    try:
        async with db.session() as session:
            return await resolve(session, text, lambda channel: f"#{channel.channel_id}")
    finally:
        await db.dispose()


def channels(audience: Audience) -> list[str]:
    return sorted(d.address for d in audience.destinations if d.kind == "channel")


async def test_a_network_takes_its_cities_own_channels_and_no_group_channel(sqlite_demo_url: str) -> None:
    audience = await resolved(sqlite_demo_url, "network:International")
    assert audience.spec == "network:international"
    assert channels(audience) == ["erlangen", "lyon"]
    assert "Lyon" not in audience.unreached and "Amman" in audience.unreached
    assert {(d.address, d.language) for d in audience.destinations} == {("erlangen", "de"), ("lyon", "fr")}


async def test_all_takes_every_group_channel(sqlite_demo_url: str) -> None:
    audience = await resolved(sqlite_demo_url, "")
    assert audience.spec == "all" and len(channels(audience)) == 13
    assert "lyon" not in channels(audience)


async def test_a_group_takes_its_channels(sqlite_demo_url: str) -> None:
    audience = await resolved(sqlite_demo_url, "group:Mediterranean")
    assert audience.spec == "group:mediterranean"
    assert channels(audience) == ["med-es", "med-fr", "med-it", "med-pt"]


async def test_a_language_takes_every_linked_channel_in_it(sqlite_demo_url: str) -> None:
    assert channels(await resolved(sqlite_demo_url, "lang:PT")) == ["acolhimento-pt", "lisboa", "med-pt"]
    assert speaks("pt-BR", "pt") and not speaks("pt", "pt-BR") and speaks("pt-BR", "pt-BR")


async def test_listed_cities_without_a_channel_go_to_their_coordinators_or_are_named(sqlite_demo_url: str) -> None:
    db = Database(sqlite_demo_url)
    async with db.session() as session:
        session.add(Channel(platform="console", workspace="local", channel_id="milano-2", name="milano-2",
                            language="it", city_id=(await _city_id(session, "Milano"))))
    await db.dispose()
    audience = await resolved(sqlite_demo_url, "cities: Milano , Odesa,getxo")
    assert audience.spec == "cities:Getxo,Milano,Odesa"
    assert [(d.kind, d.address) for d in audience.destinations] == [
        ("channel", "odesa"), ("channel", "milano"), ("channel", "milano-2"), ("nowhere", "getxo")]


async def _city_id(session, name: str) -> int:  # type: ignore[no-untyped-def]
    from storage.queries import registry

    city = await registry.find_city(session, name)
    assert city is not None and city.id is not None
    return city.id


@pytest.mark.parametrize(("text", "problem"), [
    ("group:", "is not an audience"),
    ("network:", "is not an audience"),
    ("planet:mars", "is not an audience"),
    ("lang:tlh", "is not a language code I know"),
    ("lang:is", "No linked channel is in `is`"),
    ("network:rpci", None),
])
async def test_what_cannot_be_resolved_is_refused(sqlite_demo_url: str, text: str, problem: str | None) -> None:
    if problem is None:
        assert channels(await resolved(sqlite_demo_url, text)) == ["lisboa"]
        return
    with pytest.raises(UsageError) as raised:
        await resolved(sqlite_demo_url, text)
    assert problem in render(raised.value.message, "en")
