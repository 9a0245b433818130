"""`/icc report failures [days=7]`: what the bot gave up delivering lately — relayed messages,
broadcasts, direct messages — grouped by destination and reason, for the ICC team."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_skeleton, format_time
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import Param, UsageError
from bot.context import CommandContext
from bot.core import Bot
from bot.deadlines.render import babel_locale
from bot.events import ChannelRef
from bot.i18n import Message, _, _n, join_lines
from bot.relay.outbox import NOTICE
from storage.models import RelayMessage
from storage.queries import broadcasts as queries
from storage.queries import registry
from storage.queries.broadcasts import FailedDelivery

DEFAULT_DAYS = 7
MAX_DAYS = 90


def setup(bot: Bot) -> None:
    bot.commands.command(
        "report", "failures",
        summary=_("List the relays, broadcasts and direct messages that failed for good lately."),
        usage="/icc report failures [days=7]",
        params=(Param("days", _("how many days back (1 to 90)"), kind="integer"),),
    )(failures)


async def failures(ctx: CommandContext) -> None:
    days = ctx.arg("days", DEFAULT_DAYS)
    assert isinstance(days, int)
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(_("`days` must be between 1 and {most}.", most=MAX_DAYS), ctx.spec)
    since = ctx.bot.clock.now() - timedelta(days=days)
    async with ctx.bot.db.session() as session:
        found = await queries.failed_deliveries(session, since)
        total = await queries.count_failed_deliveries(session, since)
        lines: list[Message | str] = [_n("**Deliveries given up on in the last day**: {total}.",
                                         "**Deliveries given up on in the last {count} days**: {total}.", days,
                                         total=total)]
        if not found:
            lines.append(_("Nothing failed for good. 🎉"))
        for failure in found:
            lines.append(await failure_line(ctx, session, failure))
    if total > sum(failure.count for failure in found):
        lines.append(_("Only the most recent are listed; `days=` narrows the period."))
    await ctx.reply(join_lines(lines))


async def failure_line(ctx: CommandContext, session: AsyncSession, failure: FailedDelivery) -> Message:
    # A skeleton for the day, so each language orders and punctuates it (`22 Jan`, `22. Jan.`).
    locale = babel_locale(ctx.locale)
    day = format_skeleton("MMMd", failure.last, locale=locale)
    when = f"{day}, {format_time(failure.last, 'HH:mm', locale=locale)}"
    return _("• {what} → {destination}: {reason} ({times}, last {when} UTC)", what=await what_failed(session, failure),
             destination=await destination_label(ctx, session, failure), reason=failure.reason or "?",
             times=_n("once", "{count} times", failure.count), when=when)


async def what_failed(session: AsyncSession, failure: FailedDelivery) -> Message:
    _kind, _sep, number = (failure.references[0] if failure.references else "").partition(":")
    if failure.kind == "relay":
        message = await session.get(RelayMessage, int(number)) if number.isdigit() else None
        if message is not None and len(failure.references) == 1:
            return _("a message from {author} relayed from #{channel}", author=message.author_name,
                     channel=message.channel_id)
        return _n("a relayed message", "{count} relayed messages", len(failure.references))
    if failure.kind == "broadcast":
        numbers = ", ".join(f"#{reference.partition(':')[2]}" for reference in failure.references)
        return _n("broadcast {numbers}", "broadcasts {numbers}", len(failure.references), numbers=numbers)
    if failure.kind == NOTICE:
        return _("a direct message")
    return _("a delivery of kind `{kind}`", kind=failure.kind)


async def destination_label(ctx: CommandContext, session: AsyncSession, failure: FailedDelivery) -> str:
    if failure.target.startswith("@"):
        person = await registry.get_person(session, failure.platform, failure.workspace, failure.target[1:])
        name = person.display_name if person and person.display_name else failure.target[1:]
        return f"@{name} ({failure.platform})"
    adapter = ctx.bot.adapters.get(failure.platform)
    if adapter is not None:
        label = adapter.channel_label(ChannelRef(failure.platform, failure.workspace, failure.target))
    else:
        channel = await registry.get_channel(session, failure.platform, failure.workspace, failure.target)
        label = f"#{channel.name or channel.channel_id}" if channel else f"#{failure.target}"
    return f"{label} ({failure.platform})"
