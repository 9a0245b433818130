"""Suggestions while someone types a command option: groups, cities, topics, languages,
networks, roles (and whatever other areas add, such as deadlines or practices).

Platform-neutral: an adapter with autocomplete (Discord) asks
`bot.service(Completer).complete(source, typed, locale=…, person=…)` and only renders the
choices. A source is the `complete=` name of a command `Param`. Other areas add their own with
`bot.service(Completer).add("deadline", source)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import select

from bot.events import PersonRef
from bot.languages import KNOWN, language_name
from bot.permissions import Role
from bot.topics import all_topics
from storage.models import City, Group, Network
from storage.queries import registry
from storage.slugs import slugify

if TYPE_CHECKING:
    from bot.core import Bot

MAX_CHOICES = 25
MAX_LABEL = 100


@dataclass(frozen=True)
class Choice:
    label: str
    """What the person sees in the list (in their language where it matters)."""
    value: str
    """What goes into the command, as they could have typed it."""


@dataclass(frozen=True)
class CompletionRequest:
    typed: str
    locale: str = "en"
    person: PersonRef | None = None


Source = Callable[["Bot", CompletionRequest], Awaitable[list[Choice]]]


class Completer:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._sources: dict[str, Source] = {
            "group": _groups, "city": _cities, "topic": _topics, "language": _languages,
            "network": _networks, "role": _roles,
        }

    def add(self, name: str, source: Source) -> None:
        self._sources[name] = source

    def knows(self, name: str) -> bool:
        return name in self._sources

    async def complete(self, source: str, typed: str, *, locale: str = "en",
                       person: PersonRef | None = None) -> list[Choice]:
        """At most 25 choices for what has been typed so far, best first; [] for an unknown source."""
        find = self._sources.get(source)
        if find is None:
            return []
        choices = await find(self.bot, CompletionRequest(typed.strip()[:100], locale, person))
        return [Choice(choice.label[:MAX_LABEL], choice.value[:MAX_LABEL]) for choice in choices[:MAX_CHOICES]]


def setup(bot: Bot) -> None:
    bot.provide(Completer, Completer(bot))


def rank(typed: str, candidates: Iterable[tuple[Choice, Iterable[str]]]) -> list[Choice]:
    """Choices whose keys match `typed`, forgiving case and accents: exact matches first, then
    keys (or words of keys) that start with it, then keys that contain it; ties alphabetical."""
    wanted = slugify(typed)
    scored: list[tuple[int, str, Choice]] = []
    for choice, keys in candidates:
        best = None
        for key in keys:
            slug = slugify(key)
            if not wanted or slug == wanted:
                score = 0 if wanted else 1
            elif slug.startswith(wanted) or f"-{wanted}" in f"-{slug}":
                score = 1 if slug.startswith(wanted) else 2
            elif wanted in slug:
                score = 3
            else:
                continue
            best = score if best is None else min(best, score)
        if best is not None:
            scored.append((best, choice.label.lower(), choice))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [choice for _score, _label, choice in scored]


async def _groups(bot: Bot, request: CompletionRequest) -> list[Choice]:
    async with bot.db.session() as session:
        groups = list(await session.exec(select(Group)))
    return rank(request.typed, ((Choice(f"{g.slug} · {g.name}" if g.name != g.slug else g.slug, g.slug),
                                 (g.slug, g.name)) for g in groups))


async def _cities(bot: Bot, request: CompletionRequest) -> list[Choice]:
    async with bot.db.session() as session:
        cities = list(await session.exec(select(City)))
        own_city = None
        if request.person is not None:
            person = await registry.get_person(session, request.person.platform, request.person.workspace,
                                               request.person.user)
            own_city = person.city_id if person else None
    ranked = rank(request.typed, ((Choice(f"{c.name} ({c.country})", c.name), (c.name, c.slug)) for c in cities))
    if not request.typed and own_city is not None:
        # With nothing typed yet, the asker's own city is the likeliest answer.
        own = next((c for c in cities if c.id == own_city), None)
        if own is not None:
            ranked = [choice for choice in ranked if choice.value == own.name] + \
                     [choice for choice in ranked if choice.value != own.name]
    return ranked


async def _networks(bot: Bot, request: CompletionRequest) -> list[Choice]:
    async with bot.db.session() as session:
        networks = list(await session.exec(select(Network)))
    return rank(request.typed, ((Choice(f"{n.name} ({n.slug})" if n.name != n.slug else n.slug, n.slug),
                                 (n.slug, n.name)) for n in networks))


async def _topics(bot: Bot, request: CompletionRequest) -> list[Choice]:
    return rank(request.typed, ((Choice(topic.name, topic.slug), (topic.slug, topic.name))
                                for topic in all_topics()))


async def _languages(bot: Bot, request: CompletionRequest) -> list[Choice]:
    candidates = []
    for code in sorted(KNOWN):
        shown = language_name(code, request.locale)
        english = language_name(code, "en")
        # Keys: the code, its name in the asker's language and in English ("ukr…", "ukrainien", "uk").
        keys = (code, shown.rsplit(" (", 1)[0], english.rsplit(" (", 1)[0])
        candidates.append((Choice(shown, code), keys))
    ranked = rank(request.typed, candidates)
    exact = [choice for choice in ranked if choice.value == request.typed.lower()]
    return exact + [choice for choice in ranked if choice not in exact]


async def _roles(bot: Bot, request: CompletionRequest) -> list[Choice]:
    return rank(request.typed, ((Choice(role.value, role.value), (role.value,)) for role in Role))
