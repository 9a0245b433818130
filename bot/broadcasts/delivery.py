"""Delivering broadcasts: the outbox's handler for `broadcast` items, and the report at the end.

- `deliver` reads what it needs about a broadcast once for all its lanes (`Snapshot`, shared a few
  seconds; for a broadcast sent now, Confirm's own reading), translates the text once per
  (language, formality, fallback) — every destination of a language awaits the same call, started
  as early as the preview (`warm_up`, which also composes the copies) — splits it to the
  platform's limit and posts it under the ICC team's name. The outbox records each part's id as it
  is accepted (a retry resumes after it); the last part's record also gives the destination its
  outcome, in the same transaction. A channel that left the audience since the preview is skipped.
- `edit` items bring posted copies to the broadcast's latest text: parts edited in place, more
  parts posted, surplus parts deleted (a direct message gets the corrected text again).
- Once no destination is pending the broadcast is `finished` and its sender gets the report: an
  outbox notice written in the same transaction as the state change, so exactly once. A check
  follows each outcome; `FinishJob` catches a report left owed (a process that stopped right
  after an outcome, or two processes settling the last two destinations at the same moment).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.broadcasts import render as views
from bot.broadcasts.audience import speaks
from bot.events import ChannelRef, PersonRef
from bot.i18n import _, render, resolve_locale
from bot.languages import base_language
from bot.outbound import Outgoing, PostAs
from bot.relay.engine import language_label
from bot.relay.outbox import NOTICE, Delivery, NewDelivery, Outbox, RecordRow
from bot.relay.safety import neutralise_mentions
from bot.text import split_text
from bot.translation import NotTranslated, Translation, Translator
from bot.translation.codes import same_language
from bot.translation.notes import note_message
from storage.models import Broadcast, BroadcastCopy, BroadcastTarget, Channel, Person
from storage.models.broadcasts import CHANNEL, DM, FAILED, NOWHERE, PENDING, SKIPPED
from storage.queries import broadcasts as queries
from storage.queries import registry
from storage.queries import relay as relay_queries
from storage.slugs import slugify

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)

KIND = "broadcast"
SNAPSHOT_SECONDS = 5.0
"""How long the lanes of one broadcast share what they read about it (a cancel or an edit made
here forgets it at once; one made by another process is seen within this time, and the outbox has
cancelled the items that had not started)."""


def reference(broadcast_id: int) -> str:
    """The outbox reference of a broadcast's items (`status` and `cancel` take it)."""
    return f"broadcast:{broadcast_id}"


def destination_of(target: BroadcastTarget) -> ChannelRef | PersonRef:
    if target.kind == DM:
        return PersonRef(target.platform, target.workspace, target.address)
    return ChannelRef(target.platform, target.workspace, target.address)


@dataclass(frozen=True)
class Sender:
    """The name and picture broadcasts are posted under."""

    name: str
    avatar_url: str | None = None


@dataclass(frozen=True)
class Snapshot:
    broadcast: Broadcast
    targets: dict[int, BroadcastTarget]
    channels: dict[tuple[str, str, str], Channel]
    in_audience: set[int]
    """Ids of the channels that still belong to the broadcast's audience."""


@dataclass(frozen=True)
class Copy:
    parts: list[str]
    footnote: str | None
    original: str | None


