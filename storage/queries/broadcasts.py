"""Queries on broadcasts and their destinations, and the failed-deliveries report. They take a
session and never commit.

State changes are conditional UPDATEs, so two processes working on the same broadcast never
repeat one: `settle_target` moves a destination out of `pending` once, `confirm` and `finish` move
a broadcast on once (the process whose `finish` succeeds sends the report).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Broadcast, BroadcastCopy, BroadcastTarget, OutboxItem, OutboxLane
from storage.models.broadcasts import (
    CANCELLED,
    CONFIRMED,
    DELIVERED,
    DISCARDED,
    DRAFT,
    FINISHED,
    PENDING,
    TARGET_CANCELLED,
)


def _columns(model: Any) -> Any:
    """A table's columns as SQLAlchemy core columns (SQLModel types its attributes as values)."""
    return model.__table__.c


def _is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def _rows(session: AsyncSession, statement: Any) -> Any:
    """Run a core SELECT of columns (SQLModel's `exec` only types its own `select`)."""
    return await session.exec(statement)


BROADCAST = _columns(Broadcast)
COPY = _columns(BroadcastCopy)
TARGET = _columns(BroadcastTarget)
ITEM = _columns(OutboxItem)
LANE = _columns(OutboxLane)


# ---- broadcasts ---------------------------------------------------------------------------------


async def add_broadcast(session: AsyncSession, broadcast: Broadcast, targets: Sequence[BroadcastTarget]) -> int:
    """Store a preview and its destinations; returns its id."""
    session.add(broadcast)
    await session.flush()
    assert broadcast.id is not None
    for target in targets:
        target.broadcast_id = broadcast.id
        session.add(target)
    await session.flush()
    return broadcast.id


async def get_broadcast(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id)


async def targets_of(session: AsyncSession, broadcast_id: int) -> list[BroadcastTarget]:
    result = await session.exec(select_model(BroadcastTarget).where(BroadcastTarget.broadcast_id == broadcast_id)
                                .order_by(col(BroadcastTarget.id)))
    return list(result)


async def target_at(session: AsyncSession, broadcast_id: int, platform: str, workspace: str,
                    address: str) -> BroadcastTarget | None:
    result = await session.exec(select_model(BroadcastTarget).where(
        BroadcastTarget.broadcast_id == broadcast_id, BroadcastTarget.platform == platform,
        BroadcastTarget.workspace == workspace, BroadcastTarget.address == address))
    return result.first()


async def confirm(session: AsyncSession, broadcast_id: int, *, person_id: int, now: datetime,
                  send_at: datetime) -> bool:
    """draft → confirmed, once: a second press (or a second process) gets False."""
    result = await session.exec(
        update(Broadcast).where(BROADCAST.id == broadcast_id, BROADCAST.state == DRAFT)
        .values(state=CONFIRMED, confirmed_at=now, confirmed_by_id=person_id, send_at=send_at)
        .returning(BROADCAST.id))
    return result.first() is not None


async def discard(session: AsyncSession, broadcast_id: int) -> bool:
    result = await session.exec(update(Broadcast).where(BROADCAST.id == broadcast_id, BROADCAST.state == DRAFT)
                                .values(state=DISCARDED).returning(BROADCAST.id))
    return result.first() is not None


async def cancel(session: AsyncSession, broadcast_id: int, *, person_id: int, now: datetime) -> int | None:
    """Stop a confirmed broadcast: every destination still pending is cancelled. Returns how many,
    or None when it was not confirmed (finished, cancelled already)."""
    result = await session.exec(
        update(Broadcast).where(BROADCAST.id == broadcast_id, BROADCAST.state == CONFIRMED)
        .values(state=CANCELLED, cancelled_at=now, cancelled_by_id=person_id)
        .returning(BROADCAST.id))
    if result.first() is None:
        return None
    await mark_delivered(session, broadcast_id, now)
    targets = await session.exec(
        update(BroadcastTarget).where(TARGET.broadcast_id == broadcast_id, TARGET.state == PENDING)
        .values(state=TARGET_CANCELLED, finished_at=now).returning(TARGET.id))
    return len(targets.all())


