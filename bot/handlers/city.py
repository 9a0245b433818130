"""`/icc city …`: member cities, who coordinates them, and their settings."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import col, select

from bot.commands import Param, UsageError
from bot.context import CommandContext
from bot.core import Bot, channel_label
from bot.i18n import Message, _, _n, join_lines
from bot.languages import language_name
from bot.lookups import city_named, language_code, network_named
from bot.profiles import ProfileRequest, city_profiles
from storage.models import Channel, City, Person
from storage.queries import registry

REMINDER_TARGETS = ("channel", "dm")


def setup(bot: Bot) -> None:
    command = bot.commands.command
    command("city", "register", summary=_("Say which city you coordinate."),
            usage="/icc city register <city>",
            params=(Param("city", _("your city"), positional=True, required=True, complete="city"),))(register)
    command("city", "show", summary=_("Show a city's profile."), usage="/icc city show <city>",
            params=(Param("city", _("the city"), positional=True, required=True, complete="city"),))(show)
    command("city", "list", summary=_("List the member cities, by network."),
            usage="/icc city list [network=<network>]",
            params=(Param("network", _("a national network, or international"), complete="network"),))(list_cities)
    command("city", "set", summary=_("Change your city's settings."),
            usage="/icc city set [city=<city>] language=<code> | timezone=<Area/City> | "
                  "reminders=channel|dm | channel=here",
            city_param="city",
            params=(Param("city", _("the city (ICC team: any city)"), complete="city"),
                    Param("language", _("the language its coordinators write in"), complete="language"),
                    Param("timezone", _("its time zone, such as Europe/Rome")),
                    Param("reminders", _("where its reminders go"), choices=REMINDER_TARGETS),
                    Param("channel", _("`here` makes this channel the city's own"),
                          choices=("here",))))(set_fields)


async def register(ctx: CommandContext) -> None:
    async with ctx.bot.db.session() as session:
        city = await city_named(session, ctx.text_arg("city"))
        person = await session.get(Person, ctx.person_id)
        assert person is not None
        previous = person.city_id
        person.city_id = city.id
        session.add(person)
    if previous == city.id:
        await ctx.reply(_("You are already registered as a coordinator of {city}.", city=city.name))
    else:
        await ctx.reply(_("You are now registered as a coordinator of {city}. Reminders for {city} will "
                          "reach you.", city=city.name))


async def show(ctx: CommandContext) -> None:
    async with ctx.bot.db.session() as session:
        city = await city_named(session, ctx.text_arg("city"))
        assert city.id is not None
        network = await registry.network_of(session, city)
        coordinators = await registry.coordinators_of(session, city.id)
        groups = await registry.groups_of_city(session, city.id)
        own_channel = await registry.city_channel(session, city.id)
    none = _("none yet")
    lines: list[Message | str] = [
        _("{city} ({country})", city=city.name, country=city.country),
        _("Network: {network}", network=network.name if network else "—"),
        _("Language: {language} · time zone: {timezone}", language=language_name(city.language, ctx.locale),
          timezone=city.timezone),
        _("Coordinators: {names}", names=", ".join(p.display_name for p in coordinators) or none),
        _("Groups: {names}", names=", ".join(g.slug for g in groups) or none),
        _("Reminders go to: {target}", target=_reminder_target(ctx, city, own_channel)),
    ]
    if city.note:
        lines.append(_("Note: {note}", note=city.note))
    lines += await city_profiles(ctx.bot).lines(ProfileRequest(ctx.bot, city, ctx.locale, ctx))
    await ctx.reply(join_lines(lines))


def _reminder_target(ctx: CommandContext, city: City, channel: Channel | None) -> Message | str:
    if city.reminders_to == "dm":
        return _("its coordinators, by direct message")
    if channel is None:
        return _("its channel, once one is set with `/icc city set channel=here`")
    return channel_label(ctx.bot, channel)


async def list_cities(ctx: CommandContext) -> None:
    async with ctx.bot.db.session() as session:
        if ctx.arg("network"):
            network = await network_named(session, ctx.text_arg("network"))
            cities = await registry.list_cities(session, network.id)
            await ctx.reply(_("{network} ({count}): {names}", network=network.name, count=len(cities),
                              names=", ".join(city.name for city in cities) or "—"))
            return
        networks = await registry.list_networks(session)
        counts = Counter(city.network_id for city in await registry.list_cities(session))
    if not networks:
        await ctx.reply(_("No city is loaded yet. An administrator runs `icc-bot seed` to load the network."))
        return
    lines: list[Message | str] = [_("Member cities by network:")]
    for network in networks:
        lines.append(_("• `{slug}` {name}: {cities}", slug=network.slug, name=network.name,
                       cities=_n("{count} city", "{count} cities", counts.get(network.id, 0))))
    lines.append(_("`/icc city list network=<network>` names them."))
    await ctx.reply(join_lines(lines))


async def set_fields(ctx: CommandContext) -> None:
    fields = [name for name in ("language", "timezone", "reminders", "channel") if ctx.arg(name)]
    if not fields:
        raise UsageError(_("Say what to change, for example `timezone=Europe/Rome`."), ctx.spec)
    language = language_code(ctx.text_arg("language")) if ctx.arg("language") else None
    timezone = ctx.text_arg("timezone") or None
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(_("`{timezone}` is not a time zone. Use a name like Europe/Lisbon.",
                               timezone=timezone[:60]), ctx.spec) from None
    here = ctx.event.channel if ctx.event else None
    if ctx.arg("channel") and here is None:
        raise UsageError(_("Run this in the channel that should become the city's own."))
    async with ctx.bot.db.session() as session:
        if ctx.arg("city"):
            city = await city_named(session, ctx.text_arg("city"))
        else:
            found = await session.get(City, ctx.person.city_id) if ctx.person.city_id else None
            if found is None:
                raise UsageError(_("Register your city first with `/icc city register <city>`."))
            city = found
        if language is not None:
            city.language = language
        if timezone is not None:
            city.timezone = timezone
        if ctx.arg("reminders"):
            city.reminders_to = ctx.text_arg("reminders")
        if ctx.arg("channel") and here is not None:
            channel = await registry.ensure_channel(session, here.platform, here.workspace, here.channel,
                                                    name=here.channel, language=city.language)
            # A city has one own channel (reminders go to the first one found): this one replaces it.
            for previous in await session.exec(select(Channel).where(Channel.city_id == city.id,
                                                                      col(Channel.id) != channel.id)):
                previous.city_id = None
                session.add(previous)
            channel.city_id = city.id
            session.add(channel)
        session.add(city)
    await ctx.reply(_("{city} updated: {fields}.", city=city.name, fields=", ".join(fields)))
