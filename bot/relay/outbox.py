"""The durable outbox: everything the bot owes a destination, delivered once, in order, paced.

Anyone who must post something that may not be lost (a relayed copy, its edit or delete, a
broadcast's post in each channel, a DM) writes an outbox item in the same transaction as the
thing it belongs to, then asks for delivery:

    async with bot.db.session() as session:
        ...                                   # your own rows
        batch = await outbox.enqueue(session, [NewDelivery("broadcast", channel, {"id": 7},
                                                           reference="broadcast:7")])
    await outbox.dispatch(batch)              # after the commit: start delivering now

and registers how a kind is carried out (`outbox.register("broadcast", handler)`). A handler
gets a `Delivery` and posts through it (`await delivery.post(Outgoing(...))`), which paces the
destination, records each posted id before returning, and makes retries resume where they
stopped. Raising `DeliveryError` retries later (honouring `retry_after`) or, when permanent,
records the failure and calls the kind's `on_failure` in the same transaction.

How it stays correct:
- Items wait in **lanes**, one per destination; a lane is held by one process at a time (a lease
  in `outbox_lane`, taken with a conditional UPDATE after `FOR UPDATE SKIP LOCKED` on
  PostgreSQL) and its items go out one after another in the order they were written, so an edit
  never overtakes its post and one destination's Retry-After blocks only that destination.
- Each lane is paced by a token bucket from its adapter's `post_rate_per_second`/`post_burst`;
  lanes run concurrently, so a slow or failing channel never holds up another.
- A retry waits `retry_after` (or an exponential backoff) on the lane; the `outbox` job wakes at
  the earliest moment any lane has work (`next_due`), also after a restart.
- Each posted id is written as soon as the platform accepts the post (writes from all lanes are
  committed together, a few per commit). The one window left: a crash after the platform accepted
  a post and before that write. The post is then repeated once after the lease expires, unless the
  platform deduplicates: `Outgoing.delivery_key` is stable across retries (Discord sends it as
  `nonce` with `enforce_nonce`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock, SystemClock
from bot.events import ChannelRef, PersonRef
from bot.outbound import Adapter, DeliveryError, Outgoing
from storage.db import Database
from storage.queries import relay as queries
from storage.queries.relay import DONE, FAILED, Finished, ItemRow, LaneKey

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)
T = TypeVar("T")

Destination = ChannelRef | PersonRef
DeliveryHandler = Callable[["Delivery"], Awaitable[None]]
FailureHandler = Callable[[AsyncSession, "Delivery", str], Awaitable[Sequence["NewDelivery"]]]
DoneHandler = Callable[["Delivery"], Coroutine[Any, Any, None]]
BulkWrite = Callable[[AsyncSession, list[Any]], Awaitable[Sequence[Any]]]

NOTICE = "notice"
"""The outbox's own kind: a direct message (payload `{"text": …}`, already in the reader's language)."""
JOB_NAME = "outbox"


@dataclass(frozen=True)
class NewDelivery:
    """Something to deliver to one destination (a channel, or a person for a DM)."""

    kind: str
    destination: Destination
    payload: Mapping[str, Any] = field(default_factory=dict)
    reference: str = ""
    """What it belongs to (`relay:12`, `broadcast:7`): `status()` and `cancel()` take it."""
    not_before: datetime | None = None
    """Deliver at or after this instant (a scheduled broadcast); now when None."""


@dataclass(frozen=True)
class Enqueued:
    """Items written by `enqueue`; hand it to `dispatch` once the transaction is committed."""

    ids: list[int]
    lanes: dict[LaneKey, int]
    later: bool = False


@dataclass(frozen=True)
class DeliveryStatus:
    item_id: int
    destination: Destination
    state: str
    attempts: int
    last_error: str | None
    posted: list[str]


def lane_key(destination: Destination) -> LaneKey:
    if isinstance(destination, PersonRef):
        return LaneKey(destination.platform, destination.workspace, f"@{destination.user}")
    return LaneKey(destination.platform, destination.workspace, destination.channel)


def destination_of(key: LaneKey) -> Destination:
    if key.target.startswith("@"):
        return PersonRef(key.platform, key.workspace, key.target[1:])
    return ChannelRef(key.platform, key.workspace, key.target)


class LaneLost(Exception):
    """Another process holds this lane now (our lease ran out): stop without touching it."""


@dataclass(frozen=True)
class RecordRow:
    """A row written together with a posted message's id (skipped if `unique` finds it there)."""

    model: Any
    values: Mapping[str, Any]
    unique: tuple[str, ...] = ()


