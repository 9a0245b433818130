"""`/icc group …`: thematic and regional groups, and the channels linked to them."""

from __future__ import annotations

from bot.commands import Param, UsageError
from bot.context import CommandContext
from bot.core import Bot, channel_label
from bot.i18n import Message, _, _n, join_lines
from bot.languages import language_name
from bot.lookups import city_named, group_named, language_code, topic_named
from storage.models import Channel, City, Group
from storage.queries import registry
from storage.slugs import slugify

KINDS = ("thematic", "regional")


def setup(bot: Bot) -> None:
    command = bot.commands.command
    command("group", "create", summary=_("Create a thematic or regional group."),
            usage="/icc group create <name> [kind=thematic|regional] [topic=<topic>]",
            params=(Param("name", _("the group's name"), positional=True, required=True),
                    Param("kind", _("thematic or regional"), choices=KINDS),
                    Param("topic", _("the programme topic it works on"), complete="topic")))(create)
    command("group", "link", summary=_("Link this channel to a group: its messages are shared with the "
                                       "group's other channels."),
            usage="/icc group link <name> [lang=<code>]", group_param="name",
            params=(Param("name", _("the group"), positional=True, required=True, complete="group"),
                    Param("lang", _("this channel's language"), complete="language")))(link)
    command("group", "unlink", summary=_("Stop sharing this channel with its group."),
            usage="/icc group unlink")(unlink)
    command("group", "list", summary=_("List the groups."), usage="/icc group list")(list_groups)
    command("group", "members", summary=_("Show a group's channels and cities."),
            usage="/icc group members <name>",
            params=(Param("name", _("the group"), positional=True, required=True, complete="group"),))(members)
    command("group", "join", summary=_("Add your city (or another, for the ICC team) to a group."),
            usage="/icc group join <name> [city=<city>]", city_param="city",
            params=(Param("name", _("the group"), positional=True, required=True, complete="group"),
                    Param("city", _("the city"), complete="city")))(join)
    command("group", "leave", summary=_("Take your city (or another, for the ICC team) out of a group."),
            usage="/icc group leave <name> [city=<city>]", city_param="city",
            params=(Param("name", _("the group"), positional=True, required=True, complete="group"),
                    Param("city", _("the city"), complete="city")))(leave)


async def create(ctx: CommandContext) -> None:
    name = ctx.text_arg("name").strip()
    slug = slugify(name)
    if not slug or len(name) > 80:
        raise UsageError(_("A group name needs letters or digits and at most 80 characters."), ctx.spec)
    topic = topic_named(ctx.text_arg("topic")).slug if ctx.arg("topic") else None
    kind = ctx.text_arg("kind") or "thematic"
    async with ctx.bot.db.session() as session:
        if await registry.find_group(session, name) is not None:
            raise UsageError(_("A group `{slug}` already exists.", slug=slug))
        session.add(Group(slug=slug, name=name, kind=kind, topic=topic, created_at=ctx.bot.clock.now(),
                          created_by_id=ctx.person_id))
    await ctx.reply(_("Group `{slug}` created ({kind}). Link channels to it with `/icc group link {slug}`.",
                      slug=slug, kind=kind_label(kind)))


def kind_label(kind: str) -> Message:
    return _("regional") if kind == "regional" else _("thematic")


async def link(ctx: CommandContext) -> None:
    ref = ctx.event.channel if ctx.event else None
    if ref is None:
        raise UsageError(_("Run this in the channel you want to link."))
    language = language_code(ctx.text_arg("lang")) if ctx.arg("lang") else None
    async with ctx.bot.db.session() as session:
        group = await group_named(session, ctx.text_arg("name"))
        channel = await registry.ensure_channel(session, ref.platform, ref.workspace, ref.channel,
                                                name=ref.channel, language=language or _default_language(ctx))
        if channel.group_id == group.id and (language is None or channel.language == language):
            await ctx.reply(_("This channel is already linked to `{group}`.", group=group.slug))
            return
        if channel.group_id is not None and channel.group_id != group.id:
            current = await session.get(Group, channel.group_id)
            raise UsageError(_("This channel is linked to `{group}`. Unlink it first with `/icc group unlink`.",
                               group=current.slug if current else "?"))
        channel.group_id = group.id
        if language is not None:
            channel.language = language
        channel.linked_at = ctx.bot.clock.now()
        channel.linked_by_id = ctx.person_id
        session.add(channel)
        others = [c for c in await registry.group_channels(session, group.id or 0) if c.id != channel.id]
    await ctx.reply(_n("This channel is now part of `{group}`, in {language}. It is shared with {count} "
                       "other channel.",
                       "This channel is now part of `{group}`, in {language}. It is shared with {count} "
                       "other channels.", len(others), group=group.slug,
                       language=language_name(channel.language, ctx.locale)), ephemeral=False)


