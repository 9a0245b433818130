"""The broadcast service (`bot.service(Broadcasts)`): what the ICC team's commands and buttons do —
preview, confirm, cancel, edit, status, list. Delivery itself is `bot.broadcasts.delivery`.

The path of a broadcast:
1. `prepare` resolves the audience, reads `at=` in the sender's time zone and checks the text —
   any problem is an `InputError` and nothing is stored — then stores a preview (`draft`) with its
   destinations, fixed from then on.
2. `confirm` (the sender presses Confirm within an hour) writes, in one transaction, the state
   change and one outbox item per destination (`kind="broadcast"`, `reference="broadcast:<id>"`,
   due at `send_at`), so a restart loses nothing and a scheduled broadcast goes out whenever the
   outbox job reaches that instant (also `!clock` in the console).
3. `deliver` (the outbox handler) translates the text once per (language, formality, fallback)
   — every destination of a language awaits the same call, started when the preview was made —
   splits it to the platform's limit and posts it under the ICC team's name; the last part's
   record gives the destination its outcome in the same transaction. The outbox paces each
   destination and honours `Retry-After`; a permanent failure lands in `on_failure`, in the
   transaction that records it.
4. Once no destination is pending, the broadcast is finished and its sender gets the report (an
   outbox notice written in the same transaction as `finished`: exactly once). A check follows
   each outcome; the `broadcasts.finish` job catches a report left owed (a process that stopped,
   two processes settling the last two destinations at the same moment).

`edit` replaces the text: copies already posted are edited in place (more parts are posted,
surplus parts deleted) by `edit` items queued behind any post in each destination's lane;
destinations not reached yet simply get the new text. `cancel` stops what has not gone out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from bot.broadcasts import render as views
from bot.broadcasts.audience import Audience, resolve
from bot.broadcasts.delivery import KIND, BroadcastDelivery, FinishJob, Sender, destination_of, reference
from bot.broadcasts.timing import SenderZone, parse_at, sender_zone
from bot.commands import UsageError
from bot.i18n import Message, _, _n
from bot.languages import parse_language
from bot.outbound import Button
from bot.relay.outbox import JOB_NAME as OUTBOX_JOB
from bot.relay.outbox import Enqueued, NewDelivery, Outbox
from storage.models import Broadcast, BroadcastTarget, Channel, City
from storage.models.broadcasts import (
    CANCELLED,
    DELIVERED,
    DISCARDED,
    DRAFT,
    FINISHED,
    NOWHERE,
    PENDING,
    UNDELIVERABLE,
)
from storage.queries import broadcasts as queries

if TYPE_CHECKING:
    from bot.context import Interaction
    from bot.core import Bot

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


def preview_buttons(broadcast_id: int) -> tuple[Button, ...]:
    return (Button(_("Confirm"), CONFIRM, str(broadcast_id), "primary"),
            Button(_("Cancel"), DISCARD, str(broadcast_id), "danger"))


class Broadcasts:
    def __init__(self, bot: Bot, outbox: Outbox) -> None:
        self.bot = bot
        self.outbox = outbox
        self.delivery = BroadcastDelivery(bot, outbox, Sender(bot.settings.broadcast_name or "ICC team",
                                                              bot.settings.broadcast_avatar_url or None))

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
        assert broadcast.id is not None
        self.bot.spawn(self.delivery.warm_up(broadcast.id, shared=False), name=f"broadcast-warm-up-{broadcast.id}")
        # Each destination's outbox lane made now, while the sender reads: Confirm then only adds items.
        await self.outbox.prepare_lanes([destination_of(t) for t in targets if t.kind != NOWHERE])
        return Preview(broadcast, targets, audience, zone)

    def preview_answer(self, preview: Preview, locale: str) -> Answer:
        text = views.preview_message(preview.broadcast, preview.targets, preview.audience, preview.zone, locale,
                                     running=self.outbox.platforms, sender_name=self.delivery.sender.name)
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
            snapshot = None
            if broadcast.scheduled:
                targets = await queries.targets_of(session, broadcast_id)
            else:
                # What the lanes need, read in this transaction: they start on it at once.
                snapshot = await self.delivery.read_snapshot(session, broadcast_id)
                targets = list(snapshot.targets.values()) if snapshot is not None else []
            deliveries = [NewDelivery(KIND, destination_of(target),
                                      {"op": "post", "broadcast": broadcast_id, "target": target.id},
                                      reference=reference(broadcast_id),
                                      not_before=send_at if broadcast.scheduled else None)
                          for target in targets if target.state == PENDING]
            if deliveries:
                [batch] = await self.outbox.enqueue_many(session, [deliveries], ids=False)
        if snapshot is not None:
            self.delivery.share(snapshot)
        if batch is not None:
            if not broadcast.scheduled:
                # Translations started with the preview; any that failed start again now.
                self.bot.spawn(self.delivery.warm_up(broadcast_id), name=f"broadcast-warm-up-{broadcast_id}")
            await self.outbox.dispatch(batch)
            if len(batch.lanes) > self.outbox.claim_batch:
                # One claim takes at most `claim_batch` lanes; the outbox job takes the rest now
                # rather than at its next tick.
                self.bot.scheduler.wake(OUTBOX_JOB)
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
            outcomes = await queries.outcomes(session, broadcast_id)
        self.delivery.forget(broadcast_id)
        await self.outbox.cancel(reference(broadcast_id))
        delivered = sum(1 for outcome in outcomes if outcome.state == DELIVERED)
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
            outcomes = await queries.outcomes(session, broadcast_id)
            targets = [outcome.target for outcome in outcomes]
            delivered = [outcome.target for outcome in outcomes if outcome.state == DELIVERED]
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
                editable = [o.target for o in outcomes if o.state in (DELIVERED, PENDING) and o.target.kind != NOWHERE]
                if editable:
                    [batch] = await self.outbox.enqueue_many(session, [[
                        NewDelivery(KIND, destination_of(t), {"op": "edit", "broadcast": broadcast_id,
                                                              "target": t.id}, reference=reference(broadcast_id))
                        for t in editable]], ids=False)
        self.delivery.forget(broadcast_id)  # committed: lanes read the new text from now on
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
            outcomes = await queries.outcomes(session, broadcast_id)
        pending: dict[int, views.Pending] = {}
        if any(outcome.state == PENDING for outcome in outcomes):
            by_destination = {destination_of(o.target): o.target for o in outcomes}
            for item in await self.outbox.status(reference(broadcast_id)):
                target = by_destination.get(item.destination)
                if item.state == "pending" and target is not None and target.id is not None:
                    pending[target.id] = views.Pending(item.attempts, item.last_error)
        return views.status_message(broadcast, outcomes, locale, self.bot.clock.now(), pending=pending)

    async def recent(self, locale: str) -> Message:
        async with self.bot.db.session() as session:
            broadcasts = await queries.recent(session)
            counts = {b.id: Counter(o.state for o in await queries.outcomes(session, b.id))
                      for b in broadcasts if b.id is not None}
        return views.list_message(broadcasts, counts, locale, self.bot.clock.now())


def _label(bot: Bot, channel: Channel) -> str:
    from bot.core import channel_label

    return channel_label(bot, channel)


__all__ = ["KIND", "Answer", "Broadcasts", "FinishJob", "InputError", "Preview"]