class Delivery:
    """One outbox item being carried out, as its handler sees it. Every platform call goes
    through here: it is paced for the destination, and nothing is called on the platform before
    what the previous call posted is durably recorded (the last post's record goes with the
    item's end, in the same transaction)."""

    def __init__(self, outbox: Outbox, lane: _Lane, row: ItemRow, adapter: Adapter | None) -> None:
        self._outbox = outbox
        self._lane = lane
        self.id = row.id
        self.kind = row.kind
        self.reference = row.reference
        self.payload = row.payload
        self.attempt = row.attempts + 1
        """1 for the first try."""
        self.posted: list[str] = list(row.posted)
        """Ids posted for this item so far, by this try and any earlier one."""
        self.destination = lane.destination
        self._adapter = adapter
        self._unrecorded = False
        self._rows: list[RecordRow] = []
        self._in_doubt = lane.in_doubt
        lane.in_doubt = False

    @property
    def adapter(self) -> Adapter:
        if self._adapter is None:
            raise DeliveryError(f"platform {self.destination.platform} is not running")
        return self._adapter

    @property
    def channel(self) -> ChannelRef:
        if not isinstance(self.destination, ChannelRef):
            raise TypeError("this delivery goes to a person")
        return self.destination

    async def post(self, message: Outgoing, rows: Callable[[str], Sequence[RecordRow]] | None = None) -> str:
        """Post to the channel. The new id (and `rows(id)`) are recorded before the next platform
        call, or with the item's end."""
        adapter = self.adapter
        key = message.delivery_key or f"icc-{self.id}-{len(self.posted)}"
        message = replace(message, delivery_key=key)
        if self._in_doubt:
            # The process before us may have posted this and stopped before writing it down.
            self._in_doubt = False
            await self.settle()
            found = await adapter.find_posted(self.channel, key)
            if found is not None:
                log.info("outbox item %s: post %s was made before a restart; not posting it again",
                         self.id, key)
                self._posted(found, rows(found) if rows else ())
                return found
        async with self._call():
            message_id = await adapter.post(self.channel, message)
            self._posted(message_id, rows(message_id) if rows else ())
        return message_id

    async def edit(self, message_id: str, message: Outgoing,
                   record: Callable[[AsyncSession], Awaitable[None]] | None = None) -> None:
        adapter = self.adapter
        async with self._call():
            await adapter.edit(self.channel, message_id, message)
        if record is not None:
            await self._outbox.writer.write(record)

    async def delete(self, message_id: str, record: Callable[[AsyncSession], Awaitable[None]] | None = None) -> None:
        adapter = self.adapter
        async with self._call():
            await adapter.delete(self.channel, message_id)
        if record is not None:
            await self._outbox.writer.write(record)

    async def send_dm(self, message: Outgoing) -> str:
        if not isinstance(self.destination, PersonRef):
            raise TypeError("this delivery goes to a channel")
        adapter = self.adapter
        self._in_doubt = False  # a DM sent twice after a crash is a small harm; platforms offer no lookup
        async with self._call():
            message_id = await adapter.send_dm(self.destination, message)
            self._posted(message_id, ())
        return message_id

    async def record(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in a transaction now (grouped with other lanes' writes)."""
        await self.settle()
        return await self._outbox.writer.write(work)

    def _posted(self, message_id: str, rows: Sequence[RecordRow]) -> None:
        self.posted.append(message_id)
        self._rows.extend(rows)
        self._unrecorded = True

    async def settle(self) -> None:
        """Write down what was posted and not recorded yet."""
        if not self._unrecorded:
            return
        posted, rows = list(self.posted), self._take_rows()

        async def write(session: AsyncSession) -> None:
            await queries.record_posted(session, self.id, posted)
            await _insert_rows(session, rows)

        await self._outbox.writer.write(write)
        self._unrecorded = False
        self._lane.in_flight = False

    def _take_rows(self) -> list[RecordRow]:
        rows, self._rows = self._rows, []
        return rows

    @contextlib.asynccontextmanager
    async def _call(self) -> Any:
        """Around each platform call: earlier results recorded, the lease kept, the destination's
        pace respected; `in_flight` from the call until its result is recorded (a stop then keeps
        the lease instead of handing the lane back)."""
        await self.settle()
        await self._outbox._before_call(self._lane)
        async with self._outbox._gate(self.destination.platform):
            self._lane.in_flight = True
            try:
                yield
            finally:
                self._lane.in_flight = self._unrecorded
                # The platform counts from when it accepted (or refused) the call: so do we.
                self._outbox._bucket(self._lane).answered()


async def _insert_rows(session: AsyncSession, rows: Sequence[RecordRow]) -> None:
    groups: dict[tuple[Any, tuple[str, ...]], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row.model, row.unique), []).append(dict(row.values))
    for (model, unique), values in groups.items():
        await queries.insert_rows(session, model, values, unique)


@dataclass
class _Kind:
    handler: DeliveryHandler
    on_failure: FailureHandler | None = None
    on_done: DoneHandler | None = None


class TokenBucket:
    """Pacing for one destination: `burst` calls at once, then `rate` per second (wall time:
    this is about the platform's real limits, not the bot's clock)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = max(rate, 0.001)
        self.burst = max(burst, 1)
        self._tokens = float(self.burst)
        self._stamp = 0.0

    async def take(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if self._stamp:
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await asyncio.sleep((1 - self._tokens) / self.rate)

    def answered(self) -> None:
        """A call just got its answer: the next token accrues from now, not from when it was sent
        (a slow round trip must not let the next call reach the platform too soon)."""
        self._stamp = asyncio.get_running_loop().time()


@dataclass
class _Lane:
    id: int
    key: LaneKey
    destination: Destination
    claimed_until: datetime
    task: asyncio.Task[None] | None = None
    wake: bool = False
    in_flight: bool = False
    in_doubt: bool = False
    """Taken over from a process whose lease ran out: its first post may have been made already."""


class GroupWriter:
    """Short writes from many lanes, committed together: each call waits for its own commit, and
    whatever queued up meanwhile goes into the next transaction (SQLite has one writer at a time,
    and waiting for its lock costs sleeps; PostgreSQL likes fewer commits too). Items' ends are
    written in bulk, a few statements however many lanes finish together. A write that fails is
    retried alone, so it cannot sink the others."""

    def __init__(self, db: Database, *, owner: str, clock: Clock, max_batch: int = 200) -> None:
        self.db = db
        self.owner = owner
        self.clock = clock
        self.max_batch = max_batch
        self._queue: list[tuple[Callable[[AsyncSession], Awaitable[Any]], asyncio.Future[Any]]] = []
        self._ends: list[tuple[Finished, list[RecordRow], asyncio.Future[Any]]] = []
        self._bulk: dict[str, tuple[BulkWrite, list[tuple[Any, asyncio.Future[Any]]]]] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return bool(self._queue or self._ends or any(items for _, items in self._bulk.values())) or (
            self._task is not None and not self._task.done())

    async def write_bulk(self, name: str, item: Any, run: BulkWrite) -> Any:
        """Like `write`, for writes that are cheaper together: the items of `name` queued at the
        moment of a commit go to `run(session, items)` at once (which returns one result per item).
        Bulk writes run first in their transaction (new messages before their edits)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._bulk.setdefault(name, (run, []))[1].append((item, future))
        self._kick()
        return await future

    async def write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((work, future))
        self._kick()
        return await future

    async def finish(self, end: Finished, rows: Sequence[RecordRow] = ()) -> ItemRow | None:
        """Record an item's end (and rows to write with it); the lane's next due item, or None
        when there is none and the lane was handed back."""
        future: asyncio.Future[ItemRow | None] = asyncio.get_running_loop().create_future()
        self._ends.append((end, list(rows), future))
        self._kick()
        return await future

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush(), name="outbox-writer")

    async def close(self) -> None:
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task

    async def _flush(self) -> None:
        while self._queue or self._ends or any(items for _, items in self._bulk.values()):
            works, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            ends, self._ends = self._ends[:self.max_batch], self._ends[self.max_batch:]
            bulk = [(run, items) for run, items in self._bulk.values() if items]
            self._bulk = {}
            try:
                bulk_results, results, following = await self._run(
                    [(run, [item for item, _ in items]) for run, items in bulk],
                    [w for w, _ in works], [(e, r) for e, r, _ in ends])
            except Exception as error:
                futures = [f for _, items in bulk for _, f in items] + [f for _, f in works] + [f for *_, f in ends]
                if len(futures) == 1:
                    _settle(futures[0], error=error)
                    continue
                log.warning("a grouped write failed; retrying its %d writes one by one", len(futures))
                for run, items in bulk:
                    for item, future in items:
                        await self._alone(future, [(run, [item])], [], [])
                for work, future in works:
                    await self._alone(future, [], [work], [])
                for end, rows, future in ends:
                    await self._alone(future, [], [], [(end, rows)])
                continue
            for (_, items), outcomes in zip(bulk, bulk_results, strict=True):
                for (_, future), outcome in zip(items, outcomes, strict=True):
                    _settle(future, result=outcome)
            for (_, future), result in zip(works, results, strict=True):
                _settle(future, result=result)
            for (_, _, future), result in zip(ends, following, strict=True):
                _settle(future, result=result)

    async def _alone(self, future: asyncio.Future[Any], bulk: list[tuple[BulkWrite, list[Any]]],
                     works: list[Callable[[AsyncSession], Awaitable[Any]]],
                     ends: list[tuple[Finished, list[RecordRow]]]) -> None:
        try:
            bulk_results, results, following = await self._run(bulk, works, ends)
        except Exception as error:
            _settle(future, error=error)
        else:
            _settle(future, result=(bulk_results[0] if bulk_results else results or following)[0])

    async def _run(self, bulk: list[tuple[BulkWrite, list[Any]]],
                   works: list[Callable[[AsyncSession], Awaitable[Any]]],
                   ends: list[tuple[Finished, list[RecordRow]]]) -> tuple[list[list[Any]], list[Any],
                                                                          list[ItemRow | None]]:
        for attempt in range(4):
            try:
                async with self.db.session() as session:
                    bulk_results = [list(await run(session, items)) for run, items in bulk]
                    results = [await work(session) for work in works]
                    following: list[ItemRow | None] = []
                    if ends:
                        await _insert_rows(session, [row for _, rows in ends for row in rows])
                        nexts = await queries.finish_items(session, [end for end, _ in ends], owner=self.owner,
                                                           now=self.clock.now())
                        following = [nexts.get(end.lane_id) for end, _ in ends]
                    return bulk_results, results, following
            except OperationalError:
                # SQLite busy for longer than its timeout, a dropped PostgreSQL connection: brief retries.
                if attempt == 3:
                    raise
                await asyncio.sleep(0.05 * 2 ** attempt)
        raise AssertionError("unreachable")