class BroadcastDelivery:
    def __init__(self, bot: Bot, outbox: Outbox, sender: Sender) -> None:
        self.bot = bot
        self.outbox = outbox
        self.sender = sender
        self._translations: OrderedDict[tuple[Any, ...], asyncio.Task[Translation]] = OrderedDict()
        self._copies: OrderedDict[tuple[Any, ...], tuple[Translation, Copy]] = OrderedDict()
        """Each copy composed once per translation (its footnote's language names are costly): every
        destination of a language then posts the same parts."""
        self._running: Counter[int] = Counter()
        """Broadcast id → how many of its items a handler is carrying out in this process."""
        self._snapshots: dict[int, tuple[float, asyncio.Future[Snapshot | None]]] = {}
        self._checks: dict[int, asyncio.Task[None]] = {}
        self._recheck: set[int] = set()

    async def deliver(self, delivery: Delivery) -> None:
        broadcast_id = int(delivery.payload["broadcast"])
        self._running[broadcast_id] += 1
        try:
            await self._deliver(delivery, broadcast_id)
        finally:
            self._running[broadcast_id] -= 1
            if not self._running[broadcast_id]:
                del self._running[broadcast_id]

    async def _deliver(self, delivery: Delivery, broadcast_id: int) -> None:
        payload = delivery.payload
        target_id = int(payload["target"])
        op = payload.get("op")
        if op == "post":
            snapshot = await self._snapshot(broadcast_id)
            target = snapshot.targets.get(target_id) if snapshot else None
            if snapshot is None or target is None:
                return
            channel = snapshot.channels.get((target.platform, target.workspace, target.address))
            await self._post(delivery, snapshot.broadcast, target, channel,
                             in_audience=channel is not None and channel.id in snapshot.in_audience)
        elif op == "edit":
            # Edits are rare and need the copy's current parts: read afresh.
            async with self.bot.db.session() as session:
                broadcast = await session.get(Broadcast, broadcast_id)
                target = await session.get(BroadcastTarget, target_id)
                channel = None
                if target is not None and target.kind == CHANNEL:
                    channel = await registry.get_channel(session, target.platform, target.workspace,
                                                         target.address)
            if broadcast is not None and target is not None:
                await self._edit(delivery, broadcast, target, channel)
        else:
            log.error("broadcast item %s has an unknown operation %r", delivery.id, op)

    async def _snapshot(self, broadcast_id: int) -> Snapshot | None:
        """The broadcast, its destinations and their channels as delivery needs them, read in one go
        and shared by every lane for a few seconds (hundreds of lanes start at once)."""
        loop = asyncio.get_running_loop()
        cached = self._snapshots.get(broadcast_id)
        if cached is not None and cached[0] > loop.time():
            return await asyncio.shield(cached[1])
        task = loop.create_task(self._load_snapshot(broadcast_id), name=f"broadcast-snapshot-{broadcast_id}")
        self._keep_snapshot(broadcast_id, task)
        try:
            return await asyncio.shield(task)
        except Exception:
            self._snapshots.pop(broadcast_id, None)
            raise

    async def warm_up(self, broadcast_id: int, *, shared: bool = True) -> None:
        """Start each language's translation ahead of delivery (from the preview on: a confirmed
        broadcast then goes out at once). A translation that failed is forgotten, so delivery asks
        again rather than send the original. `shared`: keep what was read for the lanes (only right
        before delivery: a preview's reading would be stale by then)."""
        snapshot = await (self._snapshot(broadcast_id) if shared else self._load_snapshot(broadcast_id))
        if snapshot is None:
            return
        broadcast = snapshot.broadcast
        started: dict[tuple[Any, ...], asyncio.Task[Translation]] = {}
        copies: dict[tuple[Any, ...], list[BroadcastTarget]] = {}
        for target in snapshot.targets.values():
            if target.state != PENDING or target.kind == NOWHERE:
                continue
            channel = snapshot.channels.get((target.platform, target.workspace, target.address))
            shape = ((channel.language, channel.formality, channel.fallback_language) if channel is not None
                     else (target.language, None, None))
            key = self._key(broadcast, *shape)
            if key not in started:
                started[key] = self._translation_task(broadcast, *shape)
            copies.setdefault((key, target.kind == DM, target.platform), []).append(target)
        for key, task in started.items():
            result = await asyncio.shield(task)
            if result.not_translated in (NotTranslated.UNAVAILABLE, NotTranslated.QUOTA) \
                    and self._translations.get(key) is task:
                del self._translations[key]
        # Each copy composed now too (its footnote names languages: the first use of a locale's
        # data loads it), so the lanes only post.
        for (key, _dm, platform), targets in copies.items():
            adapter = self.bot.adapters.get(platform)
            kept = self._translations.get(key)
            if adapter is not None and kept is not None and kept.done() and not kept.cancelled():
                self._copy(broadcast, targets[0], key[2], kept.result(), adapter.max_message_chars)

    def forget(self, broadcast_id: int) -> None:
        self._snapshots.pop(broadcast_id, None)

    def share(self, snapshot: Snapshot) -> None:
        """Give the lanes what `read_snapshot` read in a transaction that is now committed (Confirm's:
        its lanes then start posting without reading it all again)."""
        assert snapshot.broadcast.id is not None
        future: asyncio.Future[Snapshot | None] = asyncio.get_running_loop().create_future()
        future.set_result(snapshot)
        self._keep_snapshot(snapshot.broadcast.id, future)

    def _keep_snapshot(self, broadcast_id: int, snapshot: asyncio.Future[Snapshot | None]) -> None:
        self._snapshots[broadcast_id] = (asyncio.get_running_loop().time() + SNAPSHOT_SECONDS, snapshot)
        while len(self._snapshots) > 64:
            self._snapshots.pop(next(iter(self._snapshots)))

    async def _load_snapshot(self, broadcast_id: int) -> Snapshot | None:
        async with self.bot.db.session() as session:
            return await self.read_snapshot(session, broadcast_id)

    async def read_snapshot(self, session: AsyncSession, broadcast_id: int) -> Snapshot | None:
        """The broadcast, its destinations and their channels as delivery needs them."""
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            return None
        targets = await queries.targets_of(session, broadcast_id)
        keys = [(t.platform, t.workspace, t.address) for t in targets if t.kind == CHANNEL]
        channels = await relay_queries.destination_channels(session, keys)
        in_audience = await self._in_audience(session, broadcast, list(channels.values()))
        return Snapshot(broadcast, {t.id: t for t in targets if t.id is not None}, channels, in_audience)

    async def _post(self, delivery: Delivery, broadcast: Broadcast, target: BroadcastTarget,
                    channel: Channel | None, *, in_audience: bool) -> None:
        if target.state != PENDING and not delivery.posted:
            return  # cancelled, or settled by an earlier try
        if target.kind == CHANNEL and (channel is None or not in_audience):
            reason = "the channel is not linked anymore" if channel is None else "the channel left the audience"
            await self._settle_now(delivery, target, SKIPPED, reason)
            return
        copy = await self._compose(delivery, broadcast, target, channel)
        start = len(delivery.posted)
        if start >= len(copy.parts):
            return  # posted by an earlier try, whose end was not recorded
        for index in range(start, len(copy.parts)):
            message = self._outgoing(copy, index)
            final = index == len(copy.parts) - 1
            if target.kind == DM:
                message_id = await delivery.send_dm(message)
                await delivery.record(partial(self._add_copy, target, index, message_id, broadcast.version,
                                              final=final))
            else:
                # Each part's copy row is written with its id, before the next platform call or with
                # the item's end (the final part: the destination has it).
                await delivery.post(message, partial(self._copy_rows, target, index, broadcast.version, final))

    def _copy_rows(self, target: BroadcastTarget, part: int, version: int, final: bool,
                   message_id: str) -> list[RecordRow]:
        return [RecordRow(BroadcastCopy, queries.copy_row(target, part, message_id, version, final=final,
                                                          now=self.bot.clock.now()), unique=("target_id", "part"))]

    async def _add_copy(self, target: BroadcastTarget, part: int, message_id: str, version: int,
                        session: AsyncSession, *, final: bool) -> None:
        await queries.add_copies(session, [queries.copy_row(target, part, message_id, version, final=final,
                                                            now=self.bot.clock.now())])

    async def _settle_now(self, delivery: Delivery, target: BroadcastTarget, state: str, reason: str | None) -> None:
        assert target.id is not None
        target_id = target.id
        await delivery.record(lambda session: queries.settle_target(session, target_id, state,
                                                                    now=self.bot.clock.now(), reason=reason))

    async def on_done(self, delivery: Delivery) -> None:
        """An item's end is committed: if it was a broadcast's last destination, finish it. While
        another item of the broadcast is being carried out here, it is not: that item's own end (or
        its failure, which finishes the broadcast in its transaction) checks later, so the hundreds
        of outcomes of a burst do not each query the database."""
        broadcast_id = int(delivery.payload["broadcast"])
        if self._running[broadcast_id]:
            return
        self._check_soon(broadcast_id)

    # ---- the end of a broadcast: its report -------------------------------------------------------------

    def _check_soon(self, broadcast_id: int) -> None:
        """After a destination's outcome is committed: finish the broadcast if it was the last one.
        Checks of one broadcast run one at a time; outcomes that come meanwhile ask for one more."""
        running = self._checks.get(broadcast_id)
        if running is not None and not running.done():
            self._recheck.add(broadcast_id)
            return
        self._checks[broadcast_id] = self.bot.spawn(self._check(broadcast_id), name=f"broadcast-check-{broadcast_id}")

    async def _check(self, broadcast_id: int) -> None:
        try:
            while True:
                self._recheck.discard(broadcast_id)
                await self.finish_if_done(broadcast_id)
                if broadcast_id not in self._recheck:
                    return
        finally:
            self._checks.pop(broadcast_id, None)

    async def finish_if_done(self, broadcast_id: int) -> bool:
        """When no destination is pending: mark the broadcast finished and send its sender the report,
        in one transaction (whichever process or check gets there first; the others do nothing)."""
        batch = None
        async with self.bot.db.session() as session:
            if await queries.has_pending(session, broadcast_id):
                return False
            reports = await self._finish(session, broadcast_id)
            if reports:
                batch = await self.outbox.enqueue(session, reports)
        if batch is not None:
            await self.outbox.dispatch(batch)
        return batch is not None

    async def _finish(self, session: AsyncSession, broadcast_id: int) -> list[NewDelivery]:
        if not await queries.finish(session, broadcast_id, self.bot.clock.now()):
            return []
        return await self._report(session, broadcast_id)

    async def _report(self, session: AsyncSession, broadcast_id: int) -> list[NewDelivery]:
        broadcast = await session.get(Broadcast, broadcast_id)
        sender = await session.get(Person, broadcast.sender_id) if broadcast else None
        if broadcast is None or sender is None:
            return []
        outcomes = await queries.outcomes(session, broadcast_id)
        locale = resolve_locale([sender.language, sender.platform_locale])
        text = render(views.report_message(broadcast, outcomes, locale), locale)
        return [NewDelivery(NOTICE, PersonRef(sender.platform, sender.workspace, sender.user_id), {"text": text},
                            reference=f"broadcast-report:{broadcast_id}")]

    async def on_failure(self, session: AsyncSession, delivery: Delivery, reason: str) -> list[NewDelivery]:
        """A destination given up on (runs in the transaction that records it): its outcome, and the
        report when it was the last one pending (another process settling the last but one at the
        same moment is caught by the `broadcasts.finish` job)."""
        target = await session.get(BroadcastTarget, int(delivery.payload["target"]))
        if target is None or target.id is None:
            return []
        if delivery.payload.get("op") == "edit":
            await queries.set_reason(session, target.id, reason)
            return []
        await queries.settle_target(session, target.id, FAILED, now=self.bot.clock.now(), reason=reason)
        if await queries.has_pending(session, target.broadcast_id):
            return []
        return await self._finish(session, target.broadcast_id)

    async def _edit(self, delivery: Delivery, broadcast: Broadcast, target: BroadcastTarget,
                    channel: Channel | None) -> None:
        async with self.bot.db.session() as session:
            copies = await queries.copies_of(session, target.id or 0)
        if not any(copy.final for copy in copies) or all(copy.version >= broadcast.version for copy in copies):
            return  # not posted (yet: it will go out with the new text), or edited already
        copy = await self._compose(delivery, broadcast, target, channel)
        version = broadcast.version
        if target.kind == DM:
            # A direct message cannot be edited everywhere: the corrected text is sent again, and
            # becomes the copy's parts.
            locale = resolve_locale([target.language])
            footnote = render(_("Corrected version of an earlier announcement."), locale)
            ids = []
            for index in range(len(copy.parts)):
                message = self._outgoing(copy, index)
                if index == len(copy.parts) - 1:
                    message = replace(message, footnote=footnote)
                ids.append(await delivery.send_dm(message))
            await delivery.record(partial(self._replace_copies, target, copies, ids, version))
            return
        for index in range(len(copy.parts)):
            message = self._outgoing(copy, index)
            if index < len(copies):
                part = copies[index]
                if part.version >= version:
                    continue  # edited by an earlier try
                assert part.id is not None
                await delivery.edit(part.message_id, message,
                                    partial(queries.set_copy_version, copy_id=part.id, version=version))
            else:
                await delivery.post(message, partial(self._copy_rows, target, index, version, False))
        for part in copies[len(copy.parts):]:
            assert part.id is not None
            await delivery.delete(part.message_id, partial(queries.delete_copy, copy_id=part.id))
        if target.reason:
            await delivery.record(partial(queries.set_reason, target_id=target.id or 0, reason=None))

    async def _replace_copies(self, target: BroadcastTarget, old: list[BroadcastCopy], ids: list[str], version: int,
                              session: AsyncSession) -> None:
        for part in old:
            assert part.id is not None
            await queries.delete_copy(session, part.id)
        await session.flush()
        await queries.add_copies(session, [queries.copy_row(target, index, message_id, version,
                                                            final=index == len(ids) - 1, now=self.bot.clock.now())
                                           for index, message_id in enumerate(ids)])

    async def _in_audience(self, session: AsyncSession, broadcast: Broadcast, channels: list[Channel]) -> set[int]:
        """Which of these channels still belong to the broadcast's audience (they may have been
        unlinked or moved since the preview): their ids."""
        kind, _sep, rest = broadcast.audience.partition(":")
        if kind == "all":
            return {c.id for c in channels if c.id is not None and c.group_id is not None}
        if kind == "group":
            group = await registry.find_group(session, rest)
            return {c.id for c in channels if c.id is not None and group is not None and c.group_id == group.id}
        if kind == "lang":
            return {c.id for c in channels if c.id is not None and speaks(c.language, rest)}
        cities = await registry.cities_by_ids(session, [c.city_id for c in channels if c.city_id is not None])
        if kind == "network":
            network = await registry.find_network(session, rest)
            wanted = {city_id for city_id, city in cities.items()
                      if network is not None and city.network_id == network.id}
        elif kind == "cities":
            slugs = {slugify(name) for name in rest.split(",")}
            wanted = {city_id for city_id, city in cities.items() if city.slug in slugs}
        else:
            wanted = set()
        return {c.id for c in channels if c.id is not None and c.city_id in wanted}

    # ---- the copy's text ------------------------------------------------------------------------------------

    def _outgoing(self, copy: Copy, index: int) -> Outgoing:
        last = index == len(copy.parts) - 1
        return Outgoing(copy.parts[index], post_as=PostAs(self.sender.name, self.sender.avatar_url),
                        footnote=copy.footnote if last else None, original=copy.original if last else None,
                        kind="broadcast")

    async def _compose(self, delivery: Delivery, broadcast: Broadcast, target: BroadcastTarget,
                       channel: Channel | None) -> Copy:
        language = channel.language if channel is not None else target.language
        formality = channel.formality if channel is not None else None
        fallback = channel.fallback_language if channel is not None else None
        translation = await self._translation(broadcast, language, formality, fallback, retry=delivery.attempt > 1)
        return self._copy(broadcast, target, language, translation, delivery.adapter.max_message_chars)

    def _copy(self, broadcast: Broadcast, target: BroadcastTarget, language: str, translation: Translation,
              max_chars: int) -> Copy:
        """The copy of `translation` for destinations like `target` (composed once per translation,
        kind of destination and platform limit)."""
        key = (broadcast.id, broadcast.version, language, id(translation), target.kind == DM, max_chars)
        cached = self._copies.get(key)
        if cached is not None and cached[0] is translation:
            return cached[1]
        copy = self._composed(broadcast, target, language, translation, max_chars)
        self._copies[key] = (translation, copy)
        while len(self._copies) > 512:
            self._copies.popitem(last=False)
        return copy

    @staticmethod
    def _composed(broadcast: Broadcast, target: BroadcastTarget, language: str, translation: Translation,
                  max_chars: int) -> Copy:
        locale = resolve_locale([language])
        body = neutralise_mentions(translation.text)
        if target.kind == DM:
            body = render(_("📣 **Announcement from the ICC team**"), locale) + "\n\n" + body
        footnote = _footnote(translation, language, locale)
        if not translation.translated and broadcast.language and same_language(broadcast.language, language):
            footnote = None  # untranslated, but written in the sender's language, which is this channel's
        return Copy(split_text(body, max_chars), footnote,
                    neutralise_mentions(broadcast.text) if translation.translated else None)

    async def _translation(self, broadcast: Broadcast, language: str, formality: str | None, fallback: str | None,
                           *, retry: bool) -> Translation:
        task = self._translation_task(broadcast, language, formality, fallback)
        result = await asyncio.shield(task)
        if retry and result.not_translated == NotTranslated.UNAVAILABLE:
            # A later try of this delivery: DeepL may be back.
            self._translations.pop(self._key(broadcast, language, formality, fallback), None)
            result = await asyncio.shield(self._translation_task(broadcast, language, formality, fallback))
        return result

    @staticmethod
    def _key(broadcast: Broadcast, language: str, formality: str | None, fallback: str | None) -> tuple[Any, ...]:
        return (broadcast.id, broadcast.version, language, formality, fallback)

    def _translation_task(self, broadcast: Broadcast, language: str, formality: str | None,
                          fallback: str | None) -> asyncio.Task[Translation]:
        key = self._key(broadcast, language, formality, fallback)
        task = self._translations.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(
                self._translate(broadcast.text, broadcast.language, language, formality, fallback),
                name=f"broadcast-translate-{broadcast.id}-{language}")
            self._translations[key] = task
            while len(self._translations) > 512:
                self._translations.popitem(last=False)
        return task

    async def _translate(self, text: str, source: str | None, language: str, formality: str | None,
                         fallback: str | None) -> Translation:
        translator: Translator = self.bot.service(Translator)  # type: ignore[type-abstract]
        try:
            [result] = await translator.translate([text], language, formality=formality, fallback=fallback,
                                                  likely_source=source)
        except Exception:
            log.exception("translating a broadcast into %s failed", language)
            return Translation(text, None, language, NotTranslated.UNAVAILABLE)
        return result

    async def stop(self) -> None:
        for task in self._translations.values():
            task.cancel()


