"""Queries on deadlines, their audiences, reminders and notices.

Claiming (`claim`) is how workers share the sending: on PostgreSQL the due rows are selected
`FOR UPDATE SKIP LOCKED` (two workers never wait on, or take, the same row), then leased with a
token; on SQLite (one process) the same statement runs without the lock clause. Every claim and
every outcome is conditional on the row still being claimable / still held, so even a lost lease
cannot make two workers both believe they own a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, insert, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import City, Deadline, DeadlineCity, Network, Notice, NoticeBatch, Person, Reminder

Claimable = TypeVar("Claimable", Reminder, Notice)

PENDING = "pending"

# ---- deadlines ------------------------------------------------------------------------------


async def get_deadline(session: AsyncSession, deadline_id: int) -> Deadline | None:
    return await session.get(Deadline, deadline_id)


async def list_deadlines(session: AsyncSession, *, due_since: date | None = None,
                         include_cancelled: bool = False, city_id: int | None = None) -> list[Deadline]:
    query = select(Deadline).order_by(col(Deadline.due_date), col(Deadline.id))
    if due_since is not None:
        query = query.where(Deadline.due_date >= due_since)
    if not include_cancelled:
        query = query.where(Deadline.state == "open")
    if city_id is not None:
        query = query.join(DeadlineCity, col(DeadlineCity.deadline_id) == Deadline.id).where(
            DeadlineCity.city_id == city_id)
    return list(await session.exec(query))


async def successor_of(session: AsyncSession, deadline_id: int) -> Deadline | None:
    result = await session.exec(select(Deadline).where(Deadline.previous_id == deadline_id))
    return result.first()


async def recurring_without_successor(session: AsyncSession) -> list[Deadline]:
    """Open recurring occurrences whose next one does not exist yet, earliest due first."""
    nexts = select(Deadline.previous_id).where(col(Deadline.previous_id).is_not(None))
    result = await session.exec(select(Deadline).where(
        col(Deadline.repeat).is_not(None), Deadline.state == "open", col(Deadline.id).not_in(nexts))
        .order_by(col(Deadline.due_date)))
    return list(result)


async def earliest_recurring(session: AsyncSession) -> Deadline | None:
    """The open recurring occurrence without a successor that is due first."""
    nexts = select(Deadline.previous_id).where(col(Deadline.previous_id).is_not(None))
    result = await session.exec(select(Deadline).where(
        col(Deadline.repeat).is_not(None), Deadline.state == "open", col(Deadline.id).not_in(nexts))
        .order_by(col(Deadline.due_date)).limit(1))
    return result.first()


# ---- audiences ----------------------------------------------------------------------------------


async def audience_of(session: AsyncSession, deadline_id: int) -> list[DeadlineCity]:
    result = await session.exec(select(DeadlineCity).where(DeadlineCity.deadline_id == deadline_id))
    return list(result)


async def audience_entry(session: AsyncSession, deadline_id: int, city_id: int) -> DeadlineCity | None:
    return await session.get(DeadlineCity, (deadline_id, city_id))


async def answer_counts(session: AsyncSession, deadline_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """deadline id → (cities that answered, cities asked)."""
    if not deadline_ids:
        return {}
    result = await session.exec(
        select(DeadlineCity.deadline_id, func.count(col(DeadlineCity.done_at)), func.count())
        .where(col(DeadlineCity.deadline_id).in_(deadline_ids)).group_by(col(DeadlineCity.deadline_id)))
    return {deadline_id: (done, total) for deadline_id, done, total in result}


async def entries_of_city(session: AsyncSession, city_id: int, deadline_ids: Sequence[int]) -> dict[int, DeadlineCity]:
    if not deadline_ids:
        return {}
    result = await session.exec(select(DeadlineCity).where(
        DeadlineCity.city_id == city_id, col(DeadlineCity.deadline_id).in_(deadline_ids)))
    return {entry.deadline_id: entry for entry in result}


# ---- reminders ----------------------------------------------------------------------------------


async def insert_reminders(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.exec(insert(Reminder), params=rows)


async def reminders_of(session: AsyncSession, deadline_id: int, city_id: int | None = None) -> list[Reminder]:
    query = select(Reminder).where(Reminder.deadline_id == deadline_id)
    if city_id is not None:
        query = query.where(Reminder.city_id == city_id)
    return list(await session.exec(query.order_by(col(Reminder.round), col(Reminder.city_id),
                                                  col(Reminder.step))))


async def drop_pending(session: AsyncSession, deadline_id: int, note: str, *, city_id: int | None = None,
                       before_round: int | None = None) -> int:
    """Pending reminders of a deadline (one city's, or an old round's) will never go out."""
    conditions = [col(Reminder.deadline_id) == deadline_id, col(Reminder.state) == PENDING]
    if city_id is not None:
        conditions.append(col(Reminder.city_id) == city_id)
    if before_round is not None:
        conditions.append(col(Reminder.round) < before_round)
    result = await session.exec(update(Reminder).where(*conditions).values(state="dropped", note=note))
    return int(result.rowcount or 0)


async def postpone_pending(session: AsyncSession, deadline_id: int, city_id: int, until: datetime) -> int:
    """Pending reminders of one city that would come before `until` wait for it."""
    result = await session.exec(update(Reminder).where(
        col(Reminder.deadline_id) == deadline_id, col(Reminder.city_id) == city_id, col(Reminder.state) == PENDING,
        col(Reminder.due_at) < until).values(due_at=until))
    return int(result.rowcount or 0)


async def pending_of(session: AsyncSession, deadline_id: int, city_id: int) -> list[Reminder]:
    result = await session.exec(select(Reminder).where(
        Reminder.deadline_id == deadline_id, Reminder.city_id == city_id, Reminder.state == PENDING)
        .order_by(col(Reminder.due_at)))
    return list(result)


async def restore_dropped(session: AsyncSession, deadline_id: int, city_id: int, round_: int, note: str,
                          after: datetime) -> list[Reminder]:
    """Reminders dropped for `note` whose planned time is still to come: pending again."""
    result = await session.exec(select(Reminder).where(
        Reminder.deadline_id == deadline_id, Reminder.city_id == city_id, Reminder.round == round_,
        Reminder.state == "dropped", Reminder.note == note, col(Reminder.planned_at) > after))
    rows = list(result)
    for row in rows:
        row.state, row.note, row.due_at = PENDING, "", max(row.due_at, row.planned_at)
        session.add(row)
    return rows


async def latest_planned_steps(session: AsyncSession, keys: Iterable[tuple[int, int, int]],
                               now: datetime) -> dict[tuple[int, int, int], int]:
    """(deadline, city, round) → the latest step planned at or before `now` (dropped rows aside):
    a due reminder with an earlier step has been made pointless by it."""
    wanted = set(keys)
    if not wanted:
        return {}
    deadline_ids = sorted({key[0] for key in wanted})
    city_ids = sorted({key[1] for key in wanted})
    # (deadline_id, city_id) lead the unique index: only these cities' rows are read.
    result = await session.exec(
        select(Reminder.deadline_id, Reminder.city_id, Reminder.round, func.max(Reminder.step))
        .where(col(Reminder.deadline_id).in_(deadline_ids), col(Reminder.city_id).in_(city_ids),
               col(Reminder.planned_at) <= now, Reminder.state != "dropped")
        .group_by(col(Reminder.deadline_id), col(Reminder.city_id), col(Reminder.round)))
    return {(d, c, r): step for d, c, r, step in result if (d, c, r) in wanted}


# ---- claiming, for reminders and notices alike ----------------------------------------------------


def _claimable(model: type[Claimable], now: datetime, wall: datetime) -> list[Any]:
    return [col(model.state) == PENDING, col(model.due_at) <= now,
            or_(col(model.lease_until).is_(None), col(model.lease_until) < wall)]


async def claim(session: AsyncSession, model: type[Claimable], *, now: datetime, wall: datetime,
                lease_until: datetime, token: str, limit: int, where: Sequence[Any] = ()) -> list[Claimable]:
    """Take up to `limit` rows due at `now` that no live worker holds; lease them to `token`
    until `lease_until` (wall clock). Commit promptly: the lock lasts until the transaction ends."""
    due = (select(model.id).where(*_claimable(model, now, wall), *where)
           .order_by(col(model.due_at), col(model.id)).limit(limit)
           .with_for_update(skip_locked=True))
    ids = list(await session.exec(due))
    if not ids:
        return []
    await session.exec(update(model).where(col(model.id).in_(ids), *_claimable(model, now, wall))
                          .values(lease_until=lease_until, claim_token=token, attempts=col(model.attempts) + 1))
    result = await session.exec(select(model).where(col(model.id).in_(ids), model.claim_token == token)
                                .execution_options(populate_existing=True))
    return list(result)


async def finish_many(session: AsyncSession, model: type[Claimable], token: str,
                      outcomes: Sequence[tuple[int, dict[str, Any]]]) -> int:
    """`finish` for many rows that get the same columns, as one executemany statement.
    Returns how many rows this worker still held."""
    if not outcomes:
        return 0
    table = model.__table__  # type: ignore[attr-defined]
    columns = sorted(outcomes[0][1])
    statement = (update(table).where(table.c.id == bindparam("row_id"), table.c.claim_token == token)
                 .values(lease_until=None, claim_token=None, **{name: bindparam(f"new_{name}") for name in columns}))
    params = [{"row_id": row_id, **{f"new_{name}": values[name] for name in columns}} for row_id, values in outcomes]
    result = await session.exec(statement, params=params)
    return int(result.rowcount or 0)


async def next_pending(session: AsyncSession, model: type[Claimable], wall: datetime,
                       where: Sequence[Any] = ()) -> datetime | None:
    """When the earliest pending row not held by a live worker is due (indexed on state, due_at)."""
    result = await session.exec(select(func.min(model.due_at)).where(
        model.state == PENDING, or_(col(model.lease_until).is_(None), col(model.lease_until) < wall), *where))
    return result.first()


# ---- notices ------------------------------------------------------------------------------------


async def batch_exists(session: AsyncSession, kind: str, key: str) -> bool:
    return await session.get(NoticeBatch, (kind, key)) is not None


async def create_batch(session: AsyncSession, kind: str, key: str, targets: Sequence[str], due_at: datetime,
                       now: datetime) -> None:
    """The batch marker and its notices, in the caller's transaction: a concurrent second
    creation fails on the marker's primary key and rolls back whole."""
    session.add(NoticeBatch(kind=kind, key=key, created_at=now))
    await session.flush()
    if targets:
        await session.exec(insert(Notice), params=[
            {"kind": kind, "key": key, "target": target, "due_at": due_at, "state": PENDING, "note": "",
             "attempts": 0, "message_ids": ""} for target in targets])


# ---- whom to reach ------------------------------------------------------------------------------


async def coordinators_of_cities(session: AsyncSession, city_ids: Sequence[int]) -> dict[int, list[Person]]:
    if not city_ids:
        return {}
    result = await session.exec(select(Person).where(col(Person.city_id).in_(city_ids))
                                .order_by(col(Person.display_name), col(Person.id)))
    found: dict[int, list[Person]] = {}
    for person in result:
        assert person.city_id is not None
        found.setdefault(person.city_id, []).append(person)
    return found


async def cities_with_networks(session: AsyncSession, city_ids: Sequence[int]) -> list[tuple[City, str]]:
    """The cities with their network's name, by network then city name."""
    if not city_ids:
        return []
    result = await session.exec(
        select(City, Network.name).join(Network, col(Network.id) == City.network_id, isouter=True)
        .where(col(City.id).in_(city_ids)).order_by(col(Network.name), col(City.name)))
    return [(city, network or "—") for city, network in result]
