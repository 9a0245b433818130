"""On-demand translation and its bill: `/icc translate`, flag reactions, the "Translate" message
action, and `/icc usage`.

A translation *for a person* is in their language — their choice, else their platform's locale,
else the channel's, else English — whichever language DeepL offers, not only those the bot
speaks. A flag reaction posts the translation once per message and language, in the message's
thread, for everyone.
"""

from __future__ import annotations

import logging

from babel.numbers import format_decimal, format_percent

from bot.commands import Param, UsageError
from bot.context import CommandContext
from bot.core import Bot
from bot.events import ChannelRef, ReactionAdded, TranslateRequested
from bot.i18n import Message, _, join_lines, render, resolve_locale
from bot.languages import language_name, parse_language
from bot.lookups import language_code
from bot.translation import MessageTexts, NotTranslated, Translation, Translator
from bot.translation.flags import flag_language
from storage.models import Channel, Person
from storage.queries import registry
from storage.queries import translation as queries

log = logging.getLogger(__name__)


def setup(bot: Bot) -> None:
    bot.commands.command(
        "translate", None,
        summary=_("Translate a text into a language (only you see the answer)."),
        usage="/icc translate <lang> <text>",
        params=(Param("lang", _("the language to translate into, such as fr, uk or pt-BR"), required=True,
                      positional=True, complete="language"),
                Param("text", _("the text to translate"), required=True, positional=True, rest=True)),
    )(translate_command)
    bot.commands.command(
        "usage", None, summary=_("Show DeepL's character count and what the cache and skips saved."),
        usage="/icc usage",
    )(show_usage)
    bot.on(ReactionAdded, lambda event: on_reaction(bot, event))
    bot.on(TranslateRequested, lambda event: on_translate_requested(bot, event))


def reader_language(person: Person, platform_locale: str | None, channel: Channel | None) -> str:
    """The language to translate into for this person (any language, not only the bot's own)."""
    for candidate in (person.language, platform_locale or person.platform_locale,
                      channel.language if channel else None):
        code = parse_language(candidate) if candidate else None
        if code:
            return code
    return "en"


# ---- /icc translate ---------------------------------------------------------------------------------


async def translate_command(ctx: CommandContext) -> None:
    target = language_code(ctx.text_arg("lang"))
    text = ctx.text_arg("text").strip()
    if not text:
        raise UsageError(_("`{name}` is missing.", name="text"), ctx.spec)
    translator = ctx.bot.service(Translator)  # type: ignore[type-abstract]
    [result] = await translator.translate([text], target, likely_source=await translator.detect(text))
    await ctx.reply(answer(result, target, ctx.locale))


def answer(result: Translation, target: str, locale: str) -> Message:
    """What a person sees for a translation they asked for (or why there is none)."""
    match result.not_translated:
        case None:
            byline = (_("_Translated by DeepL from {source} into {target}._",
                        source=language_name(result.source_language, locale),
                        target=language_name(result.target_language, locale))
                      if result.source_language else
                      _("_Translated by DeepL into {target}._", target=language_name(result.target_language, locale)))
            return join_lines([result.text, byline])
        case NotTranslated.SAME_LANGUAGE:
            return _("That text is already in {language}.", language=language_name(target, locale))
        case NotTranslated.OFF:
            return _("Translation is off: no DeepL key is configured for this bot.")
        case NotTranslated.UNAVAILABLE:
            return _("DeepL is not answering right now. Please try again in a few minutes.")
        case NotTranslated.QUOTA:
            return _("This month's DeepL quota is used up, so I cannot translate until it renews.")
        case NotTranslated.UNSUPPORTED:
            return _("DeepL does not translate into {language}.", language=language_name(target, locale))
        case NotTranslated.SOURCE_UNSUPPORTED:
            return _("DeepL does not translate from {language}.",
                     language=language_name(result.source_language or "?", locale))
    return _("DeepL is not answering right now. Please try again in a few minutes.")


# ---- the "Translate" message action ---------------------------------------------------------------


async def on_translate_requested(bot: Bot, event: TranslateRequested) -> None:
    ix = await bot.interaction(event.author, event.channel, platform_locale=event.platform_locale,
                               responder=event.responder)
    text = event.text.strip() or await message_text(bot, event.channel, event.message_id)
    if not text:
        await ix.reply(_("I cannot read that message."))
        return
    target = reader_language(ix.person, event.platform_locale, ix.channel)
    translator = bot.service(Translator)  # type: ignore[type-abstract]
    [result] = await translator.translate([text], target, likely_source=await likely_source(
        translator, text, ix.channel))
    await ix.reply(answer(result, target, ix.locale))


async def likely_source(translator: Translator, text: str, channel: Channel | None) -> str | None:
    """The language a message to translate on demand is probably in. The channel alone can mislead:
    the message may be a relayed copy, whose original (what the relay's store gives back) came from
    a channel in another language. A confident local guess comes first; it is how the relay asked,
    so its translation is reused from the cache, with the glossary, rather than paid for again."""
    return await translator.detect(text) or (channel.language if channel else None)


