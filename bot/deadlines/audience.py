"""Who a deadline asks: all member cities, a network, a group, or a list of cities.

The audience is resolved to its cities when a deadline is created and kept (`deadline_city`):
the ICC team's status stays about the cities it asked, and a city that joins the network or the
group later is not chased for a deadline it never saw. `/icc deadline edit <id> audience=…`
resolves it again (newcomers are added, cities no longer in it are removed); each occurrence of
a recurring deadline resolves it afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import UsageError
from bot.i18n import Message, _, _n
from bot.lookups import cities_named, group_named, network_named
from storage.models import City
from storage.queries import registry

MAX_LISTED_CITIES = 200


@dataclass(frozen=True)
class Audience:
    spec: str
    """Normalised, as stored: `all`, `network:<slug>`, `group:<slug>`, `cities:<slug>,<slug>`."""
    cities: list[City]


async def resolve_audience(session: AsyncSession, text: str) -> Audience:
    """What the ICC team typed → the cities it names. Raises UsageError naming what is unknown."""
    value = text.strip()
    kind, _sep, rest = value.partition(":")
    kind = kind.strip().lower()
    rest = rest.strip()
    if kind == "all" and not rest:
        return Audience("all", await registry.list_cities(session))
    if kind == "network" and rest:
        network = await network_named(session, rest)
        return Audience(f"network:{network.slug}", await registry.list_cities(session, network.id))
    if kind == "group" and rest:
        group = await group_named(session, rest)
        assert group.id is not None
        cities = await registry.group_cities(session, group.id)
        if not cities:
            raise UsageError(_("The group `{group}` has no member cities yet: nobody would be asked.",
                               group=group.slug))
        return Audience(f"group:{group.slug}", cities)
    if kind in {"cities", "city"} and rest:
        return await _listed_cities(session, rest)
    raise UsageError(_("`{audience}` is not an audience. Write `all`, `network:<network>`, `group:<group>` or "
                       "`cities:<city>,<city>`.", audience=value[:80]))


async def _listed_cities(session: AsyncSession, text: str) -> Audience:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if len(names) > MAX_LISTED_CITIES:
        raise UsageError(_("At most {count} cities can be listed; use a network or a group instead.",
                           count=MAX_LISTED_CITIES))
    cities = await cities_named(session, names)
    return Audience("cities:" + ",".join(city.slug for city in cities), cities)


def audience_label(spec: str, count: int | None = None) -> Message:
    """How an audience reads in a message: `network rpci (18 cities)`."""
    kind, _sep, rest = spec.partition(":")
    if kind == "network":
        label = _("network `{network}`", network=rest)
    elif kind == "group":
        label = _("group `{group}`", group=rest)
    elif kind == "cities":
        label = _("a list of cities")
    else:
        label = _("all member cities")
    if count is None:
        return label
    return _("{audience} ({cities})", audience=label, cities=_n("{count} city", "{count} cities", count))
