"""Delivering a broadcast: retries and Retry-After, permanent failures and the report, long texts,
one translation per language, mentions, restarts and two processes sharing the work."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.broadcasts.service import Broadcasts
from bot.outbound import DeliveryError
from bot.relay.outbox import Outbox
from bot.relay.safety import ZWJ
from storage.queries import broadcasts as queries
from tests.broadcasts.conftest import broadcast_posts, dms, stored
from tests.fakes.fake_deepl import FakeDeepL
from tests.relay.conftest import RelayHarness, start_harness

INTERNATIONAL = {"lyon", "erlangen"}


def reports(harness: RelayHarness) -> list[str]:
    return [call.message.text for call in harness.adapter.calls
            if call.op == "dm" and call.message is not None and "is done" in call.message.text]


async def test_a_rate_limited_channel_waits_its_retry_after_and_holds_up_no_other(bc_lite: RelayHarness) -> None:
    bc_lite.adapter.fail("lyon", DeliveryError("ratelimited", retry_after=30))
    await bc_lite.say("@alice /icc broadcast to=network:international Survey", "@alice !press ^ 1")
    assert [call.channel for call in broadcast_posts(bc_lite)] == ["erlangen"]
    status = await bc_lite.reply("@alice /icc broadcast status 1")
    assert "1 delivered · 0 failed · 1 pending" in status
    assert "⏳ #lyon (console) · French (fr): pending, retrying after 1 failed try (ratelimited)" in status
    assert reports(bc_lite) == []
    await bc_lite.say("!clock +29s")
    assert len(broadcast_posts(bc_lite)) == 1
    await bc_lite.say("!clock +1s")
    assert sorted(call.channel for call in broadcast_posts(bc_lite)) == sorted(INTERNATIONAL)
    assert len(reports(bc_lite)) == 1 and "2 delivered, 0 failed" in reports(bc_lite)[0]


async def test_the_report_waits_for_a_copy_still_being_posted_when_the_others_are_done(
        bc_lite: RelayHarness) -> None:
    # Erlangen's copy is accepted while Lyon's is still on its way: its outcome finishes nothing.
    bc_lite.adapter.latency["lyon"] = 0.3
    await bc_lite.say("@alice /icc broadcast to=network:international Survey", "@alice !press ^ 1")
    assert sorted(call.channel for call in broadcast_posts(bc_lite)) == sorted(INTERNATIONAL)
    [report] = reports(bc_lite)
    assert "2 delivered, 0 failed" in report
    status = await bc_lite.reply("@alice /icc broadcast status 1")
    assert "2 delivered · 0 failed · 0 pending" in status


async def test_a_permanent_failure_is_recorded_with_its_reason_and_reported(bc: RelayHarness) -> None:
    bc.adapter.fail("erlangen", DeliveryError("channel_not_found", permanent=True))
    await bc.say("@alice /icc broadcast to=network:international Survey", "@alice !press ^ 1")
    [report] = reports(bc)
    assert report.startswith("Broadcast #1 to network `international` is done: 1 delivered, 1 failed.")
    assert "❌ #erlangen (console) · German (de): failed: channel_not_found" in report
    status = await bc.reply("@alice /icc broadcast status 1")
    assert "1 delivered · 1 failed · 0 pending" in status
    broadcasts, targets, _items = await stored(bc)
    assert broadcasts[0].state == "finished"
    assert {t.label: (t.state, t.reason) for t in targets} == {
        "#lyon": ("delivered", None), "#erlangen": ("failed", "channel_not_found")}


async def test_the_report_reaches_the_sender_in_their_language(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@hugo /icc broadcast to=cities:Lyon Bonjour Lyon", "@hugo !press ^ 1")
    report = [call.message.text for call in bc_lite.adapter.calls
              if call.op == "dm" and call.channel == "@hugo" and call.message][-1]
    assert report.startswith("La diffusion n°1")


async def test_each_language_is_translated_once_whatever_the_number_of_channels(
        bc_deepl: RelayHarness, fake_deepl: FakeDeepL) -> None:
    await bc_deepl.say("@alice /icc broadcast to=lang:fr The newsletter needs your news", "@alice !press ^ 1")
    posts = broadcast_posts(bc_deepl)
    assert len(posts) == 5
    assert {call.message.text for call in posts if call.message} == {"[FR] The newsletter needs your news"}
    assert [call.target_lang for call in fake_deepl.translate_calls] == ["FR"]


async def test_a_long_text_is_split_to_the_platforms_limit_and_resumes_where_it_stopped(
        bc_lite: RelayHarness) -> None:
    text = "\n\n".join(f"Paragraph {n}: " + "words " * 120 for n in range(15))  # ~11,000 characters
    await bc_lite.say(f"@alice /icc broadcast to=cities:Lyon,Erlangen {text}")
    # The second part to Lyon fails once: the retry posts what is missing, not the first part again.
    original_post = bc_lite.adapter.post
    calls = {"lyon": 0}

    async def flaky_post(channel, message):  # type: ignore[no-untyped-def]
        if channel.channel == "lyon":
            calls["lyon"] += 1
            if calls["lyon"] == 2:
                raise DeliveryError("timeout")
        return await original_post(channel, message)

    bc_lite.adapter.post = flaky_post  # type: ignore[method-assign]
    await bc_lite.say("@alice !press ^ 1", "!clock +1m")
    lyon = broadcast_posts(bc_lite, "lyon")
    assert len(lyon) == 3 and all(call.message and len(call.message.text) <= 4000 for call in lyon)
    assert "".join(call.message.text for call in lyon if call.message) == text.strip()
    assert len(broadcast_posts(bc_lite, "erlangen")) == 3
    async with bc_lite.bot.db.session() as session:
        outcomes = await queries.outcomes(session, 1)
    assert {o.target.label: (o.state, len(o.parts)) for o in outcomes} == {"#lyon": ("delivered", 3),
                                                                           "#erlangen": ("delivered", 3)}
    assert [call.message_id for call in lyon] == next(o.parts for o in outcomes if o.target.label == "#lyon")


async def test_mentions_in_a_broadcast_ping_nobody(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@alice /icc broadcast to=cities:Lyon @everyone please read <!channel>", "@alice !press ^ 1")
    [post] = broadcast_posts(bc_lite)
    assert post.message is not None
    assert "@everyone" not in post.message.text and f"@{ZWJ}everyone" in post.message.text
    assert "<!channel>" not in post.message.text


async def test_a_scheduled_broadcast_survives_a_restart(demo_database_url: str) -> None:
    first = await start_harness(demo_database_url)
    try:
        await first.say("@alice /icc broadcast to=network:international at=2027-01-12T09:00 Survey",
                        "@alice !press ^ 1")
    finally:
        await first.stop()
    second = await start_harness(demo_database_url, first_id=100)
    try:
        await second.say("!clock 2027-01-12T08:00Z")
        assert sorted(call.channel for call in broadcast_posts(second)) == sorted(INTERNATIONAL)
        assert len(reports(second)) == 1
    finally:
        await second.stop()


async def test_two_processes_deliver_each_channel_once_and_report_once(demo_database_url: str) -> None:
    one = await start_harness(demo_database_url)
    two = await start_harness(demo_database_url, first_id=1000)
    try:
        await one.say("@alice /icc broadcast to=all at=2027-01-12T09:00 Hello everyone", "@alice !press ^ 1")
        for harness in (one, two):
            harness.bot.service(Outbox).claim_batch = 3  # small claims, so the two share the lanes
        due = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)
        one.clock.set(due)
        two.clock.set(due)
        # Both processes wake at the same moment and share the lanes.
        await asyncio.gather(one.bot.scheduler.run_due(), two.bot.scheduler.run_due())
        await asyncio.gather(one.bot.wait_idle(), two.bot.wait_idle())
        channels = [call.channel for call in broadcast_posts(one) + broadcast_posts(two)]
        assert len(channels) == 13 and len(set(channels)) == 13
        if demo_database_url.startswith("postgresql"):
            assert broadcast_posts(one) and broadcast_posts(two)  # both took part (SQLite may serialise them)
        assert len(reports(one) + reports(two)) == 1
        _broadcasts, targets, _items = await stored(one)
        assert {t.state for t in targets} == {"delivered"}
    finally:
        await one.stop()
        await two.stop()


async def test_dms_follow_an_edit_with_the_corrected_text(bc_lite: RelayHarness) -> None:
    await bc_lite.say("@pablo #x /icc city register Sabadell",
                      "@alice /icc broadcast to=cities:Sabadell Meeting on Monday", "@alice !press ^ 1",
                      "@alice /icc broadcast edit 1 Meeting on Tuesday")
    first, second = dms(bc_lite, "pablo")
    assert first.message and "Monday" in first.message.text
    assert second.message and "Tuesday" in second.message.text
    assert second.message.footnote == "Versión corregida de un anuncio anterior."   # Sabadell speaks Spanish


async def test_a_report_left_owed_is_sent_by_the_finish_job(bc: RelayHarness) -> None:
    # A process that recorded the last outcome and stopped before finishing the broadcast.
    service = bc.bot.service(Broadcasts)
    service.delivery._check_soon = lambda broadcast_id: None  # type: ignore[method-assign]
    await bc.say("@alice /icc broadcast to=network:international Survey", "@alice !press ^ 1")
    assert sorted(call.channel for call in broadcast_posts(bc)) == sorted(INTERNATIONAL)
    assert reports(bc) == []
    await bc.say("!clock +1s")
    assert len(reports(bc)) == 1
    await bc.say("!clock +1h")
    assert len(reports(bc)) == 1
