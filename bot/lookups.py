"""Finding what a command names (a group, a city, a person, a language), with a clear answer
when it does not exist. Every function raises UsageError, which the dispatcher turns into a reply
in the asker's language."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import UsageError
from bot.context import Interaction
from bot.i18n import _
from bot.languages import parse_language
from bot.topics import Topic, find_topic
from storage.models import City, Group, Network, Person
from storage.queries import registry


async def group_named(session: AsyncSession, name: str) -> Group:
    group = await registry.find_group(session, name)
    if group is None:
        close = await registry.suggest_groups(session, name)
        if close:
            raise UsageError(_("There is no group `{name}`. Did you mean: {names}?", name=name[:80],
                               names=", ".join(close)))
        raise UsageError(_("There is no group `{name}`. `/icc group list` shows them all.", name=name[:80]))
    return group


async def city_named(session: AsyncSession, name: str) -> City:
    city = await registry.find_city(session, name)
    if city is None:
        close = await registry.suggest_cities(session, name)
        if close:
            raise UsageError(_("I don't know the city `{name}`. Did you mean: {names}?", name=name[:80],
                               names=", ".join(close)))
        raise UsageError(_("I don't know the city `{name}`. `/icc city list` shows the member cities.",
                           name=name[:80]))
    return city


async def cities_named(session: AsyncSession, names: list[str]) -> list[City]:
    """Every city of a list, sorted by name; one unknown name gets suggestions, several are listed."""
    found: dict[int, City] = {}
    unknown: list[str] = []
    for name in names:
        city = await registry.find_city(session, name)
        if city is None:
            unknown.append(name)
        elif city.id is not None:
            found[city.id] = city
    if len(unknown) == 1:
        await city_named(session, unknown[0])  # raises, with suggestions
    if unknown:
        raise UsageError(_("I don't know these cities: {names}. `/icc city list` shows the member cities.",
                           names=", ".join(f"`{name[:60]}`" for name in unknown[:10])))
    return sorted(found.values(), key=lambda city: city.name)


async def network_named(session: AsyncSession, name: str) -> Network:
    network = await registry.find_network(session, name)
    if network is None:
        names = ", ".join(n.slug for n in await registry.list_networks(session))
        raise UsageError(_("There is no network `{name}`. The networks are: {names}.", name=name[:80],
                           names=names))
    return network


async def person_named(session: AsyncSession, ix: Interaction, word: str) -> Person:
    """A person as the asker's platform writes them (`@name`, `<@U123>`); recorded on first mention."""
    platform = ix.person.platform
    adapter = ix.bot.adapters.get(platform)
    user_id = adapter.parse_mention(word) if adapter is not None else None
    if user_id is None:
        raise UsageError(_("`{word}` is not a person. Mention them, like @name.", word=word[:80]))
    person = await registry.find_person(session, platform, user_id)
    if person is None:
        person = await registry.upsert_person(session, platform, ix.person.workspace, user_id,
                                              display_name=user_id, now=ix.bot.clock.now())
    return person


def language_code(text: str) -> str:
    code = parse_language(text)
    if code is None:
        raise UsageError(_("`{code}` is not a language code I know. Use two letters, like fr, uk or pt-BR.",
                           code=text[:20]))
    return code


def topic_named(text: str) -> Topic:
    topic = find_topic(text)
    if topic is None:
        raise UsageError(_("`{topic}` is not one of the programme's topics. `/icc help topics` lists them.",
                           topic=text[:80]))
    return topic
