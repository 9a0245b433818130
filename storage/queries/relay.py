"""Queries on event claims, the outbox and relayed messages. They take a session and never commit.

The outbox statements are written so that two processes on PostgreSQL can share the work: a
lane is taken with a conditional UPDATE (after `FOR UPDATE SKIP LOCKED` on PostgreSQL), so it
has one holder at a time, and only its holder delivers its items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, insert, literal_column, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Channel, EventClaim, OutboxItem, OutboxLane, Person, RelayCopy, RelayMessage, RoleGrant

PENDING, DONE, FAILED, CANCELLED = "pending", "done", "failed", "cancelled"


def _columns(model: Any) -> Any:
    """A table's columns, typed as SQLAlchemy core columns (SQLModel's attributes type as values)."""
    return model.__table__.c


ITEM = _columns(OutboxItem)
LANE = _columns(OutboxLane)
COPY = _columns(RelayCopy)
MESSAGE = _columns(RelayMessage)
CHANNEL = _columns(Channel)
PERSON = _columns(Person)
GRANT = _columns(RoleGrant)
CLAIM = _columns(EventClaim)


def _insert(session: AsyncSession, table: Any) -> Any:
    """INSERT that can say ON CONFLICT DO NOTHING on both databases."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


async def _rows(session: AsyncSession, statement: Any) -> Any:
    """Run a core SELECT of columns (SQLModel's `exec` only types its own `select`)."""
    return await session.exec(statement)


def _is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


# ---- once-only events ------------------------------------------------------------------------


async def claim_event(session: AsyncSession, platform: str, event_id: str, *, now: datetime,
                      scope: str = "") -> bool:
    """True the first time (platform, scope, event_id) is claimed, False ever after (until pruned).
    Safe under concurrency: the unique key decides, and a claim rolled back with its transaction
    was never made."""
    statement = _insert(session, EventClaim).values(
        platform=platform, scope=scope, event_id=event_id[:160], claimed_at=now,
    ).on_conflict_do_nothing(index_elements=["platform", "scope", "event_id"]).returning(CLAIM.id)
    # RETURNING, not rowcount: the async PostgreSQL driver reports -1 for this statement.
    return (await session.exec(statement)).first() is not None


async def prune_event_claims(session: AsyncSession, before: datetime) -> int:
    result = await session.exec(delete(EventClaim).where(CLAIM.claimed_at < before).returning(CLAIM.id))
    return len(result.all())


# ---- outbox: lanes and items ---------------------------------------------------------------------


@dataclass(frozen=True)
class LaneKey:
    platform: str
    workspace: str
    target: str


@dataclass(frozen=True)
class ItemRow:
    """An outbox item as a delivery worker needs it."""

    id: int
    lane_id: int
    kind: str
    reference: str
    payload: dict[str, Any]
    attempts: int
    posted: list[str]
    created_at: datetime


_ITEM_COLUMNS = (ITEM.id, ITEM.lane_id, ITEM.kind, ITEM.reference, ITEM.payload,
                 ITEM.attempts, ITEM.posted, ITEM.created_at)


def _item(row: Any) -> ItemRow:
    return ItemRow(row[0], row[1], row[2], row[3], dict(row[4] or {}), row[5], list(row[6] or []), row[7])


async def lane_ids(session: AsyncSession, keys: Iterable[LaneKey]) -> dict[LaneKey, int]:
    """The lanes of these destinations, created when new (in the order given: lanes are taken up
    in the order of their ids, so the first destinations get going first)."""
    ordered = list(dict.fromkeys(keys))
    wanted = set(ordered)
    if not wanted:
        return {}
    found = await _find_lanes(session, wanted)
    missing = [key for key in ordered if key not in found]
    if missing:
        statement = _insert(session, OutboxLane).values(
            [{"platform": k.platform, "workspace": k.workspace, "target": k.target} for k in missing]
        ).on_conflict_do_nothing(index_elements=["platform", "workspace", "target"])
        await session.exec(statement)
        found.update(await _find_lanes(session, set(missing)))
    return found


async def _find_lanes(session: AsyncSession, keys: set[LaneKey]) -> dict[LaneKey, int]:
    columns = (LANE.platform, LANE.workspace, LANE.target)
    result = await _rows(session,
        select(LANE.id, *columns).where(
            tuple_(*columns).in_([(k.platform, k.workspace, k.target) for k in keys])))
    return {LaneKey(row[1], row[2], row[3]): row[0] for row in result}


