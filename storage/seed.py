"""Load the ICC member list (networks and cities) into a database. Idempotent: running it again
updates names, languages and time zones and adds new cities; it never deletes."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import City, Network
from storage.slugs import slugify


@dataclass(frozen=True)
class SeedReport:
    networks_added: int
    cities_added: int
    cities_updated: int


def read_cities(path: Path | Traversable) -> list[dict[str, str]]:
    with path.open("r", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


async def seed_cities(session: AsyncSession, rows: Iterable[Mapping[str, str]]) -> SeedReport:
    networks = {network.slug: network for network in await session.exec(select(Network))}
    cities = {city.slug: city for city in await session.exec(select(City))}
    networks_added = cities_added = cities_updated = 0
    for row in rows:
        ZoneInfo(row["timezone"])  # a typo in the data file must fail loudly, not later at 09:30
        network = networks.get(row["network"])
        if network is None:
            network = Network(slug=row["network"], name=row["network_name"])
            session.add(network)
            await session.flush()
            networks[network.slug] = network
            networks_added += 1
        slug = slugify(row["city"])
        fields: dict[str, Any] = {"name": row["city"], "country": row["country"], "language": row["language"],
                  "timezone": row["timezone"], "network_id": network.id, "note": row.get("note", "")}
        city = cities.get(slug)
        if city is None:
            city = City(slug=slug, **fields)
            session.add(city)
            cities[slug] = city
            cities_added += 1
        elif any(getattr(city, key) != value for key, value in fields.items()):
            for key, value in fields.items():
                setattr(city, key, value)
            session.add(city)
            cities_updated += 1
    await session.flush()
    return SeedReport(networks_added, cities_added, cities_updated)
