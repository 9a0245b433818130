"""A person's home page (Slack's App Home): their city, its groups, and what other areas add
(upcoming deadlines and their status, recent practices).

Platforms only render it: `await home_page(bot, author)` gathers everything in the reader's
language. Areas add their part in their `setup(bot)` with `home_parts(bot).add(part, order=…)`,
where `part(ix)` returns the `HomeSection`s for the person of `ix` (an empty list to say nothing).
This module imports none of those areas: they register with it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.context import Interaction
from bot.core import Bot
from bot.events import Author
from bot.i18n import Text, _, _n, render
from bot.languages import language_name
from bot.outbound import Button
from storage.models import City, Group
from storage.queries import registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HomeSection:
    title: Text
    lines: tuple[Text, ...] = ()
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class RenderedSection:
    title: str
    lines: tuple[str, ...]
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class RenderedHome:
    title: str
    sections: tuple[RenderedSection, ...]
    locale: str


HomePart = Callable[[Interaction], Awaitable[list[HomeSection]]]

CITY_ORDER, DEADLINES_ORDER, PRACTICES_ORDER, DEFAULT_ORDER, ROLES_ORDER = 10, 20, 30, 50, 90
"""Where a part stands on the page: the city first, then what it owes, what its groups did, and
the person's own roles last."""


@dataclass
class HomePage:
    """The parts of the home page, by `order`, then in the order they were added."""

    parts: list[HomePart] = field(default_factory=list)
    _orders: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._orders = [DEFAULT_ORDER] * len(self.parts)

    def add(self, part: HomePart, *, order: int = DEFAULT_ORDER) -> None:
        index = sum(1 for existing in self._orders if existing <= order)
        self.parts.insert(index, part)
        self._orders.insert(index, order)


def home_parts(bot: Bot) -> HomePage:
    """The bot's home page, created on first use: any area may add its part in its `setup`,
    whatever order the areas are loaded in."""
    page = bot.maybe_service(HomePage)
    if page is None:
        page = HomePage()
        bot.provide(HomePage, page)
    return page


def setup(bot: Bot) -> None:
    page = home_parts(bot)
    page.add(city_part, order=CITY_ORDER)
    page.add(roles_part, order=ROLES_ORDER)


async def home_page(bot: Bot, author: Author) -> RenderedHome:
    """Everything the person's home shows, rendered in their language. A failing part is left
    out (and logged) rather than costing the person the whole page."""
    ix = await bot.interaction(author, None)
    sections: list[HomeSection] = []
    page = bot.maybe_service(HomePage)
    for part in page.parts if page is not None else [city_part, roles_part]:
        try:
            sections += await part(ix)
        except Exception:
            log.exception("home part %s failed", getattr(part, "__name__", part))
    rendered = tuple(RenderedSection(ix.t(s.title), tuple(ix.t(line) for line in s.lines),
                                     tuple(button.rendered(ix.locale) for button in s.buttons)) for s in sections)
    return RenderedHome(render(_("ICC bot: your home"), ix.locale), rendered, ix.locale)


async def city_part(ix: Interaction) -> list[HomeSection]:
    if ix.person.city_id is None:
        return [HomeSection(_("Your city"), (
            _("You are not registered as a city coordinator yet."),
            _("Register with `/icc city register <city>` to follow your city's deadlines here."),
        ))]
    async with ix.bot.db.session() as session:
        city = await session.get(City, ix.person.city_id)
        if city is None:
            return []
        network = await registry.network_of(session, city)
        groups = await registry.groups_of_city(session, ix.person.city_id)
        channels = {group.id: await registry.group_channels(session, group.id) for group in groups
                    if group.id is not None}
    city_lines: list[Text] = [
        _("**{city}** ({country})", city=city.name, country=city.country),
        _("Network: {network}", network=network.name if network else "—"),
        _("Language: {language} · time zone: {timezone}", language=language_name(city.language, ix.locale),
          timezone=city.timezone),
    ]
    return [HomeSection(_("Your city"), tuple(city_lines)),
            HomeSection(_("Your city's groups"), tuple(_group_line(group, len(channels.get(group.id or 0, [])))
                                                         for group in groups)
                        or (_("{city} is in no group yet. `/icc group join <group>` adds it.", city=city.name),))]


def _group_line(group: Group, channel_count: int) -> Text:
    kind = _("regional") if group.kind == "regional" else _("thematic")
    return _n("• **{name}** (`{slug}`, {kind}): {count} linked channel",
              "• **{name}** (`{slug}`, {kind}): {count} linked channels", channel_count,
              name=group.name, slug=group.slug, kind=kind)


async def roles_part(ix: Interaction) -> list[HomeSection]:
    lines: list[Text] = []
    if ix.roles.icc_team:
        lines.append(_("You are on the ICC team."))
    if ix.roles.lead_of:
        async with ix.bot.db.session() as session:
            names = []
            for group_id in sorted(ix.roles.lead_of):
                group = await session.get(Group, group_id)
                if group is not None:
                    names.append(group.name)
        lines.append(_("You lead: {groups}.", groups=", ".join(names)))
    lines.append(_("`/icc help` lists everything you can ask me."))
    return [HomeSection(_("You"), tuple(lines))]
