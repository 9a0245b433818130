"""The demo network the console starts with: the real member cities, a few groups whose
channels speak seven languages, and people to play, some of them ICC team.
Only ever loaded into the console's own database, or where `icc-bot seed --demo` asks for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.permissions import Role
from storage.models import Channel, Group, GroupCity, Person
from storage.queries import registry
from storage.seed import read_cities, seed_cities

CONSOLE = "console"
WORKSPACE = "local"


@dataclass(frozen=True)
class DemoPerson:
    user: str
    name: str
    language: str
    city: str | None = None
    icc_team: bool = False
    leads: tuple[str, ...] = ()


PEOPLE = (
    DemoPerson("alice", "Alice Martin", "en", icc_team=True),
    DemoPerson("hugo", "Hugo Lefèvre", "fr", icc_team=True),
    DemoPerson("marie", "Marie Dubois", "fr", city="Lyon"),
    DemoPerson("olena", "Olena Kovalenko", "uk", city="Odesa"),
    DemoPerson("lucia", "Lucía García", "es", city="Barcelona", leads=("anti-rumours",)),
    DemoPerson("marco", "Marco Rossi", "it", city="Milano"),
    DemoPerson("joana", "Joana Silva", "pt", city="Lisboa"),
    DemoPerson("jonas", "Jonas Weber", "de", city="Erlangen"),
    DemoPerson("tom", "Tom Evans", "en", city="Manchester", leads=("welcoming-newcomers",)),
    DemoPerson("amina", "Amina El Idrissi", "fr", city="Rabat"),
)

# group slug → (name, kind, topic, {channel: language}, member cities)
GROUPS: dict[str, tuple[str, str, str | None, dict[str, str], tuple[str, ...]]] = {
    "anti-rumours": ("Anti-rumours", "thematic", "anti-rumours",
                     {"rumours-en": "en", "rumeurs-fr": "fr", "rumores-es": "es", "chutky-uk": "uk",
                      "dicerie-it": "it"},
                     ("Barcelona", "Lyon", "Odesa", "Milano", "Manchester")),
    "welcoming-newcomers": ("Welcoming newcomers", "thematic", "welcoming-newcomers",
                            {"welcome-en": "en", "accueil-fr": "fr", "willkommen-de": "de",
                             "acolhimento-pt": "pt"},
                            ("Manchester", "Erlangen", "Lisboa", "Rabat", "Lyon")),
    "mediterranean": ("Mediterranean", "regional", None,
                      {"med-fr": "fr", "med-es": "es", "med-it": "it", "med-pt": "pt"},
                      ("Barcelona", "Milano", "Lisboa", "Rabat")),
}

# Each demo city's own channel, where its reminders land.
CITY_CHANNELS = {"Lyon": "lyon", "Odesa": "odesa", "Barcelona": "barcelona", "Milano": "milano",
                 "Lisboa": "lisboa", "Erlangen": "erlangen", "Manchester": "manchester", "Rabat": "rabat"}


async def load_demo(session: AsyncSession, now: datetime) -> None:
    await seed_cities(session, read_cities(cities_file()))
    groups: dict[str, Group] = {}
    for slug, (name, kind, topic, channels, cities) in GROUPS.items():
        group = Group(slug=slug, name=name, kind=kind, topic=topic, created_at=now)
        session.add(group)
        await session.flush()
        assert group.id is not None
        groups[slug] = group
        for channel, language in channels.items():
            session.add(Channel(platform=CONSOLE, workspace=WORKSPACE, channel_id=channel, name=channel,
                                language=language, group_id=group.id, linked_at=now))
        for city_name in cities:
            city = await registry.find_city(session, city_name)
            assert city is not None and city.id is not None, city_name
            session.add(GroupCity(group_id=group.id, city_id=city.id))
    for city_name, channel in CITY_CHANNELS.items():
        city = await registry.find_city(session, city_name)
        assert city is not None
        session.add(Channel(platform=CONSOLE, workspace=WORKSPACE, channel_id=channel, name=channel,
                            language=city.language, city_id=city.id))
    for demo in PEOPLE:
        city = await registry.find_city(session, demo.city) if demo.city else None
        person = Person(platform=CONSOLE, workspace=WORKSPACE, user_id=demo.user, display_name=demo.name,
                        language=demo.language, city_id=city.id if city else None, created_at=now)
        session.add(person)
        await session.flush()
        assert person.id is not None
        if demo.icc_team:
            await registry.grant_role(session, person.id, Role.ICC_TEAM, group_id=None, granted_by_id=None,
                                      now=now)
        for group_slug in demo.leads:
            await registry.grant_role(session, person.id, Role.GROUP_LEAD, group_id=groups[group_slug].id,
                                      granted_by_id=None, now=now)


def cities_file() -> Traversable:
    return resources.files("bot") / "data" / "icc_cities.csv"


def demo_summary() -> list[str]:
    """What a newcomer needs to start playing, for the console's banner."""
    lines = ["People:"]
    for demo in PEOPLE:
        roles = ["ICC team"] if demo.icc_team else []
        if demo.city:
            roles.append(f"coordinator of {demo.city}")
        roles += [f"lead of {slug}" for slug in demo.leads]
        lines.append(f"  @{demo.user:<6} {demo.name} ({demo.language}): {', '.join(roles) or 'newcomer'}")
    lines.append("Groups and channels:")
    for slug, (_name, _kind, _topic, channels, _cities) in GROUPS.items():
        listed = ", ".join(f"#{channel} ({language})" for channel, language in channels.items())
        lines.append(f"  {slug}: {listed}")
    lines.append("Cities' own channels (reminders and network broadcasts land here):")
    lines.append("  " + ", ".join(f"#{channel} ({city})" for city, channel in CITY_CHANNELS.items()))
    return lines



