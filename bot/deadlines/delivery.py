"""Sending due reminders: claim, decide, render, post, record — once per (deadline, city, step).

A worker claims due rows (`storage.queries.deadlines.claim`: `FOR UPDATE SKIP LOCKED` and a
lease on PostgreSQL), decides each one (the deadline was cancelled, the city answered, a later
step made it pointless, nowhere to send it), renders the rest per language, posts them (one
destination at a time per channel, many channels at once) and records each outcome as soon as
its post returns. A failed post is retried with backoff (the platform's `retry_after` when it
gives one); a permanent failure, or the last attempt, is recorded and shown in `status`.

Leases count real time (a worker's liveness), not the bot's clock, which tests and the console
move. The one window that can still repeat a reminder is a crash between a platform accepting a
post and the outcome being written; the lease then expires and the row is sent again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock, SystemClock
from bot.core import Bot, channel_ref
from bot.deadlines.actions import remind_time
from bot.deadlines.planning import local_date, local_instant, step_day
from bot.deadlines.render import Localizer, Rendered, render_reminders
from bot.events import ChannelRef, PersonRef
from bot.outbound import Button, DeliveryError, Outgoing
from bot.text import split_text
from bot.translation import Translator
from storage.models import Channel, City, Deadline, DeadlineCity, Person, Reminder
from storage.queries import deadlines as queries
from storage.queries import registry
from storage.queries.deadlines import Claimable

log = logging.getLogger(__name__)

UNDELIVERABLE = "no channel and no coordinator"
LEASE = timedelta(minutes=2)
LATE_AFTER = timedelta(minutes=15)
"""A reminder sent this long after it was due says so (the bot was down)."""
BATCH_SIZE = 200
CONCURRENCY = 16
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


def retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    if retry_after is not None and retry_after > 0:
        return timedelta(seconds=retry_after)
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


@dataclass(frozen=True)
class Destination:
    key: str
    """`channel:<id>` or `person:<id>`, as recorded in `Reminder.sent_to`."""
    ref: ChannelRef | PersonRef
    language: str
    fallback: str | None


def destinations_of(city: City, channel: Channel | None, coordinators: Sequence[Person]) -> list[Destination]:
    """Where a city's reminders go: its channel or its coordinators by DM, as the city chose,
    and the other one when the chosen one does not exist."""
    by_channel = [Destination(f"channel:{channel.id}", channel_ref(channel), channel.language,
                              channel.fallback_language)] if channel else []
    by_dm = [Destination(f"person:{person.id}", PersonRef(person.platform, person.workspace, person.user_id),
                         person.language or city.language, None) for person in coordinators]
    if city.reminders_to == "dm":
        return by_dm or by_channel
    return by_channel or by_dm


async def post_to(bot: Bot, target: Destination, text: str, *, buttons: tuple[Button, ...] = (),
                  footnote: str | None = None, kind: Literal["bot", "broadcast", "reminder"] = "bot",
                  pacer: Pacer | None = None) -> list[str]:
    """Post `text` (final: rendered and translated) to a channel or a person, split to the
    platform's limit (buttons and footnote on the last part). Raises DeliveryError, whatever
    went wrong."""
    try:
        adapter = bot.adapter(target.ref.platform)
    except LookupError:
        raise DeliveryError(f"{target.ref.platform} is not running") from None
    if pacer is not None:
        await pacer.wait(target.key, adapter.post_rate_per_second, adapter.post_burst)
    try:
        if isinstance(target.ref, ChannelRef):
            return await bot.post(target.ref, text, target.language, buttons=buttons, footnote=footnote, kind=kind)
        # Direct messages are split like channel posts (`Bot.post`): buttons on the last part.
        parts = split_text(text, adapter.max_message_chars)
        ids = []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            message = Outgoing(part, buttons=buttons if last else (), footnote=footnote if last else None, kind=kind)
            ids.append(await adapter.send_dm(target.ref, message))
        return ids
    except DeliveryError:
        raise
    except Exception as error:  # an adapter bug must cost one attempt, not the batch
        log.exception("posting to %s failed", target.key)
        raise DeliveryError(type(error).__name__) from None


@dataclass
class _Work:
    row: Reminder
    deadline: Deadline
    city: City
    days_left: int
    late: bool
    waiting: int
    sent_to: list[str]
    message_ids: list[str] = field(default_factory=list)
    errors: list[DeliveryError] = field(default_factory=list)


class OutcomeRecorder(Generic[Claimable]):
    """Writes claimed rows' outcomes the moment they are known, several to a transaction when
    they come together (group commit): a post is on record a moment after the platform took it,
    without one commit per post. A flush under way is finished even if the bot is stopping."""

    def __init__(self, bot: Bot, model: type[Claimable], token: str) -> None:
        self.bot = bot
        self.model: type[Claimable] = model
        self.token = token
        self._queue: list[tuple[int, dict[str, Any], asyncio.Future[bool]]] = []
        self._lock = asyncio.Lock()

    async def record(self, row_id: int, values: dict[str, Any]) -> bool:
        """True when written (False: this worker no longer held the row)."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((row_id, values, done))
        await asyncio.shield(self._flush(done))
        return await done

    async def _flush(self, mine: asyncio.Future[bool]) -> None:
        async with self._lock:
            if mine.done():
                return  # an earlier flush wrote it
            batch, self._queue = self._queue, []
            # Rows that set the same columns go in one executemany statement.
            shapes: dict[tuple[str, ...], list[tuple[int, dict[str, Any], asyncio.Future[bool]]]] = defaultdict(list)
            for entry in batch:
                shapes[tuple(sorted(entry[1]))].append(entry)
            try:
                async with self.bot.db.session() as session:
                    held = [await queries.finish_many(session, self.model, self.token,
                                                      [(row_id, values) for row_id, values, _done in group])
                            for group in shapes.values()]
            except Exception as error:
                for _row_id, _values, done in batch:
                    done.set_exception(error)
                return
            for group, written in zip(shapes.values(), held, strict=True):
                for _row_id, _values, done in group:
                    done.set_result(written == len(group))