async def message_text(bot: Bot, channel: ChannelRef, message_id: str) -> str | None:
    """A message's text: from the relay's store when it has one, else from the platform."""
    store = bot.maybe_service(MessageTexts)  # type: ignore[type-abstract]
    if store is not None:
        try:
            text = await store.message_text(channel, message_id)
        except Exception:
            log.exception("message store lookup failed")
            text = None
        if text:
            return text
    adapter = bot.adapters.get(channel.platform)
    if adapter is None:
        return None
    try:
        return await adapter.fetch_message_text(channel, message_id)
    except Exception:
        log.exception("could not fetch message %s in %s", message_id, channel)
        return None


# ---- flag reactions -----------------------------------------------------------------------------------


async def on_reaction(bot: Bot, event: ReactionAdded) -> None:
    target = flag_language(event.emoji)
    if target is None:
        return  # an ordinary reaction
    channel = event.channel
    async with bot.db.session() as session:
        claimed = await queries.claim_flag_translation(
            session, channel.platform, channel.workspace, channel.channel, event.message_id, target,
            person_id=None, now=bot.clock.now())
    if not claimed:
        return  # already translated into that language in this thread
    reply_id: str | None = None
    try:
        reply_id = await _post_flag_translation(bot, event, target)
    finally:
        async with bot.db.session() as session:
            await queries.finish_flag_translation(session, channel.platform, channel.workspace, channel.channel,
                                                  event.message_id, target, reply_id)


async def _post_flag_translation(bot: Bot, event: ReactionAdded, target: str) -> str | None:
    channel = event.channel
    text = await message_text(bot, channel, event.message_id)
    async with bot.db.session() as session:
        channel_row = await registry.get_channel(session, channel.platform, channel.workspace, channel.channel)
        person = await registry.get_person(session, event.person.platform, event.person.workspace,
                                           event.person.user)
    reactor_locale = resolve_locale([person.language if person else None,
                                     person.platform_locale if person else None,
                                     channel_row.language if channel_row else None])
    if not text:
        await _tell(bot, event, _("I cannot read that message."), reactor_locale)
        return None
    translator = bot.service(Translator)  # type: ignore[type-abstract]
    [result] = await translator.translate([text], target, likely_source=await likely_source(
        translator, text, channel_row))
    if not result.translated:
        await _tell(bot, event, answer(result, target, reactor_locale), reactor_locale)
        return None
    # Whoever reads a translation into the flag's language reads that language (or else English).
    locale = resolve_locale([target])
    byline = (_("Translated by DeepL from {source} into {target}", source=language_name(result.source_language, locale),
                target=language_name(result.target_language, locale))
              if result.source_language else
              _("Translated by DeepL into {target}", target=language_name(result.target_language, locale)))
    ids = await bot.post(channel, result.text, locale, thread_id=event.message_id, footnote=render(byline, locale))
    return ids[-1] if ids else ""


async def _tell(bot: Bot, event: ReactionAdded, text: Message, locale: str) -> None:
    adapter = bot.adapters.get(event.channel.platform)
    if adapter is None:
        return
    try:
        await adapter.post_ephemeral(event.channel, event.person, render(text, locale))
    except Exception:
        log.exception("could not answer a flag reaction")


# ---- /icc usage ---------------------------------------------------------------------------------------


async def show_usage(ctx: CommandContext) -> None:
    translator = ctx.bot.service(Translator)  # type: ignore[type-abstract]
    locale = ctx.locale
    if not translator.enabled:
        await ctx.reply(_("Translation is off: no DeepL key is configured, so messages are relayed in their "
                          "original language with a note."))
        return
    flush = getattr(translator, "flush", None)
    if flush is not None:
        await flush()
    service = await translator.usage()
    today = ctx.bot.clock.now().date()
    month_start = today.replace(day=1)
    async with ctx.bot.db.session() as session:
        month = await queries.usage_between(session, month_start, today)
        day = await queries.usage_between(session, today, today)
    lines: list[Message | str] = [_("**Translation usage**")]
    if service is None:
        lines.append(_("DeepL did not say how many characters are used; try again later."))
    elif service.character_limit:
        lines.append(_("DeepL: {used} of {limit} characters used in this billing period ({share}).",
                       used=_number(service.characters_used, locale), limit=_number(service.character_limit, locale),
                       share=format_percent(service.characters_used / service.character_limit, "#,##0.0%",
                                            locale=locale)))
    else:
        lines.append(_("DeepL: {used} characters used in this billing period (no limit).",
                       used=_number(service.characters_used, locale)))
    for label, totals in ((_("This month"), month), (_("Today"), day)):
        lines.append(_("{period}: {billed} characters sent to DeepL; saved {cache} by the cache and {skips} by "
                       "skipping texts already in the right language.", period=label,
                       billed=_number(totals.billed_characters, locale), cache=_number(totals.saved_by_cache, locale),
                       skips=_number(totals.saved_by_skip, locale)))
    saved = month.saved_by_cache + month.saved_by_skip
    if saved:
        lines.append(_("Without the cache and the skips, this month would have cost {total} characters.",
                       total=_number(month.billed_characters + saved, locale)))
    if month.untranslated_characters:
        lines.append(_("{count} characters went out untranslated this month because DeepL was down or out of quota.",
                       count=_number(month.untranslated_characters, locale)))
    await ctx.reply(join_lines(lines))


def _number(value: int, locale: str) -> str:
    return format_decimal(value, locale=locale)

