"""`/icc lang`: the language a channel is relayed in, and the language the bot speaks to you."""

from __future__ import annotations

from bot.commands import Param, UsageError
from bot.context import CommandContext
from bot.core import Bot
from bot.i18n import _, available_locales, join_lines, resolve_locale
from bot.languages import base_language, language_name
from bot.lookups import language_code
from storage.models import Channel, Person

FORMALITIES = ("default", "more", "less")


def setup(bot: Bot) -> None:
    bot.commands.command(
        "lang", None, alias="channel",
        summary=_("Set the language of this channel (messages are relayed into it in that language)."),
        usage="/icc lang <code> [fallback=<code>] [formality=default|more|less]",
        params=(Param("code", _("a language code such as fr, uk or pt-BR"), positional=True,
                      complete="language"),
                Param("fallback", _("language to use where translation into the channel's is not offered"),
                      complete="language"),
                Param("formality", _("how formal translations should be"), choices=FORMALITIES)),
    )(set_channel_language)
    bot.commands.command(
        "lang", "me", summary=_("Set the language the bot uses with you (`auto` to follow your platform)."),
        usage="/icc lang me [<code>|auto]",
        params=(Param("code", _("a language code, or auto"), positional=True, complete="language"),),
    )(set_my_language)


async def set_channel_language(ctx: CommandContext) -> None:
    if ctx.args is None or ctx.args.empty:
        await show_languages(ctx)
        return
    if ctx.event is None or ctx.event.channel is None:
        raise UsageError(_("Run this in the channel whose language you want to set."))
    if not ctx.arg("code"):
        raise UsageError(_("`{name}` is missing.", name="code"), ctx.spec)
    code = language_code(ctx.text_arg("code"))
    fallback = language_code(ctx.text_arg("fallback")) if ctx.arg("fallback") else None
    formality = ctx.text_arg("formality") or None
    ref = ctx.event.channel
    async with ctx.bot.db.session() as session:
        channel = await session.get(Channel, ctx.channel.id) if ctx.channel else None
        if channel is None:
            channel = Channel(platform=ref.platform, workspace=ref.workspace, channel_id=ref.channel,
                              name=ref.channel, language=code)
        channel.language = code
        if fallback is not None:
            channel.fallback_language = fallback
        if formality is not None:
            channel.formality = None if formality == "default" else formality
        session.add(channel)
    await ctx.reply(_("This channel's language is now {language}.", language=language_name(code, ctx.locale)),
                    ephemeral=False)


async def show_languages(ctx: CommandContext) -> None:
    channel_language = ctx.channel.language if ctx.channel else None
    mine = ctx.person.language
    lines = [
        _("This channel: {language}.", language=language_name(channel_language, ctx.locale))
        if channel_language else _("This channel has no language set yet."),
        _("You: {language}.", language=language_name(mine, ctx.locale))
        if mine else _("You: following your platform ({language}).",
                       language=language_name(ctx.locale, ctx.locale)),
    ]
    await ctx.reply(join_lines(lines))


async def set_my_language(ctx: CommandContext) -> None:
    word = ctx.text_arg("code").lower()
    if not word:
        await show_languages(ctx)
        return
    code = None if word == "auto" else language_code(word)
    async with ctx.bot.db.session() as session:
        person = await session.get(Person, ctx.person_id)
        assert person is not None
        person.language = code
        session.add(person)
    if code is None:
        platform_locale = ctx.event.platform_locale if ctx.event else None
        ctx.locale = resolve_locale([platform_locale or ctx.person.platform_locale,
                                     ctx.channel.language if ctx.channel else None])
        await ctx.reply(_("I will follow your platform's language."))
        return
    ctx.locale = base_language(code) if base_language(code) in available_locales() else ctx.locale
    if base_language(code) in available_locales():
        await ctx.reply(_("I will speak {language} with you.", language=language_name(code, ctx.locale)))
    else:
        await ctx.reply(_("Noted: {language}. I cannot speak it yet, so I will answer in {fallback}, and "
                          "translations for you will be in {language}.",
                          language=language_name(code, ctx.locale), fallback=language_name(ctx.locale,
                                                                                           ctx.locale)))