class Pacer:
    """Per destination: `burst` posts at once, then `rate` per second (the platform's own limits)."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}

    async def wait(self, key: str, rate: float, burst: int) -> None:
        loop = asyncio.get_running_loop()
        tokens, then = self._buckets.get(key, (float(burst), loop.time()))
        now = loop.time()
        tokens = min(float(burst), tokens + (now - then) * rate)
        if tokens < 1.0:
            await asyncio.sleep((1.0 - tokens) / rate)
            now = loop.time()
            tokens = 1.0
        self._buckets[key] = (tokens - 1.0, now)


@dataclass
class _Context:
    """What deciding and addressing a batch of reminders needs, read in the claim's transaction."""

    deadlines: dict[int, Deadline]
    entries: dict[tuple[int, int], DeadlineCity]
    cities: dict[int, City]
    latest: dict[tuple[int, int, int], int]
    channels: dict[int, Channel]
    coordinators: dict[int, list[Person]]


async def _load_context(session: AsyncSession, rows: list[Reminder], now: datetime) -> _Context:
    city_ids = sorted({row.city_id for row in rows})
    deadlines = {d.id: d for d in await session.exec(
        select(Deadline).where(col(Deadline.id).in_({row.deadline_id for row in rows}))) if d.id is not None}
    entries = {(e.deadline_id, e.city_id): e for e in await session.exec(select(DeadlineCity).where(
        col(DeadlineCity.deadline_id).in_(list(deadlines)), col(DeadlineCity.city_id).in_(city_ids)))}
    latest = await queries.latest_planned_steps(session, [(row.deadline_id, row.city_id, row.round) for row in rows],
                                                now)
    channels: dict[int, Channel] = {}
    for channel in await session.exec(select(Channel).where(col(Channel.city_id).in_(city_ids))
                                      .order_by(col(Channel.id).desc())):
        assert channel.city_id is not None
        channels[channel.city_id] = channel  # the lowest id wins, as in registry.city_channel
    return _Context(deadlines, entries, await registry.cities_by_ids(session, city_ids), latest, channels,
                    await queries.coordinators_of_cities(session, city_ids))