def _settle(future: asyncio.Future[Any], *, result: Any = None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Outbox:
    """The delivery service (`bot.service(Outbox)`). See the module docstring for its use."""

    def __init__(self, bot: Bot, *, lease: timedelta = timedelta(seconds=60), max_attempts: int = 16,
                 backoff: timedelta = timedelta(seconds=2), max_backoff: timedelta = timedelta(minutes=15),
                 drain_seconds: float = 10.0, claim_batch: int = 500, calls_per_platform: int = 64,
                 wait_in_lane: timedelta = timedelta(seconds=30)) -> None:
        self.bot = bot
        self.claim_batch = claim_batch
        """Most lanes one claim takes: smaller shares a burst more evenly between processes."""
        self.calls_per_platform = calls_per_platform
        """Platform calls in flight at once, per platform: enough to keep hundreds of lanes
        moving, few enough that each call's own work is not starved by the others'. More than a
        large group's channels (a message into 40 channels posts 39 copies at once: with fewer
        slots, the last copies wait a whole round trip for one)."""
        self.wait_in_lane = wait_in_lane
        """A Retry-After up to this long is waited out by the lane itself (with the system clock),
        so the retry goes out the moment the platform allows it; longer ones hand the lane back."""
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.drain_seconds = drain_seconds
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.writer = GroupWriter(bot.db, owner=self.owner, clock=bot.clock)
        self._kinds: dict[str, _Kind] = {NOTICE: _Kind(_deliver_notice)}
        self._active: dict[int, _Lane] = {}
        self._lane_ids: dict[LaneKey, int] = {}
        self._keys: dict[int, LaneKey] = {}
        self._buckets: dict[int, TokenBucket] = {}
        self._start_lock = asyncio.Lock()
        self._wanted: set[int] = set()
        self._planned_wake: datetime | None = None
        self._stopping = False
        self._stopped = asyncio.Event()
        self._doubtful: set[int] = set()
        self._gates: dict[str, asyncio.Semaphore] = {}

    # ---- the public API ------------------------------------------------------------------------

    def register(self, kind: str, handler: DeliveryHandler, *, on_failure: FailureHandler | None = None,
                 on_done: DoneHandler | None = None) -> None:
        """How items of `kind` are delivered. `on_failure(session, delivery, reason)` runs in the
        transaction that records a permanent failure; the deliveries it returns (reports) are
        enqueued in it, so they happen exactly once. `on_done(delivery)` runs in the background once
        an item's end is committed (what the handler recorded with it is there to be read)."""
        if kind in self._kinds:
            raise ValueError(f"outbox kind {kind} registered twice")
        self._kinds[kind] = _Kind(handler, on_failure, on_done)

    async def enqueue(self, session: AsyncSession, deliveries: Sequence[NewDelivery]) -> Enqueued:
        """Write items in the caller's transaction. Call `dispatch` with the result after the commit."""
        [batch] = await self.enqueue_many(session, [deliveries])
        return batch

    async def enqueue_many(self, session: AsyncSession, groups: Sequence[Sequence[NewDelivery]], *,
                           ids: bool = True) -> list[Enqueued]:
        """`enqueue` for several independent groups at once (one insert): one `Enqueued` each
        (with the items' ids unless `ids=False`, which is cheaper)."""
        now = self.bot.clock.now()
        keys = {lane_key(d.destination) for group in groups for d in group}
        lanes = {key: self._lane_ids[key] for key in keys if key in self._lane_ids}
        if len(lanes) < len(keys):
            lanes.update(await queries.lane_ids(session, keys - lanes.keys()))
        rows = [{"lane_id": lanes[lane_key(d.destination)], "kind": d.kind, "reference": d.reference,
                 "payload": dict(d.payload), "state": queries.PENDING, "attempts": 0,
                 "not_before": d.not_before or now, "created_at": now, "posted": []}
                for group in groups for d in group]
        item_ids = iter(await queries.add_items(session, rows, ids=ids))
        batches = []
        for group in groups:
            group_keys = {lane_key(d.destination) for d in group}
            batches.append(Enqueued([next(item_ids) for _ in group] if ids else [],
                                    {key: lanes[key] for key in group_keys},
                                    any(d.not_before is not None and d.not_before > now for d in group)))
        return batches

    async def prepare_lanes(self, destinations: Sequence[Destination]) -> None:
        """Create the lanes of destinations that will be written to soon (a broadcast's, at its
        preview), in a transaction of their own, so that `enqueue` then only adds items; and let
        each platform's adapter look up what posting there needs (`Adapter.prepare`)."""
        keys = [key for key in dict.fromkeys(map(lane_key, destinations)) if key not in self._lane_ids]
        if keys:
            async with self.bot.db.session() as session:
                lanes = await queries.lane_ids(session, keys)
            for key, lane_id in lanes.items():
                self._lane_ids[key] = lane_id
                self._keys[lane_id] = key
        channels: dict[str, list[ChannelRef]] = {}
        for destination in destinations:
            if isinstance(destination, ChannelRef):
                channels.setdefault(destination.platform, []).append(destination)
        for platform, refs in channels.items():
            adapter = self.bot.adapters.get(platform)
            if adapter is None:
                continue
            try:
                await adapter.prepare(refs)
            except Exception:
                # Only a head start: delivery looks up whatever is missing itself.
                log.exception("%s could not prepare %d channels for delivery", platform, len(refs))

    async def dispatch(self, batch: Enqueued) -> None:
        """Start delivering what `enqueue` wrote (its transaction committed)."""
        for key, lane_id in batch.lanes.items():
            self._lane_ids[key] = lane_id
            self._keys[lane_id] = key
        await self._start(list(batch.lanes.values()))
        if batch.later:
            self._wake_job()

    async def submit(self, deliveries: Sequence[NewDelivery]) -> list[int]:
        """`enqueue` in a transaction of its own, then `dispatch`."""
        async with self.bot.db.session() as session:
            batch = await self.enqueue(session, deliveries)
        await self.dispatch(batch)
        return batch.ids

    async def status(self, reference: str) -> list[DeliveryStatus]:
        async with self.bot.db.session() as session:
            rows = await queries.item_states(session, reference)
        return [DeliveryStatus(item_id, destination_of(LaneKey(platform, workspace, target)), state, attempts,
                               error, list(posted or []))
                for item_id, platform, workspace, target, state, attempts, error, posted in rows]

    async def cancel(self, reference: str) -> int:
        """Cancel what is still pending for `reference`; returns how many items. An item being
        delivered right now finishes."""
        async with self.bot.db.session() as session:
            return await queries.cancel_items(session, reference, self.bot.clock.now())

    # ---- for the job, the idle check and stopping ----------------------------------------------------

    @property
    def platforms(self) -> list[str]:
        return [adapter.platform for adapter in self.bot.adapters]

    async def pump(self) -> int:
        """Start on every lane that has work due now and nobody delivering it. Returns how many."""
        return await self._start(None)

    async def next_due(self, now: datetime) -> datetime | None:
        """The earliest instant at which some lane this process could deliver has work."""
        async with self.bot.db.session() as session:
            lanes = await queries.lanes_with_work(session, self.platforms, now)
        dues = [lane.due(self.owner) for lane in lanes if lane.lane_id not in self._active]
        return min(dues) if dues else None

    @property
    def busy(self) -> bool:
        return bool(self._active) or self.writer.busy

    async def idle(self) -> bool:
        """Nothing is being delivered and nothing this process could deliver is due now."""
        if self.busy:
            return False
        now = self.bot.clock.now()
        due = await self.next_due(now)
        if due is None or due > now:
            return True
        # Due work that nobody started (the job has not woken yet): start it rather than wait.
        return await self.pump() == 0

    async def stop(self) -> None:
        """Let deliveries in progress finish (up to `drain_seconds`), then hand every lane back."""
        self._stopping = True
        self._stopped.set()
        tasks = [lane.task for lane in self._active.values() if lane.task is not None]
        if tasks:
            _done, running = await asyncio.wait(tasks, timeout=self.drain_seconds)
            for lane in list(self._active.values()):
                if lane.task in running and lane.in_flight:
                    # Cancelled between the platform call and its record: keep the lease so the
                    # item is retried only once it expires (see the module docstring).
                    self._doubtful.add(lane.id)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        await self.writer.close()
        held = [lane_id for lane_id in self._keys if lane_id not in self._doubtful]
        try:
            async with self.bot.db.session() as session:
                await queries.release_all(session, self.owner, held)
        except Exception:
            log.exception("could not hand the outbox lanes back; they are free again once their lease ends")

    # ---- lanes and workers ---------------------------------------------------------------------------

    async def _start(self, only: Sequence[int] | None) -> int:
        if self._stopping:
            return 0
        if only is not None:
            for lane_id in only:
                lane = self._active.get(lane_id)
                if lane is not None:
                    lane.wake = True
                else:
                    self._wanted.add(lane_id)
            if not self._wanted:
                return 0
        async with self._start_lock:
            if self._stopping:
                return 0
            if only is not None:
                # Lanes wanted by every dispatch that came while the previous claim ran: one claim.
                fresh = []
                for lane_id in self._wanted:
                    lane = self._active.get(lane_id)
                    if lane is not None:
                        lane.wake = True
                    else:
                        fresh.append(lane_id)
                self._wanted.clear()
                if not fresh:
                    return 0
            now = self.bot.clock.now()
            exclude = list(self._active)

            taken_over: set[int] = set()

            async def claim(session: AsyncSession) -> dict[int, ItemRow | None]:
                taken_over.clear()
                firsts = await queries.claim_lanes(
                    session, owner=self.owner, now=now, lease=self.lease, platforms=self.platforms,
                    only=fresh if only is not None else None, exclude=exclude, limit=self.claim_batch,
                    taken_over=taken_over)
                for lane_id in firsts:
                    if lane_id not in self._keys and (key := await queries.lane_key(session, lane_id)) is not None:
                        self._keys[lane_id] = key
                        self._lane_ids[key] = lane_id
                return firsts

            firsts = await self.writer.write(claim)
            if self._stopping:  # stopped meanwhile: give the lanes back rather than start on them
                await self.writer.write(partial(queries.release_all, owner=self.owner, lanes=list(firsts)))
                return 0
            for lane_id, first in firsts.items():
                key = self._keys[lane_id]
                lane = _Lane(lane_id, key, destination_of(key), now + self.lease, in_doubt=lane_id in taken_over)
                self._active[lane_id] = lane
                lane.task = self.bot.spawn(self._work(lane, first), name=f"outbox-lane-{lane_id}")
            return len(firsts)

    async def _work(self, lane: _Lane, item: ItemRow | None) -> None:
        """Deliver a lane's due items in order until none is left; the lane is handed back with
        the last item's end. An item committed after a look-up sets `lane.wake` (see `_start`),
        and it is cleared before each look-up, so nothing written meanwhile is missed."""
        try:
            while not self._stopping:
                if item is None:
                    lane.wake = False
                    now = self.bot.clock.now()
                    item = await self.writer.write(partial(queries.next_due_item, lane_id=lane.id, now=now))
                    if item is None:
                        if lane.wake:
                            continue
                        await self.writer.write(partial(queries.release_lane, lane_id=lane.id, owner=self.owner))
                        item = _RELEASED
                if item is _RELEASED:
                    if not lane.wake or self._stopping:
                        return
                    item = await self._reclaim(lane)
                    continue
                item = await self._deliver(lane, item)
                if item is _BLOCKED:
                    return
        except LaneLost:
            log.warning("outbox lane %s was taken over by another process", lane.key)
        finally:
            if self._active.get(lane.id) is lane:
                del self._active[lane.id]

    async def _reclaim(self, lane: _Lane) -> Any:
        """Work came for a lane just handed back: take it again (unless another process did)."""
        lane.wake = False
        now = self.bot.clock.now()

        async def claim(session: AsyncSession) -> dict[int, ItemRow | None]:
            return await queries.claim_lanes(session, owner=self.owner, now=now, lease=self.lease,
                                             platforms=self.platforms, only=[lane.id])

        taken = await self.writer.write(claim)
        if lane.id not in taken:
            return _RELEASED
        lane.claimed_until = now + self.lease
        return taken[lane.id]

    async def _deliver(self, lane: _Lane, row: ItemRow) -> Any:
        """Carry out one item; returns the lane's next item, `_RELEASED` or `_BLOCKED`."""
        kind = self._kinds.get(row.kind)
        delivery = Delivery(self, lane, row, self.bot.adapters.get(lane.key.platform))
        try:
            if kind is None:
                raise DeliveryError(f"no handler for outbox items of kind {row.kind}")
            await kind.handler(delivery)
        except (asyncio.CancelledError, LaneLost):
            await asyncio.shield(delivery.settle())
            raise
        except DeliveryError as error:
            answered = asyncio.get_running_loop().time()
            await delivery.settle()
            if self._waits_in_lane(error):
                assert error.retry_after is not None
                return await self._retry_in_lane(lane, delivery, row, error.reason, answered + error.retry_after)
            return await self._failed(lane, delivery, kind, error.reason, retry_after=error.retry_after,
                                      permanent=error.permanent)
        except Exception as error:
            log.exception("delivering outbox item %s (%s) failed", row.id, row.kind)
            await delivery.settle()
            return await self._failed(lane, delivery, kind, f"internal error ({type(error).__name__})",
                                      retry_after=None, permanent=False)
        lane.wake = False
        following = await self.writer.finish(Finished(delivery.id, lane.id, DONE, delivery.posted),
                                             delivery._take_rows())
        lane.in_flight = False
        if kind is not None and kind.on_done is not None:
            self.bot.spawn(kind.on_done(delivery), name=f"outbox-done-{delivery.id}")
        return following if following is not None else _RELEASED

    async def _give_up(self, lane: _Lane, delivery: Delivery, reason: str, kind: _Kind | None) -> Any:
        now = self.bot.clock.now()

        async def write(session: AsyncSession) -> tuple[ItemRow | None, Enqueued | None]:
            batch = None
            if kind is not None and kind.on_failure is not None:
                reports = await kind.on_failure(session, delivery, reason)
                if reports:
                    batch = await self.enqueue(session, reports)
            nexts = await queries.finish_items(session, [Finished(delivery.id, lane.id, FAILED, delivery.posted,
                                                                  reason)], owner=self.owner, now=now)
            return nexts.get(lane.id), batch

        lane.wake = False
        following, batch = await self.writer.write(write)
        if batch is not None:
            self.bot.spawn(self.dispatch(batch), name="outbox-reports")
        return following if following is not None else _RELEASED

    async def _failed(self, lane: _Lane, delivery: Delivery, kind: _Kind | None, reason: str, *,
                      retry_after: float | None, permanent: bool) -> Any:
        gives_up = permanent or (retry_after is None and delivery.attempt >= self.max_attempts)
        if gives_up:
            log.warning("outbox item %s to %s failed for good after %d attempt(s): %s", delivery.id,
                        lane.key, delivery.attempt, reason)
            return await self._give_up(lane, delivery, reason, kind)
        delay = retry_after if retry_after is not None else self._backoff(delivery.attempt)
        until = self.bot.clock.now() + timedelta(seconds=max(delay, 0.0))
        log.info("outbox item %s to %s: %s; retrying in %.1f s", delivery.id, lane.key, reason, delay)

        async def write(session: AsyncSession) -> None:
            await queries.retry_item(session, delivery.id, error=reason)
            await queries.release_lane(session, lane.id, owner=self.owner, blocked_until=until)

        await self.writer.write(write)
        self._wake_job(until)
        return _BLOCKED

    def _waits_in_lane(self, error: DeliveryError) -> bool:
        # With a test clock, time moves only when the test says: the retry is scheduled through it.
        return (isinstance(self.bot.clock, SystemClock) and not error.permanent and error.retry_after is not None
                and error.retry_after <= self.wait_in_lane.total_seconds() and not self._stopping)

    async def _retry_in_lane(self, lane: _Lane, delivery: Delivery, row: ItemRow, reason: str, until: float) -> Any:
        """Rate limited: keep the lane and try the item again at `until` (loop time), when the
        platform said it would take it; a stop meanwhile hands the lane back, blocked until then."""
        loop = asyncio.get_running_loop()
        log.info("outbox item %s to %s: %s; retrying in %.1f s", delivery.id, lane.key, reason, until - loop.time())
        lease_left = lane.claimed_until - self.bot.clock.now()
        renew_until = self.bot.clock.now() + self.lease if lease_left.total_seconds() < until - loop.time() \
            + self.lease.total_seconds() / 2 else None

        async def write(session: AsyncSession) -> bool:
            await queries.retry_item(session, delivery.id, error=reason)
            if renew_until is None:
                return True
            return await queries.renew_lane(session, lane.id, owner=self.owner, until=renew_until)

        if not await self.writer.write(write):
            raise LaneLost(str(lane.key))
        if renew_until is not None:
            lane.claimed_until = renew_until
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), max(until - loop.time(), 0.0))
        if self._stopping:
            blocked = self.bot.clock.now() + timedelta(seconds=max(until - loop.time(), 0.0))
            await self.writer.write(partial(queries.release_lane, lane_id=lane.id, owner=self.owner,
                                            blocked_until=blocked))
            return _BLOCKED
        return replace(row, attempts=row.attempts + 1, posted=list(delivery.posted))

    def _gate(self, platform: str) -> asyncio.Semaphore:
        gate = self._gates.get(platform)
        if gate is None:
            gate = self._gates[platform] = asyncio.Semaphore(self.calls_per_platform)
        return gate

    def _backoff(self, attempt: int) -> float:
        seconds = min(self.max_backoff.total_seconds(), self.backoff.total_seconds() * 2 ** (attempt - 1))
        return seconds * random.uniform(0.8, 1.2)

    async def _before_call(self, lane: _Lane) -> None:
        """Keep the lease (renewed when half of it is gone) and wait for the destination's pace."""
        now = self.bot.clock.now()
        if lane.claimed_until - now < self.lease / 2:
            until = now + self.lease
            renewed = await self.writer.write(partial(queries.renew_lane, lane_id=lane.id, owner=self.owner,
                                                      until=until))
            if not renewed:
                raise LaneLost(str(lane.key))
            lane.claimed_until = until
        await self._bucket(lane).take()

    def _bucket(self, lane: _Lane) -> TokenBucket:
        bucket = self._buckets.get(lane.id)
        if bucket is None:
            adapter = self.bot.adapters.get(lane.key.platform)
            rate = adapter.post_rate_per_second if adapter else 1.0
            burst = adapter.post_burst if adapter else 1
            bucket = self._buckets[lane.id] = TokenBucket(rate, burst)
        return bucket

    def _wake_job(self, at: datetime | None = None) -> None:
        """Have the job wake by `at` (a retry's time); one plan for many retries due together."""
        now = self.bot.clock.now()
        if at is not None and self._planned_wake is not None and now < self._planned_wake <= at:
            return
        self._planned_wake = at
        if any(job.name == JOB_NAME for job in self.bot.scheduler.jobs):
            self.bot.scheduler.wake(JOB_NAME)


