"""Wiring: the outbox service and its jobs, and the group relay's listeners."""

from __future__ import annotations

from datetime import timedelta

from bot.core import Bot
from bot.events import MessageDeleted, MessageEdited, MessagePosted
from bot.relay.engine import KIND, Relay
from bot.relay.outbox import Outbox, OutboxJob, OutboxPruneJob
from bot.translation import MessageTexts


def setup(bot: Bot) -> None:
    outbox = Outbox(bot)
    relay = Relay(bot, outbox)
    bot.provide(Outbox, outbox)
    bot.provide(Relay, relay)
    bot.provide(MessageTexts, relay)  # type: ignore[type-abstract]
    outbox.register(KIND, relay.deliver, on_failure=relay.on_failure)
    bot.on(MessagePosted, relay.on_posted)
    bot.on(MessageEdited, relay.on_edited)
    bot.on(MessageDeleted, relay.on_deleted)
    bot.scheduler.add(OutboxJob(outbox), every=timedelta(seconds=5))
    bot.scheduler.add(OutboxPruneJob(bot), every=timedelta(hours=6))
    bot.add_idle_check(outbox.idle)
    bot.on_stop(outbox.stop)
    bot.on_stop(relay.stop)
