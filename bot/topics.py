"""The programme's topics: ICC Index areas and programme themes (bot/data/topics.csv)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from storage.slugs import slugify


@dataclass(frozen=True)
class Topic:
    slug: str
    name: str
    kind: str  # "index-area" | "theme"


@cache
def all_topics() -> tuple[Topic, ...]:
    with (resources.files("bot") / "data" / "topics.csv").open(encoding="utf-8") as handle:
        return tuple(Topic(row["slug"], row["name"], row["kind"]) for row in csv.DictReader(handle))


def find_topic(text: str) -> Topic | None:
    """By slug or name, forgiving case, accents and separators (`Anti rumours` → anti-rumours)."""
    wanted = slugify(text)
    for topic in all_topics():
        if wanted in (topic.slug, slugify(topic.name)):
            return topic
    # A unique prefix is enough: `welcoming` → welcoming-newcomers.
    matches = [topic for topic in all_topics() if wanted and topic.slug.startswith(wanted)]
    return matches[0] if len(matches) == 1 else None
