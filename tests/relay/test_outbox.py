"""The outbox as other parts of the bot use it (broadcasts, DMs): order, retries, scheduling,
failures, status, leases, stopping, and two processes sharing one outbox on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock, SystemClock
from bot.events import ChannelRef, PersonRef
from bot.outbound import DeliveryError, Outgoing
from bot.relay import claim_event
from bot.relay.outbox import NOTICE, Delivery, NewDelivery, Outbox
from storage.models import OutboxItem, OutboxLane
from tests.harness import START
from tests.relay.conftest import RelayHarness, start_harness

KIND = "test.post"


def channel(name: str) -> ChannelRef:
    return ChannelRef("console", "local", name)


async def post_parts(delivery: Delivery) -> None:
    """A broadcast-like handler: posts each of `parts`, resuming after those already posted."""
    parts = list(delivery.payload["parts"])
    for part in parts[len(delivery.posted):]:
        await delivery.post(Outgoing(part, kind="broadcast"))


def texts(harness: RelayHarness, name: str) -> list[str]:
    return [call.message.text for call in harness.adapter.calls
            if call.op == "post" and call.channel == name and call.message]


@pytest.fixture
async def box(sqlite_url: str) -> AsyncIterator[RelayHarness]:
    harness = await start_harness(sqlite_url)
    harness.bot.service(Outbox).register(KIND, post_parts)
    try:
        yield harness
    finally:
        await harness.stop()


def outbox_of(harness: RelayHarness) -> Outbox:
    return harness.bot.service(Outbox)


async def test_items_go_out_in_order_per_destination(box: RelayHarness) -> None:
    outbox = outbox_of(box)
    await outbox.submit([NewDelivery(KIND, channel(name), {"parts": [f"{name} {n}"]})
                         for n in range(5) for name in ("a", "b")])
    await box.bot.wait_idle()
    assert texts(box, "a") == [f"a {n}" for n in range(5)]
    assert texts(box, "b") == [f"b {n}" for n in range(5)]


async def test_a_retry_resumes_after_the_parts_already_posted(box: RelayHarness) -> None:
    calls = Counter[str]()
    original = box.adapter.post

    async def second_part_fails_once(ref: ChannelRef, message: Outgoing) -> str:
        key = message.delivery_key or ""
        calls[key] += 1
        if key.endswith("-1") and calls[key] == 1:
            raise DeliveryError("rate limited", retry_after=5)
        return await original(ref, message)

    box.adapter.post = second_part_fails_once  # type: ignore[method-assign]
    [item_id] = await outbox_of(box).submit([NewDelivery(KIND, channel("b"), {"parts": ["one", "two", "three"]})])
    await box.bot.wait_idle()
    assert texts(box, "b") == ["one"]
    await box.say("!clock +10s")
    assert texts(box, "b") == ["one", "two", "three"]
    # The key is stable across tries (a platform that deduplicates by it, like Discord with a
    # nonce, sees the second part's retry under the same key), and the first part is not repeated.
    assert calls == {f"icc-{item_id}-0": 1, f"icc-{item_id}-1": 2, f"icc-{item_id}-2": 1}
    [status] = await outbox_of(box).status("")
    assert (status.state, status.attempts, len(status.posted)) == ("done", 1, 3)


async def test_backoff_grows_then_a_failure_is_given_up_recorded_and_reported_once(sqlite_url: str) -> None:
    harness = await start_harness(sqlite_url)
    outbox = outbox_of(harness)
    outbox.max_attempts = 4
    reported: list[str] = []

    async def report(session: AsyncSession, delivery: Delivery, reason: str) -> list[NewDelivery]:
        reported.append(reason)
        return [NewDelivery(NOTICE, PersonRef("console", "local", "alice"), {"text": f"failed: {reason}"})]

    outbox.register(KIND, post_parts, on_failure=report)
    try:
        harness.adapter.fail("a", DeliveryError("server error 500"), times=10)
        await outbox.submit([NewDelivery(KIND, channel("a"), {"parts": ["x"]}, reference="broadcast:1")])
        await harness.bot.wait_idle()
        waits = []
        for _ in range(3):
            due = await outbox.next_due(harness.clock.now())
            assert due is not None
            waits.append((due - harness.clock.now()).total_seconds())
            await harness.bot.scheduler.advance_to(due, harness.clock, settle=harness.bot.wait_idle)
        assert waits[0] < waits[1] < waits[2]  # 2 s, 4 s, 8 s, give or take 20 %
        assert await outbox.next_due(harness.clock.now()) is None
        [status] = await outbox.status("broadcast:1")
        assert (status.state, status.attempts, status.last_error) == ("failed", 3, "server error 500")
        assert reported == ["server error 500"]
        assert [call.message.text for call in harness.adapter.ops("dm") if call.message] == [
            "failed: server error 500"]
    finally:
        await harness.stop()


async def test_a_scheduled_item_waits_for_its_time(box: RelayHarness) -> None:
    outbox = outbox_of(box)
    at = START + timedelta(hours=2)
    await outbox.submit([NewDelivery(KIND, channel("a"), {"parts": ["later"]}, not_before=at)])
    await outbox.submit([NewDelivery(KIND, channel("a"), {"parts": ["now"]})])
    await box.bot.wait_idle()
    assert texts(box, "a") == ["now"]  # a later item does not hold up the lane
    assert await outbox.next_due(box.clock.now()) == at
    await box.say("!clock +1h")
    assert texts(box, "a") == ["now"]
    await box.say("!clock +1h")
    assert texts(box, "a") == ["now", "later"]


async def test_status_and_cancel_by_reference(box: RelayHarness) -> None:
    outbox = outbox_of(box)
    box.adapter.fail("b", DeliveryError("busy", retry_after=60))
    await outbox.submit([NewDelivery(KIND, channel(name), {"parts": [name]}, reference="broadcast:7")
                         for name in ("a", "b", "c")])
    await box.bot.wait_idle()
    states = {str(s.destination): s.state for s in await outbox.status("broadcast:7")}
    assert states == {"console:local/a": "done", "console:local/b": "pending", "console:local/c": "done"}
    assert await outbox.cancel("broadcast:7") == 1
    await box.say("!clock +2m")
    assert texts(box, "b") == []
    assert {s.state for s in await outbox.status("broadcast:7")} == {"done", "cancelled"}


async def test_a_lane_left_by_a_dead_process_is_taken_over_when_its_lease_ends(box: RelayHarness) -> None:
    outbox = outbox_of(box)
    async with box.bot.db.session() as session:
        batch = await outbox.enqueue(session, [NewDelivery(KIND, channel("a"), {"parts": ["orphan"]})])
        await session.exec(update(OutboxLane).values(claimed_by="crashed-host:1:dead",  # type: ignore[call-overload]
                                                     claimed_until=START + timedelta(seconds=60)))
    await outbox.dispatch(batch)
    await box.bot.wait_idle()
    assert texts(box, "a") == []
    assert await outbox.next_due(box.clock.now()) == START + timedelta(seconds=60)
    await box.say("!clock +61s")
    assert texts(box, "a") == ["orphan"]


async def test_stopping_finishes_the_post_in_flight_and_hands_the_rest_back(sqlite_url: str) -> None:
    first = await start_harness(sqlite_url)
    outbox_of(first).register(KIND, post_parts)
    first.adapter.latency["a"] = 0.2
    await outbox_of(first).submit([NewDelivery(KIND, channel("a"), {"parts": [f"p{n}"]}) for n in range(3)])
    await asyncio.sleep(0.1)  # the first post is on its way
    await first.stop()
    assert texts(first, "a") == ["p0"]
    async with first.bot.db.session() as session:
        pass
    second = await start_harness(sqlite_url, first_id=100, clock=ManualClock(START))
    outbox_of(second).register(KIND, post_parts)
    try:
        async with second.bot.db.session() as session:
            lane = (await session.exec(select(OutboxLane))).one()
            assert lane.claimed_by is None  # handed back at once, no lease to wait for
        await second.bot.wait_idle()
        assert texts(second, "a") == ["p1", "p2"]
    finally:
        await second.stop()


async def test_an_event_is_claimed_once(sqlite_url: str) -> None:
    harness = await start_harness(sqlite_url)
    try:
        assert await claim_event(harness.bot, "slack", "Ev01") is True
        assert await claim_event(harness.bot, "slack", "Ev01") is False
        assert await claim_event(harness.bot, "slack", "Ev01", scope="reaction") is True
        assert await claim_event(harness.bot, "discord", "Ev01") is True
    finally:
        await harness.stop()


# ---- two processes, one PostgreSQL ------------------------------------------------------------------


@pytest.fixture
def postgres_demo(postgres_database_factory: Callable[[str], str]) -> str:
    return postgres_database_factory("demo")


@pytest.mark.postgres
async def test_two_processes_deliver_from_one_outbox_without_duplicates(postgres_demo: str) -> None:
    """Two bots (two engines, as two processes would have) on one PostgreSQL: both take
    messages in and both deliver, racing for the same lanes. Every copy goes out exactly once."""
    bots = [await start_harness(postgres_demo, first_id=1), await start_harness(postgres_demo, first_id=100_000)]
    for harness in bots:
        outbox_of(harness).claim_batch = 2  # small claims: the two share the lanes
        for channel_name in ("rumours-en", "rumores-es", "chutky-uk", "dicerie-it", "rumeurs-fr"):
            harness.adapter.latency[channel_name] = 0.002
    try:
        from bot.events import Author, MessagePosted

        author = Author(PersonRef("console", "local", "marie"), "Marie Dubois")
        sources = ("rumeurs-fr", "rumours-en", "chutky-uk")

        async def feed(index: int) -> None:
            harness = bots[index % 2]
            source = sources[index % len(sources)]
            await harness.bot.handle(MessagePosted(channel(source), f"m{index}", author, f"message {index}",
                                                   event_id=f"e{index}"))

        async def pump(harness: RelayHarness) -> None:
            for _ in range(40):
                await outbox_of(harness).pump()
                await asyncio.sleep(0.005)

        await asyncio.gather(*(feed(n) for n in range(60)), *(pump(h) for h in bots))
        for harness in bots:
            await harness.bot.wait_idle()
        for harness in bots:
            await harness.bot.wait_idle()
        copies = Counter((call.channel, call.message.text) for h in bots for call in h.adapter.posts()
                         if call.message)
        expected = {(dest, f"message {n}") for n in range(60)
                    for dest in {"rumours-en", "rumeurs-fr", "rumores-es", "chutky-uk", "dicerie-it"}
                    if dest != sources[n % len(sources)]}
        assert set(copies) == expected
        assert max(copies.values()) == 1
        assert all(h.adapter.posts() for h in bots), "both processes delivered"
        async with bots[0].bot.db.session() as session:
            states = Counter(item.state for item in (await session.exec(select(OutboxItem))).all())
        assert states == {"done": 240}
    finally:
        for harness in bots:
            await harness.stop()


@pytest.mark.postgres
async def test_two_processes_claiming_one_event_only_one_wins(postgres_demo: str) -> None:
    bots = [await start_harness(postgres_demo), await start_harness(postgres_demo)]
    try:
        results = await asyncio.gather(*(claim_event(h.bot, "slack", f"Ev{n}") for n in range(20) for h in bots))
        assert sum(results) == 20
    finally:
        for harness in bots:
            await harness.stop()


async def test_a_post_made_just_before_a_crash_is_found_and_not_made_again(box: RelayHarness) -> None:
    """The one window: the platform accepted a post, the process died before writing it down.
    The process taking the lane over asks the platform for the delivery's key first."""
    outbox = outbox_of(box)
    async with box.bot.db.session() as session:
        batch = await outbox.enqueue(session, [NewDelivery(KIND, channel("a"), {"parts": ["one", "two"]})])
        await session.exec(update(OutboxLane).values(claimed_by="crashed-host:1:dead",  # type: ignore[call-overload]
                                                     claimed_until=START + timedelta(seconds=5)))
    [item_id] = batch.ids
    # What the dead process managed: its post of the first part reached the platform.
    await box.adapter.post(channel("a"), Outgoing("one", kind="broadcast", delivery_key=f"icc-{item_id}-0"))
    await box.say("!clock +6s")
    assert texts(box, "a") == ["one", "two"]
    [status] = await outbox.status("")
    assert (status.state, len(status.posted)) == ("done", 2)


