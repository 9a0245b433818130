"""Broadcast storage on both databases: outcomes settled once and a broadcast finished once when two
processes (two engines) race, confirm and cancel taking effect once, and the failed-deliveries
report."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.db import Database
from storage.models import Broadcast, BroadcastTarget, Person
from storage.queries import broadcasts as queries
from storage.queries import relay as outbox_queries
from storage.queries.relay import LaneKey
from tests.harness import START


async def make_broadcast(db: Database, targets: int) -> tuple[int, list[int]]:
    async with db.session() as session:
        person = Person(platform="console", workspace="local", user_id="alice", created_at=START)
        session.add(person)
        await session.flush()
        assert person.id is not None
        broadcast = Broadcast(text="Hello", audience="all", send_at=START, timezone="Europe/Paris", state="draft",
                              sender_id=person.id, created_at=START, expires_at=START + timedelta(hours=1))
        rows = [BroadcastTarget(broadcast_id=0, kind="channel", platform="console", workspace="local",
                                address=f"c{index}", label=f"#c{index}") for index in range(targets)]
        broadcast_id = await queries.add_broadcast(session, broadcast, rows)
        assert await queries.confirm(session, broadcast_id, person_id=person.id, now=START, send_at=START)
        ids = [row.id for row in rows if row.id is not None]
    return broadcast_id, ids


async def test_two_processes_settle_each_destination_once_and_finish_the_broadcast_once(database_url: str) -> None:
    one, two = Database(database_url), Database(database_url)
    try:
        broadcast_id, ids = await make_broadcast(one, 40)

        async def settle(db: Database, target_id: int) -> bool:
            async with db.session() as session:
                return await queries.settle_target(session, target_id, "delivered", now=START, message_ids=["m"])

        # Every destination settled by both processes at once: each is settled exactly once.
        results = await asyncio.gather(*(settle(db, target_id) for target_id in ids for db in (one, two)))
        assert results.count(True) == 40
        async with one.session() as session:
            assert not await queries.has_pending(session, broadcast_id)
            assert await queries.done_but_unfinished(session) == [broadcast_id]

        async def finish(db: Database) -> bool:
            async with db.session() as session:
                return await queries.finish(session, broadcast_id, START)

        # Both processes see it done and try to finish it: one does (and would send the report).
        assert sorted(await asyncio.gather(finish(one), finish(two), finish(one), finish(two))) == [
            False, False, False, True]
        async with two.session() as session:
            assert await queries.done_but_unfinished(session) == []
    finally:
        await one.dispose()
        await two.dispose()


async def test_confirm_and_cancel_take_effect_once(database_url: str) -> None:
    db = Database(database_url)
    try:
        broadcast_id, ids = await make_broadcast(db, 3)
        async with db.session() as session:
            assert not await queries.confirm(session, broadcast_id, person_id=1, now=START, send_at=START)
            await queries.settle_target(session, ids[0], "delivered", now=START)
            assert await queries.cancel(session, broadcast_id, person_id=1, now=START) == 2
            assert await queries.cancel(session, broadcast_id, person_id=1, now=START) is None
            # A copy that went out while it was being cancelled counts as delivered…
            assert await queries.settle_target(session, ids[1], "delivered", now=START)
            # …but a cancelled destination does not fail, and a cancelled broadcast owes no report.
            assert not await queries.settle_target(session, ids[2], "failed", now=START, reason="x")
            assert await queries.done_but_unfinished(session) == []
            states = {t.id: t.state for t in await queries.targets_of(session, broadcast_id)}
        assert states == {ids[0]: "delivered", ids[1]: "delivered", ids[2]: "cancelled"}
    finally:
        await db.dispose()


async def test_failed_deliveries_are_grouped_by_destination_and_reason(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.session() as session:
            lanes = await outbox_queries.lane_ids(session, [LaneKey("console", "local", "lyon"),
                                                            LaneKey("console", "local", "@alice")])
            lyon, alice = lanes[LaneKey("console", "local", "lyon")], lanes[LaneKey("console", "local", "@alice")]
            rows = [(lyon, "relay", "relay:1", "channel_not_found", 1),
                    (lyon, "relay", "relay:2", "channel_not_found", 2),
                    (lyon, "broadcast", "broadcast:4", "channel_not_found", 3),
                    (alice, "notice", "", "cannot_dm", 4),
                    (lyon, "relay", "relay:3", "old", 24 * 9)]
            ids = await outbox_queries.add_items(session, [
                {"lane_id": lane, "kind": kind, "reference": reference, "payload": {}, "state": "pending",
                 "attempts": 0, "not_before": START, "created_at": START, "posted": []}
                for lane, kind, reference, _error, _hours in rows])
            for item_id, (_lane, _kind, _reference, error, hours_ago) in zip(ids, rows, strict=True):
                await outbox_queries.finish_item(session, item_id, state="failed", error=error,
                                                 now=START - timedelta(hours=hours_ago))
        async with db.session() as session:
            found = await queries.failed_deliveries(session, START - timedelta(days=7))
            total = await queries.count_failed_deliveries(session, START - timedelta(days=7))
        assert total == 4
        assert [(f.kind, f.target, f.reason, f.count, f.references) for f in found] == [
            ("relay", "lyon", "channel_not_found", 2, ("relay:1", "relay:2")),
            ("broadcast", "lyon", "channel_not_found", 1, ("broadcast:4",)),
            ("notice", "@alice", "cannot_dm", 1, ("",)),
        ]
    finally:
        await db.dispose()
