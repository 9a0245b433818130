"""What the sender reads stays short enough for an ephemeral answer however large the broadcast:
a status of 300 destinations lists the ones not delivered and counts the rest."""

from __future__ import annotations

from datetime import timedelta

from bot.broadcasts.render import Pending, status_message
from bot.i18n import render
from storage.models import Broadcast, BroadcastTarget
from storage.queries.broadcasts import Outcome
from tests.harness import START


def outcome(index: int, state: str, reason: str | None = None) -> Outcome:
    target = BroadcastTarget(id=index, broadcast_id=1, kind="channel", platform="slack" if index % 2 else "discord",
                             workspace="w", address=f"c{index}", label=f"#c{index}", language="fr", state=state,
                             reason=reason)
    return Outcome(target, state, ["m"] if state == "delivered" else [], 1 if state == "delivered" else 0, [])


def test_a_large_status_lists_what_is_not_delivered_and_counts_the_rest() -> None:
    broadcast = Broadcast(id=1, text="Hello " * 200, audience="all", send_at=START, timezone="Europe/Paris",
                          state="confirmed", sender_id=1, sender_name="Alice Martin", created_at=START,
                          expires_at=START + timedelta(hours=1))
    outcomes = ([outcome(i, "delivered") for i in range(290)] + [outcome(290 + i, "failed", "channel_not_found")
                                                                  for i in range(5)]
                + [outcome(295 + i, "pending") for i in range(5)])
    text = render(status_message(broadcast, outcomes, "en", START + timedelta(minutes=1),
                                 pending={295: Pending(2, "ratelimited")}), "en")
    assert "290 delivered · 5 failed · 5 pending" in text
    assert text.count("❌") == 5 and "failed: channel_not_found" in text
    assert "⏳ #c295 (slack) · French (fr): pending, retrying after 2 failed tries (ratelimited)" in text
    assert "✅ Delivered, not listed one by one: discord 145, slack 145." in text
    assert len(text) < 2000  # fits an ephemeral answer on Discord
