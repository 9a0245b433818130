"""Shared by the deadline tests: reading the console's output, a translator that shows what it
was asked, an adapter that fails on demand, and what the reminder table holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select

from bot.core import Bot
from bot.events import ChannelRef
from bot.outbound import DeliveryError, Outgoing
from bot.platforms.console import ConsoleAdapter
from bot.translation import NotTranslated, Translation
from storage.models import Deadline, Reminder


def posts_in(entries: list[str], channel: str) -> list[str]:
    """Posts by the bot in `#channel` (not edits, not ephemeral answers)."""
    return [entry for entry in entries if entry.startswith(f"[#{channel}] ") and "✎" not in entry.split("\n")[0]]


class RecordingTranslator:
    """Translates into `[XX] text` like the fake DeepL, and records each request."""

    enabled = True

    def __init__(self) -> None:
        self.requests: list[tuple[str, tuple[str, ...]]] = []

    async def translate(self, texts: Sequence[str], target: str, *, source: str | None = None,
                        formality: str | None = None, fallback: str | None = None) -> list[Translation]:
        self.requests.append((target, tuple(texts)))
        return [Translation(f"[{target.upper()}] {text}", source, target) for text in texts]

    async def detect(self, text: str) -> str | None:
        return None


class DownTranslator(RecordingTranslator):
    async def translate(self, texts: Sequence[str], target: str, *, source: str | None = None,
                        formality: str | None = None, fallback: str | None = None) -> list[Translation]:
        self.requests.append((target, tuple(texts)))
        return [Translation(text, source, target, NotTranslated.UNAVAILABLE) for text in texts]


class FailingAdapter(ConsoleAdapter):
    """The console, except that posts to some channels fail as the test says."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.failures: dict[str, list[DeliveryError]] = {}
        self.attempts: Counter[str] = Counter()

    async def post(self, channel: ChannelRef, message: Outgoing) -> str:
        self.attempts[channel.channel] += 1
        queue = self.failures.get(channel.channel)
        if queue:
            raise queue.pop(0)
        return await super().post(channel, message)


async def reminder_states(bot: Bot, deadline_id: int) -> Counter[str]:
    async with bot.db.session() as session:
        rows = await session.exec(select(Reminder).where(Reminder.deadline_id == deadline_id))
        return Counter(row.state for row in rows)


async def reminders(bot: Bot, deadline_id: int | None = None) -> list[Reminder]:
    async with bot.db.session() as session:
        query = select(Reminder).order_by(col(Reminder.id))
        if deadline_id is not None:
            query = query.where(Reminder.deadline_id == deadline_id)
        return list(await session.exec(query))


async def deadlines(bot: Bot) -> list[Deadline]:
    async with bot.db.session() as session:
        return list(await session.exec(select(Deadline).order_by(col(Deadline.id))))


def at(text: str) -> datetime:
    from bot.clock import parse_instant

    return parse_instant(text)
