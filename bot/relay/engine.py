"""Group relay: a message in one linked channel reaches every other channel of its group,
translated into each channel's language, under its author's name, and follows its source through
edits, deletes and thread replies.

The path of a new message:
1. `on_posted` (the adapter awaits it, then acknowledges): one transaction stores the message and
   one outbox item per destination channel, after checking that it is not a bot's post, not one
   of our copies and not a repeated event;
2. in the background, each destination language's translation starts at once (one translator
   call per (language, formality, fallback), whatever the number of channels), and the outbox
   delivers each destination in its own lane;
3. `deliver` (the outbox handler) builds the destination's copy — translated text with mentions
   made inert, split to the platform's limit, footnote in the destination's language, the
   original attached — and posts its parts into the mapped thread, recording each part's id.

Edits and deletes become outbox items in the same lanes, behind the post, so they apply to the
copy whenever it exists. Everything is read back from the tables after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from babel import Locale, UnknownLocaleError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.events import ChannelRef, MessageDeleted, MessageEdited, MessagePosted, PersonRef
from bot.i18n import Message, _, render, resolve_locale
from bot.languages import base_language
from bot.outbound import Outgoing, PostAs
from bot.relay.outbox import NOTICE, Delivery, Enqueued, NewDelivery, Outbox, RecordRow
from bot.relay.safety import neutralise_mentions
from bot.text import split_text
from bot.translation import NotTranslated, Translation, Translator
from bot.translation.notes import note_message
from storage.models import Channel, Group, RelayCopy, RelayMessage
from storage.queries import registry
from storage.queries import relay as queries

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

KIND = "relay"
COPY_KEY = ("platform", "workspace", "channel_id", "message_id")
REPORT_QUIET = timedelta(hours=24)
"""After a destination's failure is reported, its further failures that day are only recorded."""


@dataclass(frozen=True)
class Destination:
    """A channel that receives copies, with what shapes its copy."""

    channel: ChannelRef
    language: str
    formality: str | None
    fallback: str | None
    group_id: int | None

    @classmethod
    def of(cls, channel: Channel) -> Destination:
        return cls(ChannelRef(channel.platform, channel.workspace, channel.channel_id), channel.language,
                   channel.formality, channel.fallback_language, channel.group_id)

    @property
    def translation_key(self) -> tuple[str, str | None, str | None]:
        return (self.language, self.formality, self.fallback)


@dataclass(frozen=True)
class ThreadRoot:
    relay_id: int
    channel: ChannelRef
    message_id: str


@dataclass(frozen=True)
class Source:
    """A relayed message as the copies need it (a snapshot of its row)."""

    id: int
    group_id: int
    channel: ChannelRef
    message_id: str
    author_name: str
    author_avatar: str | None
    text: str
    attachments: tuple[tuple[str, str], ...]
    version: int
    channel_language: str | None
    thread_root: ThreadRoot | None = None
    deleted: bool = False
    destinations: Mapping[ChannelRef, Destination] = field(default_factory=dict)
    """The group's other channels as they were when the message came (empty when read back)."""

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        """The message and version, known before it is stored (translations start that early)."""
        return (self.channel.platform, self.channel.workspace, self.channel.channel, self.message_id, self.version)


@dataclass(frozen=True)
class Copy:
    parts: list[str]
    footnote: str | None
    original: str | None


