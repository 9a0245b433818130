"""`/icc report failures [days=7]`: relays, broadcasts and DMs given up on, with the reason."""

from __future__ import annotations

from bot.outbound import DeliveryError
from tests.relay.conftest import RelayHarness


async def test_failed_relays_and_broadcasts_are_listed_with_their_reason(bc: RelayHarness) -> None:
    assert "Nothing failed for good." in await bc.reply("@alice /icc report failures")
    bc.adapter.fail("rumeurs-fr", DeliveryError("channel_not_found", permanent=True), times=2)
    await bc.say("@tom #rumours-en Hello group")
    await bc.say("@alice /icc broadcast to=lang:fr Bonjour", "@alice !press ^ 1")
    answer = await bc.reply("@alice /icc report failures")
    assert "**Deliveries given up on in the last 7 days**: 2." in answer
    assert "• broadcast #1 → #rumeurs-fr (console): channel_not_found (once, last 11 Jan, 08:00 UTC)" in answer
    assert "• a message from Tom Evans relayed from #rumours-en → #rumeurs-fr (console): channel_not_found" in answer


async def test_the_period_is_checked_and_the_report_is_for_the_icc_team(bc: RelayHarness) -> None:
    bc.adapter.fail("rumeurs-fr", DeliveryError("channel_not_found", permanent=True))
    await bc.say("@tom #rumours-en Hello group", "!clock +3d")
    assert "**Deliveries given up on in the last day**: 0." in await bc.reply("@alice /icc report failures days=1")
    assert "in the last 7 days**: 1." in await bc.reply("@alice /icc report failures")
    assert "`days` must be between 1 and 90." in await bc.reply("@alice /icc report failures days=365")
    assert "Only the ICC team can do that." in await bc.reply("@tom /icc report failures")
