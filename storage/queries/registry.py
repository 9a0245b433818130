"""Queries on networks, cities, groups, channels, people and roles."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Channel, City, Group, GroupCity, Network, Person, RoleGrant
from storage.slugs import slugify

# ---- people ---------------------------------------------------------------------------------


async def upsert_person(session: AsyncSession, platform: str, workspace: str, user_id: str, *,
                        display_name: str, now: datetime, avatar_url: str | None = None,
                        platform_locale: str | None = None, timezone: str | None = None) -> Person:
    """The person behind a platform identity, created on first sight, name kept current. The
    platform's time zone only seeds `timezone` while the person has none of their own."""
    person = await get_person(session, platform, workspace, user_id)
    if person is None:
        person = Person(platform=platform, workspace=workspace, user_id=user_id,
                        display_name=display_name[:200], avatar_url=avatar_url,
                        platform_locale=platform_locale, timezone=timezone, created_at=now)
        session.add(person)
        await session.flush()
        return person
    changed = False
    for attribute, value in (("display_name", display_name[:200]), ("avatar_url", avatar_url),
                             ("platform_locale", platform_locale)):
        if value and getattr(person, attribute) != value:
            setattr(person, attribute, value)
            changed = True
    if timezone and not person.timezone:
        person.timezone = timezone
        changed = True
    if changed:
        session.add(person)
    return person


async def get_person(session: AsyncSession, platform: str, workspace: str, user_id: str) -> Person | None:
    result = await session.exec(select(Person).where(
        Person.platform == platform, Person.workspace == workspace, Person.user_id == user_id))
    return result.first()


async def find_person(session: AsyncSession, platform: str, user_id: str) -> Person | None:
    """A person by platform id in any workspace (Slack and Discord ids are unique per platform)."""
    result = await session.exec(select(Person).where(Person.platform == platform, Person.user_id == user_id))
    return result.first()


async def people_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Person]:
    if not ids:
        return {}
    result = await session.exec(select(Person).where(col(Person.id).in_(ids)))
    return {person.id: person for person in result if person.id is not None}


async def coordinators_of(session: AsyncSession, city_id: int) -> list[Person]:
    result = await session.exec(select(Person).where(Person.city_id == city_id).order_by(Person.display_name))
    return list(result)


# ---- networks and cities --------------------------------------------------------------------


async def find_network(session: AsyncSession, name: str) -> Network | None:
    slug = slugify(name)
    result = await session.exec(select(Network).where(
        or_(col(Network.slug) == slug, func.lower(Network.name) == name.strip().lower())))
    return result.first()


async def list_networks(session: AsyncSession) -> list[Network]:
    return list(await session.exec(select(Network).order_by(Network.name)))


async def find_city(session: AsyncSession, name: str) -> City | None:
    result = await session.exec(select(City).where(City.slug == slugify(name)))
    city = result.first()
    if city is None:
        # Whole words of a longer name: "Porto" finds "Paranhos (Porto)", "Seoul" finds "Guro (Seoul)",
        # when only one city matches; "Milan" does not become "Milano" without asking.
        slug = slugify(name)
        if slug:
            result = await session.exec(select(City).where(col(City.slug).contains(slug)))
            matches = [c for c in result if f"-{slug}-" in f"-{c.slug}-"]
            if len(matches) == 1:
                city = matches[0]
    return city


async def suggest_cities(session: AsyncSession, name: str, limit: int = 3) -> list[str]:
    names = {city.slug: city.name for city in await session.exec(select(City))}
    close = difflib.get_close_matches(slugify(name), list(names), n=limit, cutoff=0.6)
    return [names[slug] for slug in close]


async def list_cities(session: AsyncSession, network_id: int | None = None) -> list[City]:
    query = select(City).order_by(City.name)
    if network_id is not None:
        query = query.where(City.network_id == network_id)
    return list(await session.exec(query))


async def cities_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, City]:
    if not ids:
        return {}
    result = await session.exec(select(City).where(col(City.id).in_(ids)))
    return {city.id: city for city in result if city.id is not None}


async def network_of(session: AsyncSession, city: City) -> Network | None:
    if city.network_id is None:
        return None
    return await session.get(Network, city.network_id)


# ---- groups and channels --------------------------------------------------------------------


async def find_group(session: AsyncSession, name: str) -> Group | None:
    result = await session.exec(select(Group).where(Group.slug == slugify(name)))
    return result.first()


async def suggest_groups(session: AsyncSession, name: str, limit: int = 3) -> list[str]:
    slugs = [group.slug for group in await session.exec(select(Group))]
    return difflib.get_close_matches(slugify(name), slugs, n=limit, cutoff=0.5)