class TranslationBatcher:
    """One translator call at a time for one target (language, formality, fallback, hint): the
    first text goes at once; texts that come while that call is out go together in the next one.
    Idle, it adds nothing; under load, one DeepL request carries many messages."""

    MAX_TEXTS = 50  # DeepL's limit per request

    def __init__(self, call: Callable[[list[str]], Awaitable[list[Translation]]], language: str) -> None:
        self._call = call
        self._language = language
        self._queue: list[tuple[str, asyncio.Future[Translation]]] = []
        self._task: asyncio.Task[None] | None = None

    async def translate(self, text: str) -> Translation:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Translation] = loop.create_future()
        self._queue.append((text, future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name=f"relay-translate-{self._language}")
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:self.MAX_TEXTS], self._queue[self.MAX_TEXTS:]
            texts = [text for text, _future in batch]
            try:
                results = await self._call(texts)
            except Exception:
                log.exception("translating %d relayed texts into %s failed", len(texts), self._language)
                results = [Translation(text, None, self._language, NotTranslated.UNAVAILABLE) for text in texts]
            for (_text, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for _text, future in self._queue:
            future.cancel()


@dataclass(frozen=True, eq=False)
class _Intake:
    """A new message on its way into the tables."""

    event: MessagePosted
    draft: Source
    now: datetime

    @property
    def key(self) -> tuple[str, str, str, str]:
        ref = self.event.channel
        return (ref.platform, ref.workspace, ref.channel, self.event.message_id)

    def row(self) -> dict[str, Any]:
        ref, draft, author = self.event.channel, self.draft, self.event.author
        return {"group_id": draft.group_id, "platform": ref.platform, "workspace": ref.workspace,
                "channel_id": ref.channel, "message_id": self.event.message_id,
                "thread_root_id": draft.thread_root.relay_id if draft.thread_root else None,
                "author_user": author.person.user, "author_name": author.display_name[:200],
                "author_avatar": author.avatar_url, "channel_language": draft.channel_language,
                "text": self.event.text, "attachments": [{"name": n, "url": u} for n, u in draft.attachments],
                "version": 1, "created_at": self.now, "edited_at": None, "deleted_at": None}


class _Memo(OrderedDict[K, V]):
    """A bounded map that forgets its oldest entries."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: K, value: V) -> V:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
        return value


class Relay:
    def __init__(self, bot: Bot, outbox: Outbox) -> None:
        self.bot = bot
        self.outbox = outbox
        self._sources: _Memo[int, Source] = _Memo(2048)
        # Work under way is kept as its task, finished work as its result: a done task would keep
        # its coroutine and context too, objects for every pass of the garbage collector to walk.
        self._translations: _Memo[tuple[Any, ...], asyncio.Task[Translation] | Translation] = _Memo(4096)
        self._guesses: _Memo[tuple[str, str, str, str, int], asyncio.Task[str | None] | tuple[str | None]] \
            = _Memo(2048)
        self._batchers: dict[tuple[str | None, ...], TranslationBatcher] = {}
        self._destination_sets: _Memo[tuple[ChannelRef, tuple[Destination, ...]], Mapping[ChannelRef, Destination]] \
            = _Memo(256)

    # ---- incoming ------------------------------------------------------------------------------

    async def on_posted(self, event: MessagePosted) -> None:
        if event.from_bot or event.author.is_bot:
            return
        attachments = tuple((a.name, a.url) for a in event.attachments)
        if not event.text.strip() and not attachments:
            return
        ref = event.channel
        # Read first (no write lock): is this a linked channel, a new message, not our own copy?
        async with self.bot.db.session() as session:
            context = await queries.message_context(session, ref.platform, ref.workspace, ref.channel,
                                                    event.message_id)
            source_channel = next((c for c in context.channels if Destination.of(c).channel == ref), None)
            if source_channel is None or source_channel.group_id is None or context.is_copy or context.is_stored:
                return  # not linked, one of our own copies reported back, or a replay
            root = await self._thread_root(session, event, source_channel.group_id)
        group_id = source_channel.group_id
        destinations = self._destinations_of(ref, context.channels)
        draft = Source(0, group_id, ref, event.message_id, event.author.display_name, event.author.avatar_url,
                       event.text, attachments, 1, source_channel.language, root, destinations=destinations)
        # Translating takes longest: it starts now, while the message is being stored.
        self._start_translations(draft, destinations.values())
        intake = _Intake(event, draft, self.bot.clock.now())
        stored = await self.outbox.writer.write_bulk("relay.intake", intake, self._store_many)
        if stored is None:
            return  # a repeated event
        # Committed: the adapter may acknowledge. Delivery goes on in the background.
        relay_id, batch = stored
        self._sources.put(relay_id, replace(draft, id=relay_id))
        if destinations:
            self.bot.spawn(self.outbox.dispatch(batch), name=f"relay-{relay_id}")

    def _destinations_of(self, ref: ChannelRef, channels: Sequence[Channel]) -> Mapping[ChannelRef, Destination]:
        """The group's channels but `ref`, as one mapping shared by the messages that see the same
        ones. Each message keeps it until its copies are out; one of its own (with a `Destination`
        per channel) would leave hundreds of objects per message for every pass of the garbage
        collector to walk, a pause of the event loop that grows with the traffic."""
        fresh = tuple(d for d in map(Destination.of, channels) if d.channel != ref)
        known = self._destination_sets.get((ref, fresh))
        if known is None:
            known = self._destination_sets.put((ref, fresh), {d.channel: d for d in fresh})
        return known

    async def _store_many(self, session: AsyncSession, intakes: list[_Intake]) -> list[tuple[int, Enqueued] | None]:
        """Store new messages and their deliveries, several in one go (three statements however
        many): the event claims, the messages, the outbox items."""
        claimed = await queries.claim_events(session, [
            (i.event.channel.platform, "relay.message", i.event.event_id) for i in intakes if i.event.event_id],
            now=intakes[0].now)
        fresh = [i for i in intakes
                 if not i.event.event_id or (i.event.channel.platform, "relay.message", i.event.event_id) in claimed]
        ids = await queries.add_relay_messages(session, [i.row() for i in fresh])
        stored: dict[int, int] = {}  # id(intake) → relay id; a message twice in one go is stored once
        for intake in fresh:
            relay_id = ids.pop(intake.key, None)
            if relay_id is not None:
                stored[id(intake)] = relay_id
        kept = [i for i in intakes if id(i) in stored]
        batches = await self.outbox.enqueue_many(session, [[
            NewDelivery(KIND, channel, {"op": "post", "message": stored[id(i)]}, reference=f"relay:{stored[id(i)]}")
            for channel in i.draft.destinations] for i in kept], ids=False)
        by_intake = {id(i): (stored[id(i)], batch) for i, batch in zip(kept, batches, strict=True)}
        return [by_intake.get(id(i)) for i in intakes]

    async def on_edited(self, event: MessageEdited) -> None:
        if event.from_bot:
            return
        await self._follow(event.channel, event.message_id, "edit", text=event.text, event_id=event.event_id)

    async def on_deleted(self, event: MessageDeleted) -> None:
        await self._follow(event.channel, event.message_id, "delete", event_id=event.event_id)

    async def _follow(self, ref: ChannelRef, message_id: str, op: str, *, text: str | None = None,
                      event_id: str | None = None) -> None:
        """An edit or delete of a relayed message: every copy follows, in each lane's order."""
        now = self.bot.clock.now()

        async def store(session: AsyncSession) -> tuple[Source, Enqueued] | None:
            message = await queries.relay_message_at(session, ref.platform, ref.workspace, ref.channel, message_id)
            if message is None:
                if op == "delete":
                    # Someone removed one of our copies: never edit or delete it again.
                    copy = await queries.copy_at(session, ref.platform, ref.workspace, ref.channel, message_id)
                    if copy is not None and copy.id is not None:
                        await queries.mark_copy_deleted(session, copy.id)
                return None
            if message.deleted_at is not None or (op == "edit" and text == message.text):
                return None  # Slack reports link previews as edits, for instance
            if event_id and not await queries.claim_event(session, ref.platform, event_id, now=now,
                                                          scope=f"relay.{op}"):
                return None
            assert message.id is not None
            if op == "edit":
                message.text = text or ""
                message.version += 1
                message.edited_at = now
            else:
                message.deleted_at = now
            session.add(message)
            reference = f"relay:{message.id}"
            targets = set(await queries.copy_channels(session, message.id))
            targets |= {(k.platform, k.workspace, k.target) for k in await queries.lanes_of(session, reference)}
            batch = await self.outbox.enqueue(session, [
                NewDelivery(KIND, ChannelRef(*target), {"op": op, "message": message.id}, reference=reference)
                for target in sorted(targets)])
            destinations = {}
            if op == "edit":
                found = await queries.destination_channels(session, targets)
                destinations = {ChannelRef(*key): Destination.of(found[key]) for key in targets if key in found}
            await session.flush()
            return self._source_of(message, await self._root_of(session, message), destinations), batch

        stored = await self.outbox.writer.write(store)
        if stored is None:
            return
        source, batch = stored
        self._sources.put(source.id, source)
        if batch.ids:
            if op == "edit":
                self._start_translations(source, source.destinations.values())
            self.bot.spawn(self.outbox.dispatch(batch), name=f"relay-{op}-{source.id}")

    async def _thread_root(self, session: AsyncSession, event: MessagePosted, group_id: int) -> ThreadRoot | None:
        """The relayed message whose thread `event` replies in, found from the original or any copy."""
        if not event.thread_id:
            return None
        ref = event.channel
        root = await queries.relay_message_at(session, ref.platform, ref.workspace, ref.channel, event.thread_id)
        if root is None:
            copy = await queries.copy_at(session, ref.platform, ref.workspace, ref.channel, event.thread_id)
            root = await session.get(RelayMessage, copy.relay_message_id) if copy else None
        if root is not None and root.thread_root_id is not None:
            root = await session.get(RelayMessage, root.thread_root_id)
        if root is None or root.group_id != group_id or root.id is None:
            return None
        return ThreadRoot(root.id, ChannelRef(root.platform, root.workspace, root.channel_id), root.message_id)

    async def _root_of(self, session: AsyncSession, message: RelayMessage) -> ThreadRoot | None:
        if message.thread_root_id is None:
            return None
        root = await session.get(RelayMessage, message.thread_root_id)
        if root is None or root.id is None:
            return None
        return ThreadRoot(root.id, ChannelRef(root.platform, root.workspace, root.channel_id), root.message_id)

    @staticmethod
    def _source_of(message: RelayMessage, root: ThreadRoot | None,
                   destinations: Mapping[ChannelRef, Destination] | None = None) -> Source:
        assert message.id is not None
        return Source(message.id, message.group_id, ChannelRef(message.platform, message.workspace,
                                                               message.channel_id),
                      message.message_id, message.author_name, message.author_avatar, message.text,
                      tuple((a.get("name", ""), a.get("url", "")) for a in message.attachments or []),
                      message.version, message.channel_language, root, message.deleted_at is not None,
                      destinations or {})

    # ---- delivery (the outbox's handler for `relay` items) ---------------------------------------------

    async def deliver(self, delivery: Delivery) -> None:
        op = delivery.payload.get("op")
        relay_id = int(delivery.payload["message"])
        channel = delivery.channel
        source = await self._source(relay_id, fresh=op != "post")
        if source is None:
            return
        if op == "post":
            destination = source.destinations.get(channel) or await self._destination(channel)
            if source.deleted or destination is None or destination.group_id != source.group_id:
                return  # deleted meanwhile, or the channel left the group: no copy is owed
            await self._post(delivery, source, destination)
        elif op == "edit":
            await self._edit(delivery, source, channel)
        elif op == "delete":
            await self._delete(delivery, source, channel)
        else:
            log.error("relay item %s has an unknown operation %r", delivery.id, op)

    async def _post(self, delivery: Delivery, source: Source, destination: Destination) -> None:
        copy = await self._compose(source, destination, delivery)
        thread = await self._thread_in(source, destination.channel)
        for index in range(len(delivery.posted), len(copy.parts)):
            message = self._outgoing(source, copy, index, thread)
            await delivery.post(message, self._copy_rows(source, destination.channel, index))

    async def _edit(self, delivery: Delivery, source: Source, channel: ChannelRef) -> None:
        async with self.bot.db.session() as session:
            parts = await queries.copies_in(session, source.id, channel.platform, channel.workspace, channel.channel)
        if not parts or source.deleted or all(part.version >= source.version for part in parts):
            return
        destination = await self._destination(channel)
        if destination is None:
            return
        copy = await self._compose(source, destination, delivery)
        thread = await self._thread_in(source, channel)
        for index in range(len(copy.parts)):
            message = self._outgoing(source, copy, index, thread)
            if index < len(parts):
                part = parts[index]
                if part.version >= source.version:
                    continue  # edited by an earlier try
                assert part.id is not None
                await delivery.edit(part.message_id, message,
                                    partial(queries.set_copy_version, copy_id=part.id, version=source.version))
            else:
                await delivery.post(message, self._copy_rows(source, channel, index))
        for part in parts[len(copy.parts):]:
            assert part.id is not None
            await delivery.delete(part.message_id, partial(queries.mark_copy_deleted, copy_id=part.id))

    async def _delete(self, delivery: Delivery, source: Source, channel: ChannelRef) -> None:
        async with self.bot.db.session() as session:
            parts = await queries.copies_in(session, source.id, channel.platform, channel.workspace, channel.channel)
        for part in parts:
            assert part.id is not None
            await delivery.delete(part.message_id, partial(queries.mark_copy_deleted, copy_id=part.id))

    def _copy_rows(self, source: Source, channel: ChannelRef, index: int) -> Callable[[str], list[RecordRow]]:
        """The map from the source to a posted part, written with the part's id."""
        def rows(message_id: str) -> list[RecordRow]:
            return [RecordRow(RelayCopy, {
                "relay_message_id": source.id, "platform": channel.platform, "workspace": channel.workspace,
                "channel_id": channel.channel, "message_id": message_id, "part": index, "version": source.version,
                "deleted": False, "created_at": self.bot.clock.now()}, COPY_KEY)]
        return rows

    def _outgoing(self, source: Source, copy: Copy, index: int, thread: str | None) -> Outgoing:
        last = index == len(copy.parts) - 1
        return Outgoing(copy.parts[index],
                        post_as=PostAs(neutralise_mentions(source.author_name), source.author_avatar),
                        thread_id=thread, footnote=copy.footnote if last else None,
                        original=copy.original if last else None, kind="relay")

    async def _thread_in(self, source: Source, channel: ChannelRef) -> str | None:
        """Where a reply goes in `channel`: the thread of the root's original there, or of its copy."""
        root = source.thread_root
        if root is None:
            return None
        if root.channel == channel:
            return root.message_id
        async with self.bot.db.session() as session:
            parts = await queries.copies_in(session, root.relay_id, channel.platform, channel.workspace,
                                            channel.channel)
        return parts[0].message_id if parts else None

    async def _source(self, relay_id: int, *, fresh: bool) -> Source | None:
        cached = self._sources.get(relay_id)
        if cached is not None and not fresh:
            return cached
        async with self.bot.db.session() as session:
            message = await session.get(RelayMessage, relay_id)
            if message is None:
                return None
            root = await self._root_of(session, message)
        source = self._source_of(message, root, cached.destinations if cached else None)
        if cached is None or cached.version <= source.version:
            self._sources.put(relay_id, source)
        return source

    async def _destination(self, channel: ChannelRef) -> Destination | None:
        async with self.bot.db.session() as session:
            row = await registry.get_channel(session, channel.platform, channel.workspace, channel.channel)
        return Destination.of(row) if row else None

    # ---- the copy's text ----------------------------------------------------------------------------

    async def _compose(self, source: Source, destination: Destination, delivery: Delivery) -> Copy:
        locale = resolve_locale([destination.language])
        translation = None
        body = ""
        if source.text.strip():
            translation = await self._translation(source, destination, retry=delivery.attempt > 1)
            body = translation.text
        links = [f"📎 [{name}]({url})" for name, url in source.attachments]
        text = neutralise_mentions("\n".join(filter(None, [body, *links])))
        translated = translation is not None and translation.translated
        return Copy(parts=split_text(text, delivery.adapter.max_message_chars),
                    footnote=await self._footnote(translation, source, destination, locale),
                    original=neutralise_mentions(source.text) if translated else None)

    async def _footnote(self, translation: Translation | None, source: Source, destination: Destination,
                        locale: str) -> str | None:
        if translation is None:
            return None
        if translation.translated:
            if translation.source_language is None:
                return render(_("Translated automatically"), locale)
            if base_language(translation.target_language) != base_language(destination.language):
                return render(_("Translated from {source} into {target}",
                                source=language_label(translation.source_language, locale),
                                target=language_label(translation.target_language, locale)), locale)
            return render(_("Translated from {language}",
                            language=language_label(translation.source_language, locale)), locale)
        note = note_message(translation.not_translated, locale, destination.language)
        if note is None:
            return None  # already in the destination's language
        language = translation.source_language or await self._guess(source)
        if language:
            return render(_("Original in {language}. {note}", language=language_label(language, locale),
                            note=note), locale)
        if source.channel_language:
            return render(_("From a channel in {language}. {note}",
                            language=language_label(source.channel_language, locale), note=note), locale)
        return render(note, locale)

    def _start_translations(self, source: Source, destinations: Sequence[Destination] | Any) -> None:
        """Start each language's translation now, while the outbox claims its lanes."""
        if not source.text.strip():
            return
        seen: set[tuple[str, str | None, str | None]] = set()
        for destination in destinations:
            if destination.translation_key not in seen:
                seen.add(destination.translation_key)
                self._translation_task(source, destination)

    async def _translation(self, source: Source, destination: Destination, *, retry: bool = False) -> Translation:
        result = await self._translated(source, destination)
        if retry and result.not_translated == NotTranslated.UNAVAILABLE:
            # A later try of this delivery: DeepL may be back.
            self._translations.pop(self._translation_key(source, destination), None)
            result = await self._translated(source, destination)
        return result

    async def _translated(self, source: Source, destination: Destination) -> Translation:
        known = self._translation_task(source, destination)
        return known if isinstance(known, Translation) else await asyncio.shield(known)

    @staticmethod
    def _translation_key(source: Source, destination: Destination) -> tuple[Any, ...]:
        return (*source.key, *destination.translation_key)

    def _translation_task(self, source: Source, destination: Destination) -> asyncio.Task[Translation] | Translation:
        """The translation under way for the destination's language, or its result."""
        key = self._translation_key(source, destination)
        known = self._translations.get(key)
        if known is None:
            task = asyncio.get_running_loop().create_task(self._translate(source, destination),
                                                          name=f"relay-translate-{source.message_id}")
            task.add_done_callback(partial(self._settled, self._translations, key, lambda result: result))
            known = self._translations.put(key, task)
        return known

    @staticmethod
    def _settled(memo: _Memo[K, Any], key: K, keep: Callable[[Any], Any], task: asyncio.Task[Any]) -> None:
        """A finished task stays in `memo` as its result (`keep(result)`), unless it failed."""
        if memo.get(key) is task and not task.cancelled() and task.exception() is None:
            memo[key] = keep(task.result())

    async def _translate(self, source: Source, destination: Destination) -> Translation:
        translator: Translator = self.bot.service(Translator)  # type: ignore[type-abstract]
        guess = None
        try:
            guess = await self._guess(source)
            if guess is not None and base_language(guess) == base_language(destination.language):
                await translator.record_skip(len(source.text))
                return Translation(source.text, guess, destination.language, NotTranslated.SAME_LANGUAGE)
            result = await self._batcher(destination, source.channel_language).translate(source.text)
        except Exception:
            log.exception("translating relayed message %s failed", source.message_id)
            return Translation(source.text, None, destination.language, NotTranslated.UNAVAILABLE)
        if result.source_language is None and guess is not None:
            result = replace(result, source_language=guess)
        return result

    def _batcher(self, destination: Destination, likely_source: str | None) -> TranslationBatcher:
        key = (*destination.translation_key, likely_source)
        batcher = self._batchers.get(key)
        if batcher is None:
            language, formality, fallback = destination.translation_key

            async def call(texts: list[str]) -> list[Translation]:
                translator: Translator = self.bot.service(Translator)  # type: ignore[type-abstract]
                return await translator.translate(texts, language, formality=formality, fallback=fallback,
                                                  likely_source=likely_source)

            batcher = self._batchers[key] = TranslationBatcher(call, language)
        return batcher

    async def _guess(self, source: Source) -> str | None:
        key = source.key
        known = self._guesses.get(key)
        if known is None:
            translator: Translator = self.bot.service(Translator)  # type: ignore[type-abstract]
            task = asyncio.get_running_loop().create_task(translator.detect(source.text))
            task.add_done_callback(partial(self._settled, self._guesses, key, lambda language: (language,)))
            known = self._guesses.put(key, task)
        if not isinstance(known, asyncio.Task):
            return known[0]
        try:
            return await asyncio.shield(known)
        except Exception:
            log.exception("guessing the language of relayed message %s failed", source.message_id)
            return None

    async def stop(self) -> None:
        for task in [*self._translations.values(), *self._guesses.values()]:
            if isinstance(task, asyncio.Task):
                task.cancel()
        for batcher in self._batchers.values():
            batcher.cancel()

    # ---- a delivery that failed for good ---------------------------------------------------------------

    async def on_failure(self, session: AsyncSession, delivery: Delivery, reason: str) -> list[NewDelivery]:
        """Tell the group's leads and the ICC team, once per destination and day (each in their
        language, by DM). Runs in the transaction that records the failure."""
        message = await session.get(RelayMessage, int(delivery.payload["message"]))
        if message is None:
            return []
        now = self.bot.clock.now()
        reference = f"relay-failure:{delivery.destination}"
        if await queries.reported_since(session, reference, now - REPORT_QUIET):
            return []
        group = await session.get(Group, message.group_id)
        people = await queries.group_leads(session, message.group_id)
        people += await registry.icc_team(session)
        people += await queries.people_with_ids(session, [(a.platform, a.user) for a in self.bot.settings.admins])
        running = set(self.outbox.platforms)
        recipients = {(p.platform, p.workspace, p.user_id): p for p in people if p.platform in running}
        destination_row = await registry.get_channel(session, delivery.channel.platform,
                                                     delivery.channel.workspace, delivery.channel.channel)
        source_row = await registry.get_channel(session, message.platform, message.workspace, message.channel_id)
        text = failure_report(str(delivery.payload.get("op")), author=message.author_name,
                              source=self._label(source_row, ChannelRef(message.platform, message.workspace,
                                                                         message.channel_id)),
                              destination=self._label(destination_row, delivery.channel),
                              group=group.slug if group else "?", reason=reason)
        return [NewDelivery(NOTICE, PersonRef(*key), {"text": render(text, resolve_locale(
                    [person.language, person.platform_locale]))}, reference=reference)
                for key, person in sorted(recipients.items())]

    def _label(self, row: Channel | None, ref: ChannelRef) -> str:
        adapter = self.bot.adapters.get(ref.platform)
        if adapter is not None:
            return adapter.channel_label(ref)
        return f"#{row.name or row.channel_id}" if row else f"#{ref.channel}"

    # ---- for flag reactions: the text of a message we relayed ----------------------------------------

    async def message_text(self, channel: ChannelRef, message_id: str) -> str | None:
        """The original text of a relayed message, asked about in its channel or at any copy."""
        async with self.bot.db.session() as session:
            message = await queries.relay_message_at(session, channel.platform, channel.workspace,
                                                     channel.channel, message_id)
            if message is None:
                copy = await queries.copy_at(session, channel.platform, channel.workspace, channel.channel,
                                             message_id)
                message = await session.get(RelayMessage, copy.relay_message_id) if copy else None
        if message is None or message.deleted_at is not None:
            return None
        return message.text


def failure_report(op: str, *, author: str, source: str, destination: str, group: str, reason: str) -> Message:
    what = {
        "edit": _("An edit of a message from {author} in {source} could not be made in {destination} "
                  "(group `{group}`): {reason}.", author=author, source=source, destination=destination,
                  group=group, reason=reason),
        "delete": _("A message from {author} in {source} was deleted, but its copy in {destination} could not "
                    "be removed (group `{group}`): {reason}.", author=author, source=source,
                    destination=destination, group=group, reason=reason),
    }.get(op, _("A message from {author} in {source} could not be delivered to {destination} "
                "(group `{group}`): {reason}.", author=author, source=source, destination=destination,
                group=group, reason=reason))
    return _("{what}\nI will not retry it. Other failures for {destination} in the next 24 hours are "
             "recorded without a new message.", what=what, destination=destination)


def language_label(code: str, locale: str) -> str:
    """`fr` → `French` (in English), `français` (in French); unknown codes stay as they are."""
    try:
        names = Locale.parse(locale).languages
    except (UnknownLocaleError, ValueError):
        names = Locale("en").languages
    return names.get(code.replace("-", "_")) or names.get(base_language(code)) or code
