"""`/icc help [area]`: what the bot can do, in the asker's language."""

from __future__ import annotations

from bot.commands import Param, UsageError
from bot.context import CommandContext
from bot.core import Bot
from bot.i18n import Message, _, join_lines
from bot.topics import all_topics

AREA_SUMMARIES: dict[str, Message] = {
    "help": _("this help"),
    "lang": _("the language of this channel or your own"),
    "group": _("thematic and regional groups and their linked channels"),
    "city": _("member cities, their coordinators and profiles"),
    "role": _("ICC team, group leads and coordinators"),
    "translate": _("translate a text"),
    "practice": _("the good-practice database"),
    "deadline": _("deadlines and reminders"),
    "broadcast": _("announcements to the whole network"),
    "match": _("cities that share your topics"),
    "usage": _("translation usage"),
    "report": _("deliveries that failed, for the ICC team"),
}

# What the usage lines cannot say, shown under them by `/icc help <area>`.
AREA_NOTES: dict[str, Message] = {
    "broadcast": _("`to=` says who gets it (`all` when left out): `all` every channel linked to a group; "
                   "`group:<g>` that group's channels; `network:<n>` the own channels of that network's cities "
                   "(group channels are shared with other networks, so they are left out); "
                   "`lang:<code>` every linked channel in that language; `cities:<a>,<b>` those cities' own "
                   "channels, or their coordinators by direct message when a city has none. `at=` is in your time "
                   "zone (else your city's, else Europe/Paris). You see a preview first and confirm it. A text that "
                   "starts with `status`, `cancel`, `edit` or `list` is sent with `/icc broadcast send <text>`."),
}


def setup(bot: Bot) -> None:
    bot.commands.command(
        "help", None, summary=_("Show what the bot can do."), usage="/icc help [area]",
        params=(Param("area", _("an area such as group or practice"), positional=True),),
    )(show_help)


async def show_help(ctx: CommandContext) -> None:
    area = ctx.text_arg("area").lower()
    commands = ctx.bot.commands
    if not area:
        lines: list[Message | str] = [_("I link the network's channels across languages and platforms. "
                                        "Commands, by area:")]
        # Not nested in the call below: Babel's extractor misses a `_()` inside another's arguments.
        other = _("more commands")
        for name in commands.areas():
            lines.append(_("• `/icc {area}`: {summary}", area=name, summary=AREA_SUMMARIES.get(name, other)))
        lines.append(_("Type `/icc help <area>` for the details of an area."))
        await ctx.reply(join_lines(lines))
        return
    if area == "topics":
        topic_lines: list[Message | str] = [_("The programme's topics:")]
        topic_lines += [f"• `{topic.slug}`: {topic.name}" for topic in all_topics()]
        await ctx.reply(join_lines(topic_lines))
        return
    specs = commands.in_area(area)
    if not specs:
        raise UsageError(_("There is no area `{area}`. Areas: {areas}.", area=area[:40],
                           areas=", ".join(commands.areas())))
    area_lines: list[Message | str] = []
    for spec in specs:
        area_lines.append(_("`{usage}`: {summary}", usage=spec.usage, summary=spec.summary))
    if area in AREA_NOTES:
        area_lines.append(AREA_NOTES[area])
    await ctx.reply(join_lines(area_lines))
