"""Who a broadcast reaches: the audience the ICC team names, resolved to destinations.

- `all`: every channel linked to a group.
- `group:<g>`: that group's channels.
- `network:<n>`: the own channels of that network's cities (`Channel.city_id`). Group channels
  are left out: they are shared with cities of other networks, so posting there would reach
  people outside the network. A city of the network with no channel of its own is named in the
  preview as not reached.
- `lang:<code>`: every channel linked to a group or a city whose language is that one (`pt`
  takes `pt-BR` too; `pt-BR` only `pt-BR`).
- `cities:<a>,<b>`: those cities' own channels; a listed city with none is reached through its
  coordinators by direct message, and one with neither is listed as undeliverable.

Everything is resolved before anything is stored: an unknown name raises UsageError. The
destinations are fixed when the preview is made; what the sender confirms is what is delivered
(a channel that leaves the audience before a scheduled broadcast goes out is skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import UsageError
from bot.i18n import Message, _, _n
from bot.languages import base_language, parse_language
from bot.lookups import cities_named, group_named, language_code, network_named
from storage.models import Channel, City, Person
from storage.models.broadcasts import CHANNEL, DM, NOWHERE
from storage.queries import registry

MAX_LISTED_CITIES = 200

LabelFn = Callable[[Channel], str]
"""How a stored channel is named to the sender (the running adapter's label, or `#name`)."""


@dataclass(frozen=True)
class Destination:
    kind: str
    """`channel`, `dm` or `nowhere`."""
    platform: str
    workspace: str
    address: str
    label: str
    language: str
    city_id: int | None = None
    formality: str | None = None
    fallback: str | None = None


@dataclass(frozen=True)
class Audience:
    spec: str
    """Normalised, as stored: `all`, `group:<slug>`, `network:<slug>`, `lang:<code>`, `cities:<name>,…`."""
    destinations: list[Destination]
    unreached: list[str] = field(default_factory=list)
    """Cities of a network with no channel of their own: named in the preview, not stored."""


def audience_label(spec: str) -> Message:
    """How an audience reads in a sentence: `network international`, `every group channel`."""
    kind, _sep, rest = spec.partition(":")
    match kind:
        case "group":
            return _("group `{group}`", group=rest)
        case "network":
            return _("network `{network}`", network=rest)
        case "lang":
            return _("the channels in `{language}`", language=rest)
        case "cities":
            names = rest.split(",")
            shown = ", ".join(names[:5])
            if len(names) > 5:
                return _n("{count} cities: {names} and {more} more", "{count} cities: {names} and {more} more",
                          len(names), names=shown, more=len(names) - 5)
            return _n("the city {names}", "the cities {names}", len(names), names=shown)
    return _("every group channel")


def channel_destination(channel: Channel, label: str) -> Destination:
    return Destination(CHANNEL, channel.platform, channel.workspace, channel.channel_id, label,
                       channel.language, channel.city_id, channel.formality, channel.fallback_language)


async def resolve(session: AsyncSession, text: str, label: LabelFn) -> Audience:
    """What the sender typed after `to=` → the destinations. Raises UsageError (nothing stored)."""
    value = text.strip() or "all"
    kind, _sep, rest = value.partition(":")
    kind, rest = kind.strip().lower(), rest.strip()
    if kind == "city":
        kind = "cities"
    if kind == "all" and not rest:
        channels = list(await session.exec(select(Channel).where(col(Channel.group_id).is_not(None))
                                           .order_by(col(Channel.id))))
        if not channels:
            raise UsageError(_("No channel is linked to a group yet, so nobody would get it."))
        return Audience("all", _channels(channels, label))
    if kind == "group" and rest:
        group = await group_named(session, rest)
        assert group.id is not None
        channels = await registry.group_channels(session, group.id)
        if not channels:
            raise UsageError(_("The group `{group}` has no linked channel yet, so nobody would get it.",
                               group=group.slug))
        return Audience(f"group:{group.slug}", _channels(channels, label))
    if kind == "network" and rest:
        network = await network_named(session, rest)
        cities = await registry.list_cities(session, network.id)
        channels = await _city_channels(session, [city.id for city in cities if city.id is not None])
        if not channels:
            raise UsageError(_("No city of the network `{network}` has a channel of its own yet, so nobody would "
                               "get it. `to=cities:<a>,<b>` reaches cities' coordinators by direct message.",
                               network=network.slug))
        with_channel = {channel.city_id for channel in channels}
        unreached = [city.name for city in cities if city.id not in with_channel]
        return Audience(f"network:{network.slug}", _channels(channels, label), unreached)
    if kind == "lang" and rest:
        code = language_code(rest)
        candidates = await session.exec(select(Channel).where(
            or_(col(Channel.group_id).is_not(None), col(Channel.city_id).is_not(None))).order_by(col(Channel.id)))
        channels = [channel for channel in candidates if speaks(channel.language, code)]
        if not channels:
            raise UsageError(_("No linked channel is in `{language}`, so nobody would get it.", language=code))
        return Audience(f"lang:{code}", _channels(channels, label))
    if kind == "cities" and rest:
        return await _listed_cities(session, rest, label)
    raise UsageError(_("`{audience}` is not an audience. Write `all`, `group:<group>`, `network:<network>`, "
                       "`lang:<code>` or `cities:<city>,<city>`.", audience=value[:80]))


def speaks(channel_language: str, code: str) -> bool:
    """`lang:pt` takes `pt` and `pt-BR`; `lang:pt-BR` takes only `pt-BR`."""
    if "-" in code:
        return channel_language.lower() == code.lower()
    return base_language(channel_language) == code


def _channels(channels: Iterable[Channel], label: LabelFn) -> list[Destination]:
    seen: set[tuple[str, str, str]] = set()
    found = []
    for channel in channels:
        key = (channel.platform, channel.workspace, channel.channel_id)
        if key not in seen:
            seen.add(key)
            found.append(channel_destination(channel, label(channel)))
    return found


async def _city_channels(session: AsyncSession, city_ids: list[int]) -> list[Channel]:
    if not city_ids:
        return []
    result = await session.exec(select(Channel).where(col(Channel.city_id).in_(city_ids)).order_by(col(Channel.id)))
    return list(result)


async def _listed_cities(session: AsyncSession, text: str, label: LabelFn) -> Audience:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if len(names) > MAX_LISTED_CITIES:
        raise UsageError(_("At most {count} cities can be listed; use a network or `all` instead.",
                           count=MAX_LISTED_CITIES))
    cities = await cities_named(session, names)
    channels = await _city_channels(session, [city.id for city in cities if city.id is not None])
    destinations = _channels(channels, label)
    with_channel = {channel.city_id for channel in channels}
    for city in cities:
        if city.id in with_channel:
            continue
        assert city.id is not None
        coordinators = await registry.coordinators_of(session, city.id)
        if coordinators:
            destinations += [_person_destination(person, city) for person in coordinators]
        else:
            destinations.append(Destination(NOWHERE, "", "", city.slug, city.name, city.language, city.id))
    if all(destination.kind == NOWHERE for destination in destinations):
        raise UsageError(_n("{names} has no channel and no registered coordinator, so nobody would get it.",
                            "None of {names} has a channel or a registered coordinator, so nobody would get it.",
                            len(cities), names=", ".join(city.name for city in cities)))
    return Audience("cities:" + ",".join(city.name for city in cities), destinations)


def _person_destination(person: Person, city: City) -> Destination:
    language = next((code for code in (person.language, person.platform_locale)
                     if code and parse_language(code)), city.language)
    language = parse_language(language) or city.language
    return Destination(DM, person.platform, person.workspace, person.user_id,
                       f"{person.display_name or person.user_id} ({city.name})", language, city.id)
