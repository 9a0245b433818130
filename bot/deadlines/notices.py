"""Posts the bot owes exactly once that are not reminders: joint-campaign announcements (one per
group channel and campaign day) and the weekly digest (one per ICC-team member and week).

A job creates a batch of `Notice` rows in one transaction with its `NoticeBatch` marker (the
marker's primary key makes a second creation fail), then `NoticeDelivery` claims, composes,
posts and records them exactly like reminders.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.clock import Clock, SystemClock
from bot.core import Bot, channel_ref
from bot.deadlines.delivery import LEASE, MAX_ATTEMPTS, Destination, OutcomeRecorder, Pacer, post_to, retry_delay
from bot.deadlines.render import Localizer
from bot.events import PersonRef
from bot.outbound import DeliveryError
from bot.translation import Translator
from storage.models import Channel, Notice, NoticeBatch, Person
from storage.queries import deadlines as queries

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NoticeTarget:
    notice: Notice
    destination: Destination
    person: Person | None = None


class Composer(Protocol):
    kind: str

    async def compose(self, key: str, targets: Sequence[NoticeTarget], localizer: Localizer,
                      now: datetime) -> list[str | None]:
        """The text for each target (None: nothing to say, the notice is dropped)."""


async def create_batch(bot: Bot, kind: str, key: str, targets: Sequence[str], due_at: datetime,
                       now: datetime) -> bool:
    """The batch's notices, once. False when it existed already (or another process won)."""
    try:
        async with bot.db.session() as session:
            if await queries.batch_exists(session, kind, key):
                return False
            await queries.create_batch(session, kind, key, targets, due_at, now)
    except IntegrityError:
        return False
    return True


START_KEY = "start"


async def watching_since(bot: Bot, kind: str, now: datetime) -> datetime:
    """When the bot began keeping this kind of notice in this database (recorded on first use).
    Notices due before that are not owed: a newly installed bot does not announce, all at once,
    everything that fell due before it existed. Those it missed while down are owed, late."""
    async with bot.db.session() as session:
        marker = await session.get(NoticeBatch, (kind, START_KEY))
    if marker is not None:
        return marker.created_at
    await create_batch(bot, kind, START_KEY, (), now, now)
    async with bot.db.session() as session:
        marker = await session.get(NoticeBatch, (kind, START_KEY))
    return marker.created_at if marker is not None else now


class NoticeDelivery:
    def __init__(self, bot: Bot, composer: Composer, *, wall: Clock | None = None, batch_size: int = 100) -> None:
        self.bot = bot
        self.composer = composer
        self.wall = wall or SystemClock()
        self.batch_size = batch_size
        self._pacer = Pacer()
        self._maybe_pending = True
        """False once this process has seen none pending: notices are rare, so `next_due` skips
        the query until this process creates some or keeps one for a retry. (`run`, which the
        scheduler also calls on its interval, always looks, so another process's leftovers are
        picked up.)"""

    def expect(self) -> None:
        """Notices were just created: `next_due` must look again."""
        self._maybe_pending = True

    async def next_due(self) -> datetime | None:
        if not self._maybe_pending:
            return None
        async with self.bot.db.session() as session:
            due = await queries.next_pending(session, Notice, self.wall.now(),
                                             where=[Notice.kind == self.composer.kind])
        self._maybe_pending = due is not None
        return due

    async def run(self, now: datetime) -> Counter[str]:
        outcomes: Counter[str] = Counter()
        while True:
            token, wall = uuid.uuid4().hex, self.wall.now()
            async with self.bot.db.session() as session:
                rows = await queries.claim(session, Notice, now=now, wall=wall, lease_until=wall + LEASE, token=token,
                                           limit=self.batch_size, where=[Notice.kind == self.composer.kind])
            if not rows:
                return outcomes
            outcomes.update(await self._deliver(rows, token, now))
            if outcomes["pending"]:
                self._maybe_pending = True  # a retry is planned
            if len(rows) < self.batch_size:
                return outcomes

    async def _deliver(self, rows: list[Notice], token: str, now: datetime) -> Counter[str]:
        targets = await self._targets(rows)
        localizer = Localizer(self.bot.service(Translator))  # type: ignore[type-abstract]
        recorder = OutcomeRecorder(self.bot, Notice, token)
        outcomes: Counter[str] = Counter()
        by_key: dict[str, list[NoticeTarget]] = defaultdict(list)
        for row in rows:
            target = targets.get(row.target)
            if target is None:
                if await recorder.record(row.id or 0, {"state": "dropped", "note": "destination gone"}):
                    outcomes["dropped"] += 1
            else:
                by_key[row.key].append(NoticeTarget(row, target[0], target[1]))
        for key, members in by_key.items():
            texts = await self.composer.compose(key, members, localizer, now)
            for member, text in zip(members, texts, strict=True):
                values = await self._send(member, text, now)
                # On record as soon as it is posted: a restart must not post it again.
                if await recorder.record(member.notice.id or 0, values):
                    outcomes[str(values["state"])] += 1
        return outcomes

    async def _send(self, member: NoticeTarget, text: str | None, now: datetime) -> dict[str, object]:
        if text is None:
            return {"state": "dropped", "note": "nothing to say"}
        try:
            ids = await post_to(self.bot, member.destination, text, kind="broadcast", pacer=self._pacer)
        except DeliveryError as error:
            log.warning("%s notice %s to %s failed: %s", member.notice.kind, member.notice.key,
                        member.destination.key, error.reason)
            if not error.permanent and member.notice.attempts < MAX_ATTEMPTS:
                return {"state": "pending", "due_at": now + retry_delay(member.notice.attempts, error.retry_after),
                        "note": error.reason[:300]}
            return {"state": "failed", "note": error.reason[:300]}
        return {"state": "sent", "sent_at": now, "message_ids": ",".join(ids)[:500], "note": ""}

    async def _targets(self, rows: list[Notice]) -> dict[str, tuple[Destination, Person | None]]:
        channel_ids = [int(row.target.split(":")[1]) for row in rows if row.target.startswith("channel:")]
        person_ids = [int(row.target.split(":")[1]) for row in rows if row.target.startswith("person:")]
        found: dict[str, tuple[Destination, Person | None]] = {}
        async with self.bot.db.session() as session:
            if channel_ids:
                for channel in await session.exec(select(Channel).where(col(Channel.id).in_(channel_ids))):
                    key = f"channel:{channel.id}"
                    found[key] = (Destination(key, channel_ref(channel), channel.language, channel.fallback_language),
                                  None)
            if person_ids:
                for person in await session.exec(select(Person).where(col(Person.id).in_(person_ids))):
                    key = f"person:{person.id}"
                    ref = PersonRef(person.platform, person.workspace, person.user_id)
                    found[key] = (Destination(key, ref, person.language or person.platform_locale or "en", None),
                                  person)
        return found