_BLOCKED: Any = object()  # the lane waits (retry later): the worker stops
_RELEASED: Any = object()  # no due item was left: the lane was handed back


async def _deliver_notice(delivery: Delivery) -> None:
    if delivery.posted:
        return  # sent by an earlier try; its id was recorded
    await delivery.send_dm(Outgoing(str(delivery.payload.get("text", ""))))


class OutboxJob:
    """Wakes whenever some lane has work due (a retry's time, a scheduled item, a lane left by a
    process that stopped) and starts delivering it."""

    name = JOB_NAME

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def run(self, now: datetime) -> None:
        await self.outbox.pump()

    async def next_due(self, now: datetime) -> datetime | None:
        return await self.outbox.next_due(now)


class OutboxPruneJob:
    """Forgets finished deliveries after a month and event claims after a week."""

    name = "outbox.prune"
    KEEP_ITEMS = timedelta(days=30)
    KEEP_CLAIMS = timedelta(days=7)

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._next: datetime | None = None

    async def run(self, now: datetime) -> None:
        async with self.bot.db.session() as session:
            items = await queries.prune_finished(session, now - self.KEEP_ITEMS)
            claims = await queries.prune_event_claims(session, now - self.KEEP_CLAIMS)
        if items or claims:
            log.info("pruned %d finished deliveries and %d event claims", items, claims)
        self._next = now + timedelta(hours=6)

    async def next_due(self, now: datetime) -> datetime | None:
        return self._next or now