async def lane_key(session: AsyncSession, lane_id: int) -> LaneKey | None:
    lane = await session.get(OutboxLane, lane_id)
    return LaneKey(lane.platform, lane.workspace, lane.target) if lane else None


async def add_items(session: AsyncSession, rows: Sequence[dict[str, Any]], *, ids: bool = True) -> list[int]:
    """Insert outbox items (dicts of OutboxItem columns); their ids in the same order, when asked
    (without them it is one statement: SQLite returns ordered ids only row by row)."""
    if not rows:
        return []
    if not ids:
        await session.exec(insert(OutboxItem), params=list(rows))
        return []
    result = await session.exec(insert(OutboxItem).returning(ITEM.id, sort_by_parameter_order=True),
                                params=list(rows))
    return [row[0] for row in result]


# Written out (not a bound parameter) so that SQLite sees the partial index's own condition.
IS_PENDING = ITEM.state == literal_column("'pending'")


def _due_items(now: datetime) -> Any:
    return and_(IS_PENDING, ITEM.not_before <= now)


def _lane_free(owner: str, now: datetime) -> Any:
    return or_(LANE.claimed_by.is_(None), LANE.claimed_until <= now,
               LANE.claimed_by == owner)


async def claim_lanes(session: AsyncSession, *, owner: str, now: datetime, lease: timedelta,
                      platforms: Sequence[str], only: Sequence[int] | None = None,
                      exclude: Iterable[int] = (), limit: int = 200,
                      taken_over: set[int] | None = None) -> dict[int, ItemRow | None]:
    """Take the lease of lanes that have an item due now and nobody else delivering, and return
    each lane taken with its first due item. `only` restricts the candidates (the lanes just
    written to); `exclude` are lanes this process is delivering already. Lanes whose lease was
    another process's (it ran out) are added to `taken_over`."""
    if not platforms:
        return {}
    has_due = exists().where(ITEM.lane_id == LANE.id, _due_items(now))
    candidates = select(LANE.id, LANE.claimed_by).where(
        LANE.platform.in_(list(platforms)), _lane_free(owner, now),
        or_(LANE.blocked_until.is_(None), LANE.blocked_until <= now), has_due,
    ).order_by(LANE.id).limit(limit)
    if only is not None:
        candidates = candidates.where(LANE.id.in_(list(only)))
    skip = list(exclude)
    if skip:
        candidates = candidates.where(LANE.id.not_in(skip))
    if _is_postgres(session):
        # Lanes another process is claiming right now are skipped, not waited for.
        candidates = candidates.with_for_update(skip_locked=True, of=LANE.id.table)
    found = list(await _rows(session, candidates))
    ids = [row[0] for row in found]
    if not ids:
        return {}
    previous = {row[0]: row[1] for row in found}
    claimed = await session.exec(
        update(OutboxLane).where(LANE.id.in_(ids), _lane_free(owner, now))
        .values(claimed_by=owner, claimed_until=now + lease).returning(LANE.id))
    taken = [row[0] for row in claimed]
    if taken_over is not None:
        taken_over.update(lane_id for lane_id in taken if previous.get(lane_id) not in (None, owner))
    firsts = await first_due_items(session, taken, now)
    return {lane_id: firsts.get(lane_id) for lane_id in taken}


async def first_due_items(session: AsyncSession, lanes: Sequence[int], now: datetime) -> dict[int, ItemRow]:
    if not lanes:
        return {}
    first = select(func.min(ITEM.id)).where(ITEM.lane_id.in_(list(lanes)), _due_items(now)) \
        .group_by(ITEM.lane_id)
    result = await _rows(session, select(*_ITEM_COLUMNS).where(ITEM.id.in_(first.scalar_subquery())))
    return {item.lane_id: item for item in map(_item, result)}


async def next_due_item(session: AsyncSession, lane_id: int, now: datetime) -> ItemRow | None:
    result = await _rows(session, select(*_ITEM_COLUMNS).where(ITEM.lane_id == lane_id, _due_items(now))
                                   .order_by(ITEM.id).limit(1))
    row = result.first()
    return _item(row) if row else None