class ReminderDelivery:
    """Claims and sends due reminders. One per bot; any number of bots may share a database."""

    def __init__(self, bot: Bot, *, wall: Clock | None = None, batch_size: int = BATCH_SIZE,
                 concurrency: int = CONCURRENCY) -> None:
        self.bot = bot
        self.wall = wall or SystemClock()
        self.batch_size = batch_size
        self.concurrency = concurrency
        self._pacer = Pacer()

    async def run(self, now: datetime) -> Counter[str]:
        """Send everything due at `now`; returns how many rows ended in each state."""
        outcomes: Counter[str] = Counter()
        while True:
            token = uuid.uuid4().hex
            wall = self.wall.now()
            async with self.bot.db.session() as session:
                rows = await queries.claim(session, Reminder, now=now, wall=wall, lease_until=wall + LEASE,
                                           token=token, limit=self.batch_size)
                context = await _load_context(session, rows, now) if rows else None
            if context is None:
                return outcomes
            outcomes.update(await self._deliver(rows, context, OutcomeRecorder(self.bot, Reminder, token), now))
            if len(rows) < self.batch_size:
                return outcomes  # that was all that is due

    # ---- one claimed batch ------------------------------------------------------------------------

    def _decide(self, row: Reminder, context: _Context,
                now: datetime) -> dict[str, Any] | tuple[_Work, list[Destination]]:
        """A row's outcome when it is not to be sent; else what to send where."""
        deadline = context.deadlines.get(row.deadline_id)
        entry = context.entries.get((row.deadline_id, row.city_id))
        city = context.cities.get(row.city_id)
        if deadline is None or deadline.state != "open":
            return {"state": "dropped", "note": "cancelled"}
        if row.round != deadline.round:
            return {"state": "dropped", "note": "replanned"}
        if entry is None or city is None or city.id is None:
            return {"state": "dropped", "note": "left the audience"}
        if entry.done_at is not None:
            return {"state": "dropped", "note": "done"}
        if context.latest.get((row.deadline_id, row.city_id, row.round), row.step) > row.step:
            return {"state": "skipped", "note": "superseded"}
        if row.due_at == row.planned_at:
            # The city moved to a later time zone since planning (`/icc city set timezone=`): its
            # 09:30 is still to come. (Moved earlier, the reminder simply goes out now.)
            expected = local_instant(step_day(deadline.due_date, row.step, city.timezone), remind_time(deadline),
                                     city.timezone)
            if expected > now:
                return {"state": "pending", "planned_at": expected, "due_at": expected, "note": ""}
        reached = [key for key in row.sent_to.split(",") if key]
        targets = [d for d in destinations_of(city, context.channels.get(city.id),
                                              context.coordinators.get(city.id, [])) if d.key not in reached]
        if not targets and not reached:
            return {"state": "undeliverable", "note": UNDELIVERABLE}
        days_left = (deadline.due_date - local_date(now, city.timezone)).days
        # The ids already recorded stay paired with the destinations reached before this attempt.
        posted = row.message_ids.split(",") if reached else []
        item = _Work(row, deadline, city, days_left, now - row.due_at > LATE_AFTER, len(targets), reached,
                     posted if len(posted) == len(reached) else [""] * len(reached))
        if not targets:  # every destination was reached by an earlier attempt
            return self._outcome(item, now)
        return item, targets

    async def _deliver(self, rows: list[Reminder], context: _Context, recorder: OutcomeRecorder[Reminder],
                       now: datetime) -> Counter[str]:
        outcomes: Counter[str] = Counter()
        work: list[tuple[_Work, list[Destination]]] = []
        decided: list[tuple[int, dict[str, Any]]] = []
        for row in rows:
            assert row.id is not None
            decision = self._decide(row, context, now)
            if isinstance(decision, dict):
                decided.append((row.id, decision))
            else:
                work.append(decision)
        for (_row_id, values), written in zip(decided, await asyncio.gather(
                *(recorder.record(row_id, values) for row_id, values in decided)), strict=True):
            if written:
                outcomes[values["state"]] += 1
        if work:
            outcomes.update(await self._send_all(work, recorder, now))
        return outcomes

    async def _send_all(self, work: list[tuple[_Work, list[Destination]]], recorder: OutcomeRecorder[Reminder],
                        now: datetime) -> Counter[str]:
        localizer = Localizer(self.bot.service(Translator))  # type: ignore[type-abstract]
        by_language: dict[tuple[str, str | None], list[tuple[_Work, Destination]]] = defaultdict(list)
        for item, targets in work:
            for target in targets:
                by_language[(target.language, target.fallback)].append((item, target))
        queues: dict[str, list[tuple[_Work, Destination, Rendered]]] = defaultdict(list)
        for (language, fallback), pairs in by_language.items():
            items = [(item.deadline, item.city.id or 0, item.days_left, item.late) for item, _target in pairs]
            rendered = await render_reminders(localizer, language, items, fallback)
            for (item, target), message in zip(pairs, rendered, strict=True):
                queues[target.key].append((item, target, message))
        outcomes: Counter[str] = Counter()
        limit = asyncio.Semaphore(self.concurrency)

        async def drain(queue: list[tuple[_Work, Destination, Rendered]]) -> None:
            # One destination's posts in order; other destinations meanwhile.
            async with limit:
                for item, target, message in queue:
                    await self._post(item, target, message)
                    item.waiting -= 1
                    if item.waiting == 0:
                        values = self._outcome(item, now)
                        assert item.row.id is not None
                        if await recorder.record(item.row.id, values):
                            outcomes[str(values["state"])] += 1

        await asyncio.gather(*(drain(queue) for queue in queues.values()))
        return outcomes

    async def _post(self, item: _Work, target: Destination, message: Rendered) -> None:
        try:
            ids = await post_to(self.bot, target, message.text, buttons=message.buttons,
                                footnote=message.footnote, kind="reminder", pacer=self._pacer)
            # The last part carries the buttons: the one to edit once the city has answered.
            item.message_ids.append(ids[-1] if ids else "")
            item.sent_to.append(target.key)
        except DeliveryError as error:
            log.warning("reminder %s to %s failed: %s", item.row.id, target.key, error.reason)
            item.errors.append(error)

    def _outcome(self, item: _Work, now: datetime) -> dict[str, Any]:
        values: dict[str, Any] = {"sent_to": ",".join(item.sent_to)[:500],
                                  "message_ids": ",".join(item.message_ids)[:500]}
        transient = [error for error in item.errors if not error.permanent]
        if transient and item.row.attempts < MAX_ATTEMPTS:
            delay = retry_delay(item.row.attempts, max((e.retry_after or 0 for e in transient), default=None))
            return {**values, "state": "pending", "due_at": now + delay, "note": transient[-1].reason[:300]}
        if item.sent_to:
            note = f"not reached: {item.errors[-1].reason}"[:300] if item.errors else ""
            return {**values, "state": "sent", "sent_at": now, "late": item.late, "note": note}
        reason = item.errors[-1].reason if item.errors else "nothing sent"
        return {**values, "state": "failed", "note": reason[:300]}
