"""City profiles: the sections of `/icc city show <city>` that each area of the bot contributes.

`/icc city show` prints the registry's own facts (network, language, time zone, coordinators,
groups, where reminders go) and then every registered section, in order. An area adds its
section in its `setup(bot)`:

    async def practices_section(request: ProfileRequest) -> list[Text]:
        ...  # lines about request.city, rendered later in request.locale
        return [_("Practices: {count} published", count=n)]

    city_profiles(bot).add("practices", practices_section, order=40)

A section returns no lines when it has nothing to say; one that fails is logged and left out,
so the profile always answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.i18n import Text

if TYPE_CHECKING:
    from bot.context import Interaction
    from bot.core import Bot
    from storage.models import City

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProfileRequest:
    bot: Bot
    city: City
    locale: str
    """The reader's language, for what a section formats itself (dates, numbers, language names)."""
    viewer: Interaction | None = None
    """Who asks (a section may show more to the city's coordinators or the ICC team)."""


Section = Callable[[ProfileRequest], Awaitable[Sequence[Text]]]


@dataclass(order=True)
class _Entry:
    order: int
    name: str
    section: Section = field(compare=False)


class CityProfiles:
    """The registered sections (`city_profiles(bot)`)."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def add(self, name: str, section: Section, *, order: int = 50) -> None:
        """Register `section` under `name`; a lower `order` comes first."""
        if name in self._entries:
            raise ValueError(f"profile section {name} registered twice")
        self._entries[name] = _Entry(order, name, section)

    @property
    def names(self) -> list[str]:
        return [entry.name for entry in sorted(self._entries.values())]

    async def lines(self, request: ProfileRequest) -> list[Text]:
        found: list[Text] = []
        for entry in sorted(self._entries.values()):
            try:
                found += list(await entry.section(request))
            except Exception:
                log.exception("profile section %s failed for city %s", entry.name, request.city.slug)
        return found


def city_profiles(bot: Bot) -> CityProfiles:
    """The bot's profile sections, created by whichever area asks first."""
    profiles = bot.maybe_service(CityProfiles)
    if profiles is None:
        profiles = CityProfiles()
        bot.provide(CityProfiles, profiles)
    return profiles