async def renew_lane(session: AsyncSession, lane_id: int, *, owner: str, until: datetime) -> bool:
    result = await session.exec(update(OutboxLane).where(LANE.id == lane_id, LANE.claimed_by == owner)
                                .values(claimed_until=until).returning(LANE.id))
    return result.first() is not None


async def release_lane(session: AsyncSession, lane_id: int, *, owner: str,
                       blocked_until: datetime | None = None) -> None:
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
    if blocked_until is not None:
        values["blocked_until"] = blocked_until
    await session.exec(update(OutboxLane).where(LANE.id == lane_id, LANE.claimed_by == owner)
                          .values(**values))


async def release_all(session: AsyncSession, owner: str, lanes: Sequence[int]) -> None:
    if lanes:
        await session.exec(update(OutboxLane).where(LANE.id.in_(list(lanes)),
                                                       LANE.claimed_by == owner)
                              .values(claimed_by=None, claimed_until=None))


async def record_posted(session: AsyncSession, item_id: int, posted: Sequence[str]) -> None:
    await session.exec(update(OutboxItem).where(ITEM.id == item_id).values(posted=list(posted)))


@dataclass(frozen=True)
class Finished:
    """An item's end, as written by `finish_items`."""

    item_id: int
    lane_id: int
    state: str
    posted: list[str]
    error: str | None = None


async def finish_items(session: AsyncSession, finished: Sequence[Finished], *, owner: str,
                       now: datetime) -> dict[int, ItemRow | None]:
    """Record several items' ends at once (one statement each kind, whatever their number) and
    return each lane's next due item; a lane left with none is handed back in the same go."""
    if not finished:
        return {}
    table = ITEM.id.table
    await session.exec(update(table).where(table.c.id == bindparam("b_id")).values(
        state=bindparam("b_state"), finished_at=bindparam("b_at"), posted=bindparam("b_posted"),
        last_error=bindparam("b_error")), params=[
            {"b_id": f.item_id, "b_state": f.state, "b_at": now, "b_posted": list(f.posted),
             "b_error": f.error[:500] if f.error else None} for f in finished])
    lanes = [f.lane_id for f in finished]
    following = await first_due_items(session, lanes, now)
    empty = [lane_id for lane_id in lanes if lane_id not in following]
    if empty:
        await session.exec(update(OutboxLane).where(LANE.id.in_(empty), LANE.claimed_by == owner)
                           .values(claimed_by=None, claimed_until=None))
    return {lane_id: following.get(lane_id) for lane_id in lanes}


async def insert_rows(session: AsyncSession, model: Any, rows: Sequence[dict[str, Any]],
                      unique: Sequence[str] = ()) -> None:
    """Insert rows of one table in one statement; with `unique`, rows already there are skipped."""
    if not rows:
        return
    statement = _insert(session, model)
    if unique:
        statement = statement.on_conflict_do_nothing(index_elements=list(unique))
    await session.exec(statement, params=list(rows))


async def finish_item(session: AsyncSession, item_id: int, *, state: str, now: datetime,
                      error: str | None = None) -> None:
    await session.exec(update(OutboxItem).where(ITEM.id == item_id).values(
        state=state, finished_at=now, last_error=error[:500] if error else None))


async def retry_item(session: AsyncSession, item_id: int, *, error: str) -> None:
    await session.exec(update(OutboxItem).where(ITEM.id == item_id).values(
        attempts=ITEM.attempts + 1, last_error=error[:500]))


async def lanes_with_work(session: AsyncSession, platforms: Sequence[str], now: datetime) -> list[LaneWork]:
    """Every lane with pending items on these platforms, with what holds it back."""
    if not platforms:
        return []
    result = await _rows(session,
        select(LANE.id, LANE.claimed_by, LANE.claimed_until, LANE.blocked_until,
               func.min(ITEM.not_before))
        .join(OutboxItem, ITEM.lane_id == LANE.id)
        .where(LANE.platform.in_(platforms), IS_PENDING)
        .group_by(LANE.id, LANE.claimed_by, LANE.claimed_until, LANE.blocked_until))
    return [LaneWork(*row) for row in result]


@dataclass(frozen=True)
class LaneWork:
    lane_id: int
    claimed_by: str | None
    claimed_until: datetime | None
    blocked_until: datetime | None
    earliest: datetime

    def due(self, owner: str) -> datetime:
        """When a process could start on this lane: its first item's time, after any block and any
        other process's lease."""
        moments = [self.earliest]
        if self.blocked_until is not None:
            moments.append(self.blocked_until)
        if self.claimed_by is not None and self.claimed_by != owner and self.claimed_until is not None:
            moments.append(self.claimed_until)
        return max(moments)


