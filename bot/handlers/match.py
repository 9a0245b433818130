"""`/icc match [city]`: cities a city should talk to, with the reasons; and the short version of it
in the city's profile."""

from __future__ import annotations

from bot.commands import Param, UsageError
from bot.context import CommandContext
from bot.core import Bot
from bot.i18n import Message, Text, _, join_lines
from bot.lookups import city_named
from bot.matching import and_list, matching_sources, reasons, suggest, topic_label
from bot.profiles import ProfileRequest, city_profiles
from storage.models import City


def setup(bot: Bot) -> None:
    bot.commands.command(
        "match", None, summary=_("Suggest cities to work with: shared topics and groups, practices to learn from."),
        usage="/icc match [city]",
        params=(Param("city", _("the city (yours when left out)"), positional=True, rest=True, complete="city"),),
    )(match)
    city_profiles(bot).add("matches", profile_section, order=80)


async def match(ctx: CommandContext) -> None:
    async with ctx.bot.db.session() as session:
        if ctx.arg("city"):
            city = await city_named(session, ctx.text_arg("city"))
        elif ctx.person.city_id is not None and (own := await session.get(City, ctx.person.city_id)) is not None:
            city = own
        else:
            raise UsageError(_("Name a city (`/icc match <city>`), or register yours with `/icc city register "
                               "<city>`."), ctx.spec)
        asking, suggestions = await suggest(session, city, matching_sources(ctx.bot).practice_topics, limit=8)
    if not asking.topics and not asking.groups:
        await ctx.reply(_("{city} is in no group and has no practice yet, so there is nothing to compare. "
                          "`/icc group join <group>` adds it to a group.", city=city.name))
        return
    lines: list[Message | str] = [_("Cities for {city} to work with ({city} works on {topics}):", city=city.name,
                                    topics=and_list([topic_label(t) for t in sorted(asking.topics)])
                                    if asking.topics else _("no topic yet"))]
    if not suggestions:
        lines.append(_("No other city shares its topics or groups yet."))
    for index, suggestion in enumerate(suggestions, 1):
        lines.append(_("{rank}. **{city}** ({country}): {reasons}", rank=index, city=suggestion.city.name,
                       country=suggestion.city.country, reasons=semicolons(reasons(suggestion, city))))
    await ctx.reply(join_lines(lines))


def semicolons(parts: list[Message]) -> Message:
    fields = {f"r{index}": part for index, part in enumerate(parts)}
    return Message("; ".join("{" + key + "}" for key in fields), fields)


async def profile_section(request: ProfileRequest) -> list[Text]:
    async with request.bot.db.session() as session:
        _asking, suggestions = await suggest(session, request.city, matching_sources(request.bot).practice_topics,
                                             limit=3)
    if not suggestions:
        return []
    return [_("Cities to work with: {cities} (`/icc match {city}` says why)",
              cities=", ".join(s.city.name for s in suggestions), city=request.city.name)]
