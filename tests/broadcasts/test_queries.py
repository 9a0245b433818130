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


async def test_two_processes_record_each_outcome_once_and_finish_the_broadcast_once(database_url: str) -> None:
    one, two = Database(database_url), Database(database_url)
    try:
        broadcast_id, ids = await make_broadcast(one, 40)
        async with one.session() as session:
            targets = {t.id: t for t in await queries.targets_of(session, broadcast_id)}

        async def deliver(db: Database, target_id: int) -> None:
            async with db.session() as session:
                await queries.add_copies(session, [queries.copy_row(targets[target_id], 0, f"m{target_id}", 1,
                                                                    final=True, now=START)])

        async def fail(db: Database, target_id: int) -> bool:
            async with db.session() as session:
                return await queries.settle_target(session, target_id, "failed", now=START, reason="gone")

        # Both processes record the same outcomes at the same moment: each is recorded once.
        delivered, failed = ids[:30], ids[30:]
        results = await asyncio.gather(*(deliver(db, t) for t in delivered for db in (one, two)),
                                       *(fail(db, t) for t in failed for db in (one, two)))
        assert results[len(delivered) * 2:].count(True) == len(failed)
        async with one.session() as session:
            assert not await queries.has_pending(session, broadcast_id)
            assert await queries.done_but_unfinished(session) == [broadcast_id]
            outcomes = await queries.outcomes(session, broadcast_id)
        assert sorted(o.state for o in outcomes) == ["delivered"] * 30 + ["failed"] * 10
        assert all(len(o.parts) == 1 for o in outcomes if o.state == "delivered")

        async def finish(db: Database) -> bool:
            async with db.session() as session:
                return await queries.finish(session, broadcast_id, START)

        # Both see it done and try to finish it: one does (and sends the report).
        assert sorted(await asyncio.gather(finish(one), finish(two), finish(one), finish(two))) == [
            False, False, False, True]
        async with two.session() as session:
            assert await queries.done_but_unfinished(session) == []
            states = sorted(t.state for t in await queries.targets_of(session, broadcast_id))
        assert states == ["delivered"] * 30 + ["failed"] * 10
    finally:
        await one.dispose()
        await two.dispose()


async def test_confirm_and_cancel_take_effect_once(database_url: str) -> None:
    db = Database(database_url)
    try:
        broadcast_id, ids = await make_broadcast(db, 3)
        async with db.session() as session:
            targets = {t.id: t for t in await queries.targets_of(session, broadcast_id)}
            assert not await queries.confirm(session, broadcast_id, person_id=1, now=START, send_at=START)
            await queries.add_copies(session, [queries.copy_row(targets[ids[0]], 0, "m1", 1, final=True, now=START)])
            assert await queries.cancel(session, broadcast_id, person_id=1, now=START) == 2
            assert await queries.cancel(session, broadcast_id, person_id=1, now=START) is None
            # A copy that went out while it was being cancelled counts as delivered…
            await queries.add_copies(session, [queries.copy_row(targets[ids[1]], 0, "m2", 1, final=True, now=START)])
            # …but a cancelled destination does not fail, and a cancelled broadcast owes no report.
            assert not await queries.settle_target(session, ids[2], "failed", now=START, reason="x")
            assert await queries.done_but_unfinished(session) == []
            states = {o.target.id: o.state for o in await queries.outcomes(session, broadcast_id)}
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