async def cancel_items(session: AsyncSession, reference: str, now: datetime) -> int:
    result = await session.exec(update(OutboxItem).where(ITEM.reference == reference, ITEM.state == PENDING)
                                .values(state=CANCELLED, finished_at=now).returning(ITEM.id))
    return len(result.all())


async def item_states(session: AsyncSession, reference: str) -> list[tuple[Any, ...]]:
    """(item id, platform, workspace, target, state, attempts, last error, posted ids) for a reference."""
    result = await _rows(session,
        select(ITEM.id, LANE.platform, LANE.workspace, LANE.target, ITEM.state,
               ITEM.attempts, ITEM.last_error, ITEM.posted)
        .join(OutboxLane, LANE.id == ITEM.lane_id)
        .where(ITEM.reference == reference).order_by(ITEM.id))
    return [tuple(row) for row in result]


async def reported_since(session: AsyncSession, reference: str, since: datetime) -> bool:
    result = await _rows(session, select(ITEM.id).where(ITEM.reference == reference,
                                                               ITEM.created_at >= since).limit(1))
    return result.first() is not None


async def prune_finished(session: AsyncSession, before: datetime) -> int:
    result = await session.exec(delete(OutboxItem).where(ITEM.state.in_((DONE, CANCELLED)),
                                                         ITEM.finished_at < before).returning(ITEM.id))
    return len(result.all())


# ---- relayed messages and their copies -------------------------------------------------------------