def _footnote(translation: Translation, language: str, locale: str) -> str | None:
    if translation.translated:
        if translation.source_language is None:
            return render(_("Translated automatically"), locale)
        if base_language(translation.target_language) != base_language(language):
            return render(_("Translated from {source} into {target}",
                            source=language_label(translation.source_language, locale),
                            target=language_label(translation.target_language, locale)), locale)
        return render(_("Translated from {language}", language=language_label(translation.source_language, locale)),
                      locale)
    note = note_message(translation.not_translated, locale, language, source=translation.source_language)
    return render(note, locale) if note is not None else None


class FinishJob:
    """Sends the report of a broadcast whose last outcome was recorded without it: a process that
    stopped right after, or two processes settling the last two destinations at the same moment."""

    name = "broadcasts.finish"

    def __init__(self, delivery: BroadcastDelivery) -> None:
        self.delivery = delivery

    async def run(self, now: datetime) -> None:
        async with self.delivery.bot.db.session() as session:
            done = await queries.done_but_unfinished(session)
        for broadcast_id in done:
            await self.delivery.finish_if_done(broadcast_id)

    async def next_due(self, now: datetime) -> datetime | None:
        async with self.delivery.bot.db.session() as session:
            return now if await queries.done_but_unfinished(session, limit=1) else None