async def set_text(session: AsyncSession, broadcast_id: int, text: str, *, now: datetime) -> int:
    """A new text (a new version); returns the version."""
    result = await session.exec(
        update(Broadcast).where(BROADCAST.id == broadcast_id)
        .values(text=text, version=BROADCAST.version + 1, edited_at=now).returning(BROADCAST.version))
    return int(result.one()[0])


async def recent(session: AsyncSession, limit: int = 10) -> list[Broadcast]:
    """The latest broadcasts that were confirmed (previews are not listed)."""
    result = await session.exec(select_model(Broadcast).where(col(Broadcast.state).not_in((DRAFT, DISCARDED)))
                                .order_by(col(Broadcast.id).desc()).limit(limit))
    return list(result)


# ---- destinations and their copies -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A destination as the sender is told about it: its state (`delivered` as soon as its final
    part is recorded), the ids of its posted parts in order, and the oldest version among them."""

    target: BroadcastTarget
    state: str
    parts: list[str]
    version: int
    copies: list[BroadcastCopy]


def _awaiting_final() -> Any:
    """A pending destination whose final part is not recorded."""
    final = select(COPY.id).where(COPY.target_id == TARGET.id, COPY.final.is_(True)).exists()
    return and_(TARGET.state == PENDING, ~final)


async def outcomes(session: AsyncSession, broadcast_id: int) -> list[Outcome]:
    targets = await targets_of(session, broadcast_id)
    result = await session.exec(select_model(BroadcastCopy).where(BroadcastCopy.broadcast_id == broadcast_id)
                                .order_by(col(BroadcastCopy.target_id), col(BroadcastCopy.part)))
    copies: dict[int, list[BroadcastCopy]] = {}
    for copy in result:
        copies.setdefault(copy.target_id, []).append(copy)
    found = []
    for target in targets:
        mine = copies.get(target.id or 0, [])
        state = target.state
        if any(copy.final for copy in mine) and state in (PENDING, TARGET_CANCELLED):
            state = DELIVERED
        found.append(Outcome(target, state, [copy.message_id for copy in mine],
                             min((copy.version for copy in mine), default=0), mine))
    return found


async def copies_of(session: AsyncSession, target_id: int) -> list[BroadcastCopy]:
    result = await session.exec(select_model(BroadcastCopy).where(BroadcastCopy.target_id == target_id)
                                .order_by(col(BroadcastCopy.part)))
    return list(result)


def copy_row(target: BroadcastTarget, part: int, message_id: str, version: int, *, final: bool,
             now: datetime) -> dict[str, Any]:
    return {"broadcast_id": target.broadcast_id, "target_id": target.id, "part": part, "message_id": message_id,
            "version": version, "final": final, "created_at": now}


async def add_copies(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        statement = (pg_insert(BroadcastCopy) if _is_postgres(session) else sqlite_insert(BroadcastCopy))
        await session.exec(statement.on_conflict_do_nothing(index_elements=["target_id", "part"]),
                           params=list(rows))


async def set_copy_version(session: AsyncSession, copy_id: int, version: int) -> None:
    await session.exec(update(BroadcastCopy).where(COPY.id == copy_id).values(version=version))


async def delete_copy(session: AsyncSession, copy_id: int) -> None:
    await session.exec(delete(BroadcastCopy).where(COPY.id == copy_id))


async def set_reason(session: AsyncSession, target_id: int, reason: str | None) -> None:
    await session.exec(update(BroadcastTarget).where(TARGET.id == target_id)
                       .values(reason=reason[:500] if reason else None))


async def settle_target(session: AsyncSession, target_id: int, state: str, *, now: datetime,
                        reason: str | None = None) -> bool:
    """Give a pending destination its outcome (failed, skipped). False when it had one already: a
    destination is settled once, whoever tries."""
    settled = await session.exec(
        update(BroadcastTarget).where(TARGET.id == target_id, TARGET.state == PENDING)
        .values(state=state, reason=reason[:500] if reason else None, finished_at=now).returning(TARGET.id))
    return settled.first() is not None


async def has_pending(session: AsyncSession, broadcast_id: int) -> bool:
    """Whether some destination still has no outcome."""
    result = await _rows(session, select(TARGET.id).where(TARGET.broadcast_id == broadcast_id, _awaiting_final())
                         .limit(1))
    return result.first() is not None


async def done_but_unfinished(session: AsyncSession, limit: int = 20) -> list[int]:
    """Confirmed broadcasts that have no destination left pending: they owe their sender the report."""
    pending = select(TARGET.id).where(TARGET.broadcast_id == BROADCAST.id, _awaiting_final()).exists()
    result = await _rows(session, select(BROADCAST.id).where(BROADCAST.state == CONFIRMED, ~pending)
                         .order_by(BROADCAST.id).limit(limit))
    return [row[0] for row in result]


async def finish(session: AsyncSession, broadcast_id: int, now: datetime) -> bool:
    """confirmed → finished, once; the destinations whose final part is recorded become delivered
    (a copy that went out while the broadcast was being cancelled was delivered all the same)."""
    result = await session.exec(update(Broadcast).where(BROADCAST.id == broadcast_id, BROADCAST.state == CONFIRMED)
                                .values(state=FINISHED, finished_at=now).returning(BROADCAST.id))
    if result.first() is None:
        return False
    await mark_delivered(session, broadcast_id, now)
    return True


async def mark_delivered(session: AsyncSession, broadcast_id: int, now: datetime) -> None:
    final = select(COPY.id).where(COPY.target_id == TARGET.id, COPY.final.is_(True)).exists()
    await session.exec(update(BroadcastTarget).where(
        TARGET.broadcast_id == broadcast_id, TARGET.state.in_((PENDING, TARGET_CANCELLED)), final)
        .values(state=DELIVERED, finished_at=now))


# ---- the failure report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailedDelivery:
    """Deliveries of one kind to one destination that failed for good for the same reason."""

    kind: str
    platform: str
    workspace: str
    target: str
    reason: str
    count: int
    last: datetime
    references: tuple[str, ...]


async def failed_deliveries(session: AsyncSession, since: datetime, *, limit: int = 50) -> list[FailedDelivery]:
    """Outbox deliveries given up on since `since`, grouped by kind, destination and reason, the
    most recent first."""
    result = await _rows(session,
        select(ITEM.kind, LANE.platform, LANE.workspace, LANE.target, ITEM.last_error, ITEM.finished_at,
               ITEM.reference)
        .join(OutboxLane, LANE.id == ITEM.lane_id)
        .where(ITEM.state == "failed", ITEM.finished_at >= since)
        .order_by(ITEM.finished_at.desc()))
    groups: dict[tuple[str, str, str, str, str], list[tuple[datetime, str]]] = {}
    for kind, platform, workspace, target, error, finished_at, reference in result:
        groups.setdefault((kind, platform, workspace, target, error or ""), []).append((finished_at, reference))
    failures = [FailedDelivery(kind, platform, workspace, target, reason, len(rows), max(at for at, _ in rows),
                               tuple(dict.fromkeys(reference for _, reference in rows)))
                for (kind, platform, workspace, target, reason), rows in groups.items()]
    failures.sort(key=lambda failure: failure.last, reverse=True)
    return failures[:limit]


async def count_failed_deliveries(session: AsyncSession, since: datetime) -> int:
    result = await _rows(session, select(func.count()).select_from(OutboxItem)
                                .where(ITEM.state == "failed", ITEM.finished_at >= since))
    return int(result.one()[0])