async def add_relay_message(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Store a source message; None when it is stored already (a replayed event)."""
    statement = _insert(session, RelayMessage).values(**values).on_conflict_do_nothing(
        index_elements=["platform", "workspace", "channel_id", "message_id"]).returning(MESSAGE.id)
    row = (await session.exec(statement)).first()
    return int(row[0]) if row else None


async def relay_message_at(session: AsyncSession, platform: str, workspace: str, channel_id: str,
                           message_id: str) -> RelayMessage | None:
    result = await session.exec(select_model(RelayMessage).where(
        MESSAGE.platform == platform, MESSAGE.workspace == workspace,
        MESSAGE.channel_id == channel_id, MESSAGE.message_id == message_id))
    return result.first()


async def copy_at(session: AsyncSession, platform: str, workspace: str, channel_id: str,
                  message_id: str) -> RelayCopy | None:
    result = await session.exec(select_model(RelayCopy).where(
        COPY.platform == platform, COPY.workspace == workspace,
        COPY.channel_id == channel_id, COPY.message_id == message_id))
    return result.first()


async def copies_in(session: AsyncSession, relay_message_id: int, platform: str, workspace: str,
                    channel_id: str) -> list[RelayCopy]:
    """The live parts of a message's copy in one channel, in order."""
    result = await session.exec(select_model(RelayCopy).where(
        COPY.relay_message_id == relay_message_id, COPY.platform == platform,
        COPY.workspace == workspace, COPY.channel_id == channel_id,
        COPY.deleted.is_(False)).order_by(COPY.part))
    return list(result)


async def add_copy(session: AsyncSession, values: dict[str, Any]) -> None:
    statement = _insert(session, RelayCopy).values(**values).on_conflict_do_nothing(
        index_elements=["platform", "workspace", "channel_id", "message_id"])
    await session.exec(statement)


async def set_copy_version(session: AsyncSession, copy_id: int, version: int) -> None:
    await session.exec(update(RelayCopy).where(COPY.id == copy_id).values(version=version))


async def mark_copy_deleted(session: AsyncSession, copy_id: int) -> None:
    await session.exec(update(RelayCopy).where(COPY.id == copy_id).values(deleted=True))


async def linked_channels(session: AsyncSession, group_id: int) -> list[Channel]:
    result = await session.exec(select_model(Channel).where(CHANNEL.group_id == group_id).order_by(CHANNEL.id))
    return list(result)


async def destination_channels(session: AsyncSession, keys: Iterable[tuple[str, str, str]]) -> dict[
        tuple[str, str, str], Channel]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    columns = (CHANNEL.platform, CHANNEL.workspace, CHANNEL.channel_id)
    result = await session.exec(select_model(Channel).where(tuple_(*columns).in_(wanted)))
    return {(c.platform, c.workspace, c.channel_id): c for c in result}


async def group_leads(session: AsyncSession, group_id: int) -> list[Person]:
    result = await session.exec(select_model(Person).join(RoleGrant, GRANT.person_id == PERSON.id)
                                   .where(GRANT.role == "group-lead", GRANT.group_id == group_id))
    return list(result)


async def people_with_ids(session: AsyncSession, identities: Iterable[tuple[str, str]]) -> list[Person]:
    """People by (platform, user id), in any workspace (the ICC_ADMINS setting names them so)."""
    wanted = list(set(identities))
    if not wanted:
        return []
    result = await session.exec(select_model(Person).where(tuple_(PERSON.platform, PERSON.user_id).in_(wanted)))
    return list(result)


async def copy_channels(session: AsyncSession, relay_message_id: int) -> list[tuple[str, str, str]]:
    """Channels holding a live part of this message's copy."""
    result = await _rows(session,
        select(COPY.platform, COPY.workspace, COPY.channel_id).distinct()
        .where(COPY.relay_message_id == relay_message_id, COPY.deleted.is_(False)))
    return [(row[0], row[1], row[2]) for row in result]


async def lanes_of(session: AsyncSession, reference: str) -> list[LaneKey]:
    """Destinations with an item for `reference` that was not given up on."""
    result = await _rows(session,
        select(LANE.platform, LANE.workspace, LANE.target).distinct()
        .join(OutboxItem, ITEM.lane_id == LANE.id)
        .where(ITEM.reference == reference, ITEM.state.in_((PENDING, DONE))))
    return [LaneKey(row[0], row[1], row[2]) for row in result]


@dataclass(frozen=True)
class MessageContext:
    """What the relay needs to know about a new message, in one query."""

    channels: list[Channel]
    """Every channel of the source channel's group, the source included (none: not linked)."""
    is_copy: bool
    """The message is one of our own copies."""
    is_stored: bool
    """The message was relayed already (a replayed event)."""


async def message_context(session: AsyncSession, platform: str, workspace: str, channel_id: str,
                          message_id: str) -> MessageContext:
    group = select(CHANNEL.group_id).where(CHANNEL.platform == platform, CHANNEL.workspace == workspace,
                                           CHANNEL.channel_id == channel_id).scalar_subquery()
    is_copy = exists().where(COPY.platform == platform, COPY.workspace == workspace, COPY.channel_id == channel_id,
                             COPY.message_id == message_id)
    is_stored = exists().where(MESSAGE.platform == platform, MESSAGE.workspace == workspace,
                               MESSAGE.channel_id == channel_id, MESSAGE.message_id == message_id)
    rows = (await _rows(session, select(Channel, is_copy.label("is_copy"), is_stored.label("is_stored"))
                        .where(CHANNEL.group_id == group).order_by(CHANNEL.id))).all()
    return MessageContext([row[0] for row in rows], bool(rows and rows[0][1]), bool(rows and rows[0][2]))


async def claim_events(session: AsyncSession, events: Sequence[tuple[str, str, str]], *,
                       now: datetime) -> set[tuple[str, str, str]]:
    """`claim_event` for several (platform, scope, event id) at once: the ones claimed now."""
    if not events:
        return set()
    statement = _insert(session, EventClaim).values(
        [{"platform": p, "scope": scope, "event_id": e[:160], "claimed_at": now} for p, scope, e in events]
    ).on_conflict_do_nothing(index_elements=["platform", "scope", "event_id"]).returning(
        CLAIM.platform, CLAIM.scope, CLAIM.event_id)
    return {(row[0], row[1], row[2]) for row in await session.exec(statement)}


async def add_relay_messages(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str, str],
                                                                                           int]:
    """`add_relay_message` for several at once: (platform, workspace, channel, message) → id of
    each one stored now (those stored before are left out)."""
    if not rows:
        return {}
    statement = _insert(session, RelayMessage).values(list(rows)).on_conflict_do_nothing(
        index_elements=["platform", "workspace", "channel_id", "message_id"]).returning(
        MESSAGE.id, MESSAGE.platform, MESSAGE.workspace, MESSAGE.channel_id, MESSAGE.message_id)
    return {(row[1], row[2], row[3], row[4]): int(row[0]) for row in await session.exec(statement)}
