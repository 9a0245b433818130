"""Which cities a city should talk to: `/icc match [city]`.

A city's topics are its groups' topics and the topics of its good practices. Another city scores
for each topic both work on and each group both belong to, and for practices on topics the asking
city has none of (where it could learn something new). Each suggestion carries its reasons, so
the coordinator sees why: "shares anti-rumours and education; both in `mediterranean`; 2 practices
on welcoming newcomers, a topic Lyon has none of".

Practices live in another area: it tells matching about them through `matching_sources(bot)`
(a function giving, per city, how many of its practices are filed under each topic). With no
source registered, matching works from groups alone.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Message, _, _n
from bot.topics import find_topic
from storage.models import City, Group, GroupCity

if TYPE_CHECKING:
    from bot.core import Bot

SHARED_TOPIC = 2.0
SHARED_GROUP = 3.0
NEW_TOPIC_PRACTICE = 1.0
PRACTICES_COUNTED_PER_TOPIC = 3
"""A city with twenty practices on one topic is not twenty times as interesting."""

PracticeTopicCounts = Callable[[AsyncSession], Awaitable[Mapping[int, Mapping[str, int]]]]
"""Per city id, per topic slug, how many of that city's practices (not drafts) are filed under it."""


@dataclass
class MatchingSources:
    """What matching knows beyond groups; areas add to it in their `setup(bot)`."""

    practice_topics: list[PracticeTopicCounts] = field(default_factory=list)


def matching_sources(bot: Bot) -> MatchingSources:
    sources = bot.maybe_service(MatchingSources)
    if sources is None:
        sources = MatchingSources()
        bot.provide(MatchingSources, sources)
    return sources


@dataclass(frozen=True)
class CityWork:
    """What one city works on."""

    city: City
    groups: Mapping[str, str | None]
    """Group slug → the group's topic (None for a regional group)."""
    group_topics: frozenset[str]
    practice_topics: Mapping[str, int]
    """Topic slug → number of practices."""

    @property
    def topics(self) -> frozenset[str]:
        return self.group_topics | frozenset(self.practice_topics)


@dataclass(frozen=True)
class Suggestion:
    city: City
    score: float
    shared_topics: tuple[str, ...]
    shared_groups: tuple[str, ...]
    new_topics: tuple[tuple[str, int], ...]
    """(topic, practices) on topics the asking city has none of, most practices first."""
    group_topics: Mapping[str, str | None] = field(default_factory=dict)
    """The shared groups' topics."""


async def city_work(session: AsyncSession, practice_topics: Sequence[PracticeTopicCounts] = ()) -> dict[int, CityWork]:
    """Every city that works on something: its groups, their topics, its practices' topics."""
    rows = await session.exec(select(GroupCity.city_id, Group.slug, Group.topic)
                              .join(Group, col(Group.id) == GroupCity.group_id))
    groups: dict[int, dict[str, str | None]] = defaultdict(dict)
    group_topics: dict[int, set[str]] = defaultdict(set)
    for city_id, slug, topic in rows:
        groups[city_id][slug] = topic
        if topic:
            group_topics[city_id].add(topic)
    practices: dict[int, Counter[str]] = defaultdict(Counter)
    for source in practice_topics:
        for city_id, counts in (await source(session)).items():
            practices[city_id].update(counts)
    ids = set(groups) | set(practices)
    if not ids:
        return {}
    cities = {city.id: city for city in await session.exec(select(City).where(col(City.id).in_(ids)))}
    return {city_id: CityWork(city, dict(groups[city_id]), frozenset(group_topics[city_id]),
                              dict(practices[city_id]))
            for city_id, city in cities.items() if city_id is not None}


def rank(asking: CityWork, others: Sequence[CityWork], *, limit: int = 5) -> list[Suggestion]:
    """The other cities worth talking to, best first; cities with nothing in common are left out."""
    suggestions = []
    for other in others:
        if other.city.id == asking.city.id:
            continue
        shared_topics = tuple(sorted(asking.topics & other.topics))
        shared_groups = tuple(sorted(asking.groups.keys() & other.groups.keys()))
        new_topics = tuple(sorted(((topic, count) for topic, count in other.practice_topics.items()
                                   if topic not in asking.topics and count > 0),
                                  key=lambda item: (-item[1], item[0])))
        score = (SHARED_TOPIC * len(shared_topics) + SHARED_GROUP * len(shared_groups)
                 + NEW_TOPIC_PRACTICE * sum(min(count, PRACTICES_COUNTED_PER_TOPIC) for _, count in new_topics))
        if score > 0:
            suggestions.append(Suggestion(other.city, score, shared_topics, shared_groups, new_topics,
                                          {slug: other.groups[slug] for slug in shared_groups}))
    suggestions.sort(key=lambda s: (-s.score, -len(s.shared_topics), s.city.name))
    return suggestions[:limit]


async def suggest(session: AsyncSession, city: City, practice_topics: Sequence[PracticeTopicCounts] = (), *,
                  limit: int = 5) -> tuple[CityWork, list[Suggestion]]:
    work = await city_work(session, practice_topics)
    assert city.id is not None
    asking = work.get(city.id) or CityWork(city, {}, frozenset(), {})
    return asking, rank(asking, list(work.values()), limit=limit)


def topic_label(slug: str) -> str:
    topic = find_topic(slug)
    return topic.name.lower() if topic else slug.replace("-", " ")


def and_list(items: Sequence[str]) -> Message:
    """`a`, `a and b`, `a, b and c`."""
    if len(items) == 1:
        return _("{item}", item=items[0])
    return _("{items} and {last}", items=", ".join(items[:-1]), last=items[-1])


def reasons(suggestion: Suggestion, asking: City) -> list[Message]:
    found: list[Message] = []
    if suggestion.shared_topics:
        found.append(_("shares {topics}", topics=and_list([topic_label(t) for t in suggestion.shared_topics])))
    # A thematic group on a shared topic says nothing new; a regional group, or one on another topic, does.
    groups = [slug for slug in suggestion.shared_groups if suggestion.group_topics.get(slug) not in
              suggestion.shared_topics]
    if groups:
        found.append(_("both in {groups}", groups=and_list([f"`{slug}`" for slug in groups])))
    for topic, count in suggestion.new_topics[:3]:
        found.append(_n("{count} practice on {topic}, a topic {city} has none of",
                        "{count} practices on {topic}, a topic {city} has none of", count,
                        topic=topic_label(topic), city=asking.name))
    return found
