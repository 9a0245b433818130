"""The practices' part of a coordinator's home page: what the cities of their city's groups (and
the groups' topics) recently published, newest first."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlmodel import col, or_, select

from bot.context import Interaction
from bot.home import HomeSection
from bot.i18n import Text, _
from storage.models import City, Group, GroupCity, Practice, PracticeTopic
from storage.models.practices import PUBLISHED
from storage.queries import practices as queries

HOME_PRACTICES = 5


async def practices_part(ix: Interaction) -> list[HomeSection]:
    if ix.person.city_id is None:
        return []
    async with ix.bot.db.session() as session:
        city = await session.get(City, ix.person.city_id)
        if city is None:
            return []
        group_ids = select(GroupCity.group_id).where(GroupCity.city_id == city.id)
        topics = list(await session.exec(select(Group.topic).where(col(Group.id).in_(group_ids),
                                                                    col(Group.topic).is_not(None))))
        member_cities = select(GroupCity.city_id).where(col(GroupCity.group_id).in_(group_ids))
        ours: list[ColumnElement[bool]] = [col(Practice.city_id) == city.id, col(Practice.city_id).in_(member_cities)]
        if topics:
            ours.append(col(Practice.id).in_(select(PracticeTopic.practice_id)
                                             .where(col(PracticeTopic.topic).in_(topics))))
        practices = list(await session.exec(
            select(Practice).where(Practice.status == PUBLISHED, or_(*ours))
            .order_by(col(Practice.published_at).desc(), col(Practice.id).desc()).limit(HOME_PRACTICES)))
        cities = await queries.city_names(session, [practice.city_id for practice in practices])
    if not practices:
        return [HomeSection(_("Recent practices of your groups"), (
            _("Nothing published yet. `/icc practice add` shares one of {city}'s.", city=city.name),))]
    lines: list[Text] = [_("• #{id} **{title}** ({city})", id=practice.id, title=practice.title,
                           city=cities[practice.city_id].name if practice.city_id in cities else "?")
                         for practice in practices]
    lines.append(_("`/icc practice show <id>` shows one; `/icc practice search` finds more."))
    return [HomeSection(_("Recent practices of your groups"), tuple(lines))]