def _default_language(ctx: CommandContext) -> str:
    """A new channel speaks the language of whoever links it, until told otherwise."""
    return ctx.person.language or ctx.locale


async def unlink(ctx: CommandContext) -> None:
    if ctx.channel is None or ctx.channel.group_id is None:
        raise UsageError(_("This channel is not linked to any group."))
    async with ctx.bot.db.session() as session:
        channel = await session.get(Channel, ctx.channel.id)
        assert channel is not None and channel.group_id is not None
        group = await session.get(Group, channel.group_id)
        channel.group_id = None
        session.add(channel)
    await ctx.reply(_("This channel is no longer part of `{group}`.", group=group.slug if group else "?"),
                    ephemeral=False)


async def list_groups(ctx: CommandContext) -> None:
    async with ctx.bot.db.session() as session:
        summaries = await registry.list_groups(session)
    if not summaries:
        await ctx.reply(_("There are no groups yet. The ICC team creates them with `/icc group create`."))
        return
    lines: list[Message | str] = [_("Groups:")]
    for summary in summaries:
        group = summary.group
        languages = ", ".join(summary.languages) or "—"
        lines.append(_("• `{slug}` {name}: {kind}, {channels}, {cities}, languages: {languages}",
                       slug=group.slug, name=group.name if group.name != group.slug else "",
                       kind=kind_label(group.kind),
                       channels=_n("{count} channel", "{count} channels", summary.channels),
                       cities=_n("{count} city", "{count} cities", summary.cities), languages=languages))
    await ctx.reply(join_lines(lines))


async def members(ctx: CommandContext) -> None:
    async with ctx.bot.db.session() as session:
        group = await group_named(session, ctx.text_arg("name"))
        assert group.id is not None
        channels = await registry.group_channels(session, group.id)
        cities = await registry.group_cities(session, group.id)
    lines: list[Message | str] = [_("Group `{slug}` ({kind}):", slug=group.slug, kind=kind_label(group.kind))]
    if channels:
        lines.append(_("Channels:"))
        for channel in channels:
            label = channel_label(ctx.bot, channel)
            lines.append(f"• {channel.platform} {label}: {language_name(channel.language, ctx.locale)}")
    else:
        lines.append(_("No channel is linked yet."))
    if cities:
        lines.append(_("Cities: {names}", names=", ".join(city.name for city in cities)))
    else:
        lines.append(_("No city has joined yet."))
    await ctx.reply(join_lines(lines))


async def join(ctx: CommandContext) -> None:
    await _membership(ctx, joining=True)


async def leave(ctx: CommandContext) -> None:
    await _membership(ctx, joining=False)


async def _membership(ctx: CommandContext, *, joining: bool) -> None:
    async with ctx.bot.db.session() as session:
        group = await group_named(session, ctx.text_arg("name"))
        if ctx.arg("city"):
            city = await city_named(session, ctx.text_arg("city"))
        elif ctx.person.city_id is not None:
            found = await session.get(City, ctx.person.city_id)
            assert found is not None
            city = found
        else:
            raise UsageError(_("Name the city: `city=<city>`."), ctx.spec)
        assert group.id is not None and city.id is not None
        if joining:
            changed = await registry.add_city_to_group(session, group.id, city.id)
        else:
            changed = await registry.remove_city_from_group(session, group.id, city.id)
    if joining:
        await ctx.reply(_("{city} is now a member of `{group}`.", city=city.name, group=group.slug) if changed
                        else _("{city} is already a member of `{group}`.", city=city.name, group=group.slug))
    else:
        await ctx.reply(_("{city} has left `{group}`.", city=city.name, group=group.slug) if changed
                        else _("{city} was not a member of `{group}`.", city=city.name, group=group.slug))