async def test_with_the_system_clock_a_rate_limit_is_waited_out_in_the_lane(sqlite_url: str) -> None:
    """No scheduler runs here: only the lane itself can retry, as soon as the platform allows."""
    harness = await start_harness(sqlite_url, clock=SystemClock())  # type: ignore[arg-type]
    outbox_of(harness).register(KIND, post_parts)
    answered: list[float] = []
    original = harness.adapter.post

    async def refused_once(ref: ChannelRef, message: Outgoing) -> str:
        answered.append(time.monotonic())
        if len(answered) == 2:
            raise DeliveryError("rate limited", retry_after=0.3)
        return await original(ref, message)

    harness.adapter.post = refused_once  # type: ignore[method-assign]
    try:
        await outbox_of(harness).submit([NewDelivery(KIND, channel("b"), {"parts": ["one", "two"]})])
        await harness.bot.wait_idle()
        assert texts(harness, "b") == ["one", "two"]
        assert len(answered) == 3 and 0.3 <= answered[2] - answered[1] < 1.0
        [status] = await outbox_of(harness).status("")
        assert (status.state, status.attempts, len(status.posted)) == ("done", 1, 2)
    finally:
        await harness.stop()


async def test_stopping_during_a_rate_limit_wait_hands_the_lane_back_until_the_retry(sqlite_url: str) -> None:
    harness = await start_harness(sqlite_url, clock=SystemClock())  # type: ignore[arg-type]
    outbox_of(harness).register(KIND, post_parts)
    harness.adapter.fail("a", DeliveryError("rate limited", retry_after=20))
    await outbox_of(harness).submit([NewDelivery(KIND, channel("a"), {"parts": ["one"]})])
    await asyncio.sleep(0.3)  # refused; the lane waits
    started = time.monotonic()
    await harness.stop()
    assert time.monotonic() - started < 5  # not the 20 s of the wait
    assert texts(harness, "a") == []
    async with harness.bot.db.session() as session:
        lane = (await session.exec(select(OutboxLane))).one()
        item = (await session.exec(select(OutboxItem))).one()
    assert lane.claimed_by is None and lane.blocked_until is not None
    assert lane.blocked_until > SystemClock().now().replace(tzinfo=lane.blocked_until.tzinfo) + timedelta(seconds=15)
    assert (item.state, item.attempts) == ("pending", 1)