@dataclass(frozen=True)
class GroupSummary:
    group: Group
    channels: int
    cities: int
    languages: tuple[str, ...]


async def list_groups(session: AsyncSession) -> list[GroupSummary]:
    groups = list(await session.exec(select(Group).order_by(col(Group.kind).desc(), col(Group.name))))
    channels = list(await session.exec(select(Channel).where(col(Channel.group_id).is_not(None))))
    city_counts = dict((await session.exec(
        select(GroupCity.group_id, func.count()).group_by(col(GroupCity.group_id)))).all())
    summaries = []
    for group in groups:
        mine = [channel for channel in channels if channel.group_id == group.id]
        summaries.append(GroupSummary(group, len(mine), city_counts.get(group.id or 0, 0),
                                      tuple(sorted({channel.language for channel in mine}))))
    return summaries


async def group_channels(session: AsyncSession, group_id: int) -> list[Channel]:
    result = await session.exec(select(Channel).where(Channel.group_id == group_id).order_by(col(Channel.id)))
    return list(result)


async def group_cities(session: AsyncSession, group_id: int) -> list[City]:
    result = await session.exec(select(City).join(GroupCity, col(GroupCity.city_id) == City.id)
                                .where(GroupCity.group_id == group_id).order_by(City.name))
    return list(result)


async def groups_of_city(session: AsyncSession, city_id: int) -> list[Group]:
    result = await session.exec(select(Group).join(GroupCity, col(GroupCity.group_id) == Group.id)
                                .where(GroupCity.city_id == city_id).order_by(Group.name))
    return list(result)


async def add_city_to_group(session: AsyncSession, group_id: int, city_id: int) -> bool:
    if await session.get(GroupCity, (group_id, city_id)) is not None:
        return False
    session.add(GroupCity(group_id=group_id, city_id=city_id))
    await session.flush()
    return True


async def remove_city_from_group(session: AsyncSession, group_id: int, city_id: int) -> bool:
    link = await session.get(GroupCity, (group_id, city_id))
    if link is None:
        return False
    await session.delete(link)
    return True


async def get_channel(session: AsyncSession, platform: str, workspace: str, channel_id: str) -> Channel | None:
    result = await session.exec(select(Channel).where(
        Channel.platform == platform, Channel.workspace == workspace, Channel.channel_id == channel_id))
    return result.first()


async def ensure_channel(session: AsyncSession, platform: str, workspace: str, channel_id: str, *,
                         name: str = "", language: str = "en") -> Channel:
    channel = await get_channel(session, platform, workspace, channel_id)
    if channel is None:
        channel = Channel(platform=platform, workspace=workspace, channel_id=channel_id,
                          name=name or channel_id, language=language)
        session.add(channel)
        await session.flush()
    return channel


async def city_channel(session: AsyncSession, city_id: int) -> Channel | None:
    result = await session.exec(select(Channel).where(Channel.city_id == city_id).order_by(col(Channel.id)))
    return result.first()


# ---- roles ----------------------------------------------------------------------------------


def role_scope(group_id: int | None) -> str:
    return f"group:{group_id}" if group_id is not None else ""


async def grants_of(session: AsyncSession, person_id: int) -> list[RoleGrant]:
    return list(await session.exec(select(RoleGrant).where(RoleGrant.person_id == person_id)))


async def grant_role(session: AsyncSession, person_id: int, role: str, *, group_id: int | None,
                     granted_by_id: int | None, now: datetime) -> bool:
    """Returns False when the person already had that role."""
    scope = role_scope(group_id)
    existing = await session.exec(select(RoleGrant).where(
        RoleGrant.person_id == person_id, RoleGrant.role == role, RoleGrant.scope == scope))
    if existing.first() is not None:
        return False
    session.add(RoleGrant(person_id=person_id, role=role, group_id=group_id, scope=scope,
                          granted_by_id=granted_by_id, granted_at=now))
    await session.flush()
    return True


async def revoke_role(session: AsyncSession, person_id: int, role: str, *, group_id: int | None) -> bool:
    result = await session.exec(select(RoleGrant).where(
        RoleGrant.person_id == person_id, RoleGrant.role == role, RoleGrant.scope == role_scope(group_id)))
    grant = result.first()
    if grant is None:
        return False
    await session.delete(grant)
    return True


async def all_grants(session: AsyncSession) -> list[RoleGrant]:
    return list(await session.exec(select(RoleGrant).order_by(col(RoleGrant.role), col(RoleGrant.person_id))))


async def icc_team(session: AsyncSession) -> list[Person]:
    result = await session.exec(select(Person).join(RoleGrant, col(RoleGrant.person_id) == Person.id)
                                .where(RoleGrant.role == "icc-team").order_by(Person.display_name))
    return list(result)
