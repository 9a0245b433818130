"""The broadcast service (`bot.service(Broadcasts)`): preview, confirm, deliver, report, edit, cancel.

The path of a broadcast:
1. `prepare` resolves the audience, reads `at=` in the sender's time zone and checks the text —
   any problem is an `InputError` and nothing is stored — then stores a preview (`draft`) with its
   destinations, fixed from then on.
2. `confirm` (the sender presses Confirm within an hour) writes, in one transaction, the state
   change and one outbox item per destination (`kind="broadcast"`, `reference="broadcast:<id>"`,
   due at `send_at`), so a restart loses nothing and a scheduled broadcast goes out whenever the
   outbox job reaches that instant (also `!clock` in the console).
3. `deliver` (the outbox handler) translates the text once per (language, formality, fallback)
   — every destination of a language awaits the same call — splits it to the platform's limit and
   posts it under the ICC team's name, recording each part's id with the destination's outcome.
   The outbox paces each destination and honours `Retry-After`; a permanent failure lands in
   `on_failure`, in the transaction that records it.
4. The destination whose outcome brings the broadcast's open count to zero sends the sender the
   report (an outbox notice, in the same transaction: exactly once).

`edit` replaces the text: copies already posted are edited in place (more parts are posted,
surplus parts deleted) by `edit` items queued behind any post in each destination's lane;
destinations not reached yet simply get the new text. `cancel` stops what has not gone out.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.broadcasts import render as views
from bot.broadcasts.audience import Audience, resolve, speaks
from bot.broadcasts.timing import SenderZone, parse_at, sender_zone
from bot.commands import UsageError
from bot.events import ChannelRef, PersonRef
from bot.i18n import Message, _, _n, render, resolve_locale
from bot.languages import base_language, parse_language
from bot.outbound import Button, Outgoing, PostAs
from bot.relay.engine import language_label
from bot.relay.outbox import NOTICE, Delivery, Enqueued, NewDelivery, Outbox
from bot.relay.safety import neutralise_mentions
from bot.text import split_text
from bot.translation import NotTranslated, Translation, Translator
from bot.translation.codes import same_language
from bot.translation.notes import note_message
from storage.models import Broadcast, BroadcastTarget, Channel, City, Person
from storage.models.broadcasts import (
    CANCELLED,
    CHANNEL,
    DELIVERED,
    DISCARDED,
    DM,
    DRAFT,
    FAILED,
    FINISHED,
    NOWHERE,
    PENDING,
    SKIPPED,
    UNDELIVERABLE,
)
from storage.queries import broadcasts as queries
from storage.queries import registry
from storage.slugs import slugify

if TYPE_CHECKING:
    from bot.context import Interaction
    from bot.core import Bot

log = logging.getLogger(__name__)

KIND = "broadcast"
PREVIEW_LIFETIME = timedelta(hours=1)
MAX_TEXT = 12_000
"""Characters of one broadcast (each platform's copy is split into as many posts as it needs)."""
CONFIRM, DISCARD = "broadcast.confirm", "broadcast.discard"


class InputError(Exception):
    """A broadcast that cannot be prepared: which field is wrong and why (nothing was stored)."""

    def __init__(self, field: str, message: Message) -> None:
        super().__init__(message.msgid)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Preview:
    broadcast: Broadcast
    targets: list[BroadcastTarget]
    audience: Audience
    zone: SenderZone

    @property
    def id(self) -> int:
        assert self.broadcast.id is not None
        return self.broadcast.id


@dataclass(frozen=True)
class Answer:
    """What a command or button gets back: a message, with buttons when it is a preview."""

    text: Message
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Copy:
    parts: list[str]
    footnote: str | None
    original: str | None


def reference(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


def preview_buttons(broadcast_id: int) -> tuple[Button, ...]:
    return (Button(_("Confirm"), CONFIRM, str(broadcast_id), "primary"),
            Button(_("Cancel"), DISCARD, str(broadcast_id), "danger"))


def destination_of(target: BroadcastTarget) -> ChannelRef | PersonRef:
    if target.kind == DM:
        return PersonRef(target.platform, target.workspace, target.address)
    return ChannelRef(target.platform, target.workspace, target.address)


class Broadcasts:
    def __init__(self, bot: Bot, outbox: Outbox) -> None:
        self.bot = bot
        self.outbox = outbox
        self._translations: OrderedDict[tuple[Any, ...], asyncio.Task[Translation]] = OrderedDict()

    @property
    def sender_name(self) -> str:
        return self.bot.settings.broadcast_name or "ICC team"

    @property
    def sender_avatar(self) -> str | None:
        return self.bot.settings.broadcast_avatar_url or None

    # ---- preview ---------------------------------------------------------------------------------

    async def prepare(self, ix: Interaction, *, to: str, at: str, text: str) -> Preview:
        """Check everything, then store the preview. Raises InputError (nothing stored)."""
        text = text.strip()
        if not text:
            raise InputError("text", _("Write the announcement's text."))
        if len(text) > MAX_TEXT:
            raise InputError("text", _("A broadcast has at most {limit} characters; this one has {count}.",
                                       limit=MAX_TEXT, count=len(text)))
        now = self.bot.clock.now()
        async with self.bot.db.session() as session:
            city = await session.get(City, ix.person.city_id) if ix.person.city_id else None
            zone = sender_zone(ix.person, city, getattr(self.bot.settings, "icc_timezone", None))
            send_at = None
            if at.strip():
                try:
                    send_at = parse_at(at, zone.zone, now, ix.locale)
                except UsageError as error:
                    raise InputError("at", error.message) from None
            try:
                audience = await resolve(session, to, partial(_label, self.bot))
            except UsageError as error:
                raise InputError("to", error.message) from None
            broadcast = Broadcast(
                text=text, language=ix.person.language or parse_language(ix.locale), audience=audience.spec,
                send_at=send_at or now, scheduled=send_at is not None, timezone=zone.name, state=DRAFT,
                sender_id=ix.person_id, sender_name=ix.person.display_name or ix.person.user_id,
                created_at=now, expires_at=now + PREVIEW_LIFETIME)
            targets = [BroadcastTarget(broadcast_id=0, kind=d.kind, platform=d.platform, workspace=d.workspace,
                                       address=d.address, label=d.label[:200], language=d.language,
                                       city_id=d.city_id,
                                       state=UNDELIVERABLE if d.kind == NOWHERE else PENDING,
                                       reason=None)
                       for d in audience.destinations]
            await queries.add_broadcast(session, broadcast, targets)
        return Preview(broadcast, targets, audience, zone)

    def preview_answer(self, preview: Preview, locale: str) -> Answer:
        text = views.preview_message(preview.broadcast, preview.targets, preview.audience, preview.zone, locale,
                                     running=self.outbox.platforms, sender_name=self.sender_name)
        return Answer(text, preview_buttons(preview.id))

    # ---- confirm, discard ---------------------------------------------------------------------------

    async def confirm(self, ix: Interaction, broadcast_id: int) -> Answer:
        now = self.bot.clock.now()
        batch: Enqueued | None = None
        async with self.bot.db.session() as session:
            broadcast = await queries.get_broadcast(session, broadcast_id)
            refusal = self._not_a_preview(broadcast, broadcast_id)
            if refusal is not None:
                return Answer(refusal)
            assert broadcast is not None
            if now > broadcast.expires_at:
                await queries.discard(session, broadcast_id)
                return Answer(_("This preview has expired (previews last an hour): nothing was sent. Send the "
                                "command again."))
            if broadcast.scheduled and broadcast.send_at <= now:
                await queries.discard(session, broadcast_id)
                return Answer(_("The time you set, {time}, has passed: nothing was sent. Send the command again "
                                "with a new time, or without `at=` to send it now.",
                                time=views.when_line(broadcast, ix.locale)))
            send_at = broadcast.send_at if broadcast.scheduled else now
            if not await queries.confirm(session, broadcast_id, person_id=ix.person_id, now=now, send_at=send_at):
                return Answer(_("Broadcast #{id} is confirmed already.", id=broadcast_id))
            targets = await queries.targets_of(session, broadcast_id)
            deliveries = [NewDelivery(KIND, destination_of(target),
                                      {"op": "post", "broadcast": broadcast_id, "target": target.id},
                                      reference=reference(broadcast_id),
                                      not_before=send_at if broadcast.scheduled else None)
                          for target in targets if target.state == PENDING]
            if deliveries:
                batch = await self.outbox.enqueue(session, deliveries)
        if batch is not None:
            await self.outbox.dispatch(batch)
        count = sum(1 for target in targets if target.state == PENDING)
        if broadcast.scheduled:
            return Answer(_n("Broadcast #{id} is scheduled: {count} destination gets it on {time}. "
                             "`/icc broadcast cancel {id}` stops it, `/icc broadcast edit {id} <text>` changes it.",
                             "Broadcast #{id} is scheduled: {count} destinations get it on {time}. "
                             "`/icc broadcast cancel {id}` stops it, `/icc broadcast edit {id} <text>` changes it.",
                             count, id=broadcast_id, time=views.when_line(broadcast, ix.locale)))
        return Answer(_n("Broadcast #{id} is on its way to {count} destination. I will tell you when it is "
                         "delivered; `/icc broadcast status {id}` follows it.",
                         "Broadcast #{id} is on its way to {count} destinations. I will tell you when every copy "
                         "is delivered; `/icc broadcast status {id}` follows it.", count, id=broadcast_id))

    async def discard(self, ix: Interaction, broadcast_id: int) -> Answer:
        async with self.bot.db.session() as session:
            broadcast = await queries.get_broadcast(session, broadcast_id)
            refusal = self._not_a_preview(broadcast, broadcast_id)
            if refusal is not None:
                return Answer(refusal)
            await queries.discard(session, broadcast_id)
        return Answer(_("Preview #{id} cancelled: nothing was sent.", id=broadcast_id))

    @staticmethod
    def _not_a_preview(broadcast: Broadcast | None, broadcast_id: int) -> Message | None:
        if broadcast is None:
            return _("There is no broadcast #{id}.", id=broadcast_id)
        if broadcast.state == DISCARDED:
            return _("Preview #{id} was cancelled: nothing was sent.", id=broadcast_id)
        if broadcast.state != DRAFT:
            return _("Broadcast #{id} is confirmed already. `/icc broadcast status {id}` follows it.",
                     id=broadcast_id)
        return None

    # ---- cancel, edit ----------------------------------------------------------------------------------

    async def cancel(self, ix: Interaction, broadcast_id: int) -> Answer:
        now = self.bot.clock.now()
        async with self.bot.db.session() as session:
            broadcast = await queries.get_broadcast(session, broadcast_id)
            if broadcast is None:
                return Answer(_("There is no broadcast #{id}.", id=broadcast_id))
            if broadcast.state == DRAFT:
                await queries.discard(session, broadcast_id)
                return Answer(_("Preview #{id} cancelled: nothing was sent.", id=broadcast_id))
            if broadcast.state in (CANCELLED, DISCARDED):
                return Answer(_("Broadcast #{id} is cancelled already.", id=broadcast_id))
            if broadcast.state == FINISHED:
                return Answer(_("Broadcast #{id} has reached every destination already: there is nothing left to "
                                "cancel. `/icc broadcast edit {id} <text>` changes its copies.", id=broadcast_id))
            stopped = await queries.cancel(session, broadcast_id, person_id=ix.person_id, now=now)
            targets = await queries.targets_of(session, broadcast_id)
        await self.outbox.cancel(reference(broadcast_id))
        delivered = sum(1 for target in targets if target.state == DELIVERED)
        if delivered == 0:
            return Answer(_("Broadcast #{id} cancelled: nobody gets it.", id=broadcast_id))
        return Answer(_("Broadcast #{id} stopped: {stopped} will not get it; {delivered} had it already "
                        "(`/icc broadcast edit {id} <text>` changes their copies).", id=broadcast_id,
                        stopped=_n("{count} destination", "{count} destinations", stopped or 0),
                        delivered=_n("{count} destination", "{count} destinations", delivered)))

    async def edit(self, ix: Interaction, broadcast_id: int, text: str) -> Answer:
        text = text.strip()
        if not text:
            raise InputError("text", _("Write the new text."))
        if len(text) > MAX_TEXT:
            raise InputError("text", _("A broadcast has at most {limit} characters; this one has {count}.",
                                       limit=MAX_TEXT, count=len(text)))
        now = self.bot.clock.now()
        batch: Enqueued | None = None
        async with self.bot.db.session() as session:
            broadcast = await queries.get_broadcast(session, broadcast_id)
            if broadcast is None:
                return Answer(_("There is no broadcast #{id}.", id=broadcast_id))
            if broadcast.state == DISCARDED:
                return Answer(_("Preview #{id} was cancelled: nothing was sent.", id=broadcast_id))
            targets = await queries.targets_of(session, broadcast_id)
            delivered = [t for t in targets if t.state == DELIVERED]
            if broadcast.state == CANCELLED and not delivered:
                return Answer(_("Broadcast #{id} was cancelled before anyone got it: there is nothing to edit.",
                                id=broadcast_id))
            await queries.set_text(session, broadcast_id, text, now=now)
            await session.refresh(broadcast)
            if broadcast.state == DRAFT:
                broadcast.expires_at = now + PREVIEW_LIFETIME
                session.add(broadcast)
                city = await session.get(City, ix.person.city_id) if ix.person.city_id else None
                zone = sender_zone(ix.person, city, getattr(self.bot.settings, "icc_timezone", None))
                if zone.name != broadcast.timezone:
                    zone = SenderZone(broadcast.timezone, _("the time zone it was prepared in"))
            elif broadcast.send_at <= now:
                # Copies posted (or being posted) are edited in place; an edit item waits in each
                # destination's lane behind its post, so it applies whenever the copy exists.
                editable = [t for t in targets if t.state in (DELIVERED, PENDING) and t.kind != NOWHERE]
                if editable:
                    batch = await self.outbox.enqueue(session, [
                        NewDelivery(KIND, destination_of(t), {"op": "edit", "broadcast": broadcast_id,
                                                              "target": t.id}, reference=reference(broadcast_id))
                        for t in editable])
        if broadcast.state == DRAFT:
            preview = Preview(broadcast, targets, Audience(broadcast.audience, []), zone)
            return self.preview_answer(preview, ix.locale)
        if batch is not None:
            await self.outbox.dispatch(batch)
            if delivered:
                return Answer(_n("Broadcast #{id} edited: {count} copy is being updated. `/icc broadcast status {id}` "
                                 "follows it.", "Broadcast #{id} edited: {count} copies are being updated. "
                                 "`/icc broadcast status {id}` follows them.", len(delivered), id=broadcast_id))
            return Answer(_("Broadcast #{id} edited: the copies still on their way go out with the new text.",
                            id=broadcast_id))
        return Answer(_("Broadcast #{id} edited: it goes out with the new text on {time}.", id=broadcast_id,
                        time=views.when_line(broadcast, ix.locale)))

    # ---- status, list --------------------------------------------------------------------------------------

    async def status(self, broadcast_id: int, locale: str) -> Message:
        async with self.bot.db.session() as session:
            broadcast = await queries.get_broadcast(session, broadcast_id)
            if broadcast is None:
                return _("There is no broadcast #{id}.", id=broadcast_id)
            targets = await queries.targets_of(session, broadcast_id)
        pending: dict[int, views.Pending] = {}
        if any(target.state == PENDING for target in targets):
            for item in await self.outbox.status(reference(broadcast_id)):
                if item.state != "pending":
                    continue
                target = next((t for t in targets if destination_of(t) == item.destination), None)
                if target is not None and target.id is not None:
                    pending[target.id] = views.Pending(item.attempts, item.last_error)
        return views.status_message(broadcast, targets, locale, self.bot.clock.now(), pending=pending)

    async def recent(self, locale: str) -> Message:
        async with self.bot.db.session() as session:
            broadcasts = await queries.recent(session)
            counts = {b.id: Counter(t.state for t in await queries.targets_of(session, b.id))
                      for b in broadcasts if b.id is not None}
        return views.list_message(broadcasts, counts, locale, self.bot.clock.now())

    # ---- delivery (the outbox's handler for `broadcast` items) -----------------------------------------

    async def deliver(self, delivery: Delivery) -> None:
        payload = delivery.payload
        async with self.bot.db.session() as session:
            broadcast = await session.get(Broadcast, int(payload["broadcast"]))
            target = await session.get(BroadcastTarget, int(payload["target"]))
            channel = None
            if target is not None and target.kind == CHANNEL:
                channel = await registry.get_channel(session, target.platform, target.workspace, target.address)
            in_audience = broadcast is not None and channel is not None and await self._in_audience(
                session, broadcast, channel)
        if broadcast is None or target is None:
            return
        op = payload.get("op")
        if op == "post":
            await self._post(delivery, broadcast, target, channel, in_audience)
        elif op == "edit":
            await self._edit(delivery, broadcast, target, channel)
        else:
            log.error("broadcast item %s has an unknown operation %r", delivery.id, op)

    async def _post(self, delivery: Delivery, broadcast: Broadcast, target: BroadcastTarget,
                    channel: Channel | None, in_audience: bool) -> None:
        if target.state != PENDING and not delivery.posted:
            return  # cancelled, or settled by an earlier try
        if target.kind == CHANNEL and (channel is None or not in_audience):
            reason = "the channel is not linked anymore" if channel is None else "the channel left the audience"
            await self._settle_now(delivery, target, SKIPPED, reason)
            return
        copy = await self._compose(delivery, broadcast, target, channel)
        if len(delivery.posted) >= len(copy.parts):
            await self._settle_now(delivery, target, DELIVERED, None)  # posted by an earlier try
            return
        for index in range(len(delivery.posted), len(copy.parts)):
            last = index == len(copy.parts) - 1
            message = self._outgoing(copy, index)
            reports: list[Enqueued] = []
            if target.kind == DM:
                await delivery.send_dm(message)
                await delivery.record(partial(self._recorded, delivery, target, broadcast.version, last, reports))
            else:
                await delivery.post(message, partial(self._recorded_post, delivery, target, broadcast.version, last,
                                                     reports))
            for batch in reports:
                self.bot.spawn(self.outbox.dispatch(batch), name=f"broadcast-report-{broadcast.id}")

    async def _recorded_post(self, delivery: Delivery, target: BroadcastTarget, version: int, last: bool,
                             reports: list[Enqueued], session: AsyncSession, message_id: str) -> None:
        await self._recorded(delivery, target, version, last, reports, session)

    async def _recorded(self, delivery: Delivery, target: BroadcastTarget, version: int, last: bool,
                        reports: list[Enqueued], session: AsyncSession) -> None:
        """A part is out: its id is written with the destination's parts (and, for the last part, the
        destination's outcome and possibly the report) in the transaction that records it."""
        assert target.id is not None
        await queries.record_parts(session, target.id, delivery.posted, version=version)
        if last:
            batch = await self._settle(session, target, DELIVERED, None)
            if batch is not None:
                reports.append(batch)

    async def _settle_now(self, delivery: Delivery, target: BroadcastTarget, state: str, reason: str | None) -> None:
        batch = await delivery.record(lambda session: self._settle(session, target, state, reason))
        if batch is not None:
            self.bot.spawn(self.outbox.dispatch(batch), name=f"broadcast-report-{target.broadcast_id}")

    async def _settle(self, session: AsyncSession, target: BroadcastTarget, state: str,
                      reason: str | None) -> Enqueued | None:
        reports = await self._settle_reports(session, target, state, reason)
        return await self.outbox.enqueue(session, reports) if reports else None

    async def _settle_reports(self, session: AsyncSession, target: BroadcastTarget, state: str,
                              reason: str | None) -> list[NewDelivery]:
        """Give the destination its outcome; the last one finishes the broadcast and owes its sender
        the report (returned, to be enqueued in this transaction)."""
        now = self.bot.clock.now()
        remaining = await queries.settle_target(session, target, state, now=now, reason=reason)
        if remaining != 0 or not await queries.finish(session, target.broadcast_id, now):
            return []
        return await self._report(session, target.broadcast_id)

    async def _report(self, session: AsyncSession, broadcast_id: int) -> list[NewDelivery]:
        broadcast = await session.get(Broadcast, broadcast_id)
        sender = await session.get(Person, broadcast.sender_id) if broadcast else None
        if broadcast is None or sender is None:
            return []
        targets = await queries.targets_of(session, broadcast_id)
        locale = resolve_locale([sender.language, sender.platform_locale])
        text = render(views.report_message(broadcast, targets, locale), locale)
        return [NewDelivery(NOTICE, PersonRef(sender.platform, sender.workspace, sender.user_id), {"text": text},
                            reference=f"broadcast-report:{broadcast_id}")]

    async def on_failure(self, session: AsyncSession, delivery: Delivery, reason: str) -> list[NewDelivery]:
        """A destination given up on (runs in the transaction that records it)."""
        target = await session.get(BroadcastTarget, int(delivery.payload["target"]))
        if target is None or target.id is None:
            return []
        if delivery.payload.get("op") == "edit":
            await queries.set_reason(session, target.id, reason)
            return []
        return await self._settle_reports(session, target, FAILED, reason)

    async def _edit(self, delivery: Delivery, broadcast: Broadcast, target: BroadcastTarget,
                    channel: Channel | None) -> None:
        assert target.id is not None
        if target.state != DELIVERED or target.version >= broadcast.version or not target.message_ids:
            return  # not posted (yet: it will go out with the new text), or edited already
        copy = await self._compose(delivery, broadcast, target, channel)
        target_id, version = target.id, broadcast.version
        if target.kind == DM:
            # A direct message cannot be edited everywhere: the corrected text is sent again.
            locale = resolve_locale([target.language])
            footnote = render(_("Corrected version of an earlier announcement."), locale)
            for index in range(len(copy.parts)):
                message = self._outgoing(copy, index)
                if index == len(copy.parts) - 1:
                    message = Outgoing(message.text, post_as=message.post_as, kind="broadcast", footnote=footnote,
                                       original=message.original)
                await delivery.send_dm(message)
            await delivery.record(partial(queries.record_parts, target_id=target_id,
                                          message_ids=delivery.posted[-len(copy.parts):], version=version))
            return
        current = list(target.message_ids)
        for index in range(len(copy.parts)):
            message = self._outgoing(copy, index)
            if index < len(current):
                await delivery.edit(current[index], message)
            else:
                async def append(session: AsyncSession, message_id: str) -> None:
                    current.append(message_id)
                    await queries.record_parts(session, target_id, current)

                await delivery.post(message, append)
        while len(current) > len(copy.parts):
            surplus = current.pop()
            kept = list(current)
            await delivery.delete(surplus, partial(queries.record_parts, target_id=target_id, message_ids=kept))
        await delivery.record(partial(queries.set_version, target_id=target_id, version=version))

    async def _in_audience(self, session: AsyncSession, broadcast: Broadcast, channel: Channel) -> bool:
        """Whether the channel still belongs to the broadcast's audience (it may have been unlinked or
        moved since the preview)."""
        kind, _sep, rest = broadcast.audience.partition(":")
        if kind == "all":
            return channel.group_id is not None
        if kind == "group":
            group = await registry.find_group(session, rest)
            return group is not None and channel.group_id == group.id
        if kind == "lang":
            return speaks(channel.language, rest)
        city = await session.get(City, channel.city_id) if channel.city_id else None
        if city is None:
            return False
        if kind == "network":
            network = await registry.find_network(session, rest)
            return network is not None and city.network_id == network.id
        return kind == "cities" and city.slug in {slugify(name) for name in rest.split(",")}

    # ---- the copy's text ------------------------------------------------------------------------------------

    def _outgoing(self, copy: Copy, index: int) -> Outgoing:
        last = index == len(copy.parts) - 1
        return Outgoing(copy.parts[index], post_as=PostAs(self.sender_name, self.sender_avatar),
                        footnote=copy.footnote if last else None, original=copy.original if last else None,
                        kind="broadcast")

    async def _compose(self, delivery: Delivery, broadcast: Broadcast, target: BroadcastTarget,
                       channel: Channel | None) -> Copy:
        language = channel.language if channel is not None else target.language
        formality = channel.formality if channel is not None else None
        fallback = channel.fallback_language if channel is not None else None
        locale = resolve_locale([language])
        translation = await self._translation(broadcast, language, formality, fallback, retry=delivery.attempt > 1)
        body = neutralise_mentions(translation.text)
        if target.kind == DM:
            body = render(_("📣 **Announcement from the ICC team**"), locale) + "\n\n" + body
        footnote = _footnote(translation, language, locale)
        if not translation.translated and broadcast.language and same_language(broadcast.language, language):
            footnote = None  # untranslated, but written in the sender's language, which is this channel's
        return Copy(split_text(body, delivery.adapter.max_message_chars), footnote,
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


def _label(bot: Bot, channel: Channel) -> str:
    from bot.core import channel_label

    return channel_label(bot, channel)
