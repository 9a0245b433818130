"""Once-only handling of platform events: Slack retries an event it thinks we missed (same
`event_id`), a gateway replays after a reconnect. Whoever acts on an event claims it first:

    if not await claim_event(bot, "slack", payload["event_id"], scope="reaction"):
        return  # handled already, by this process or another

The claim is a row with a unique key, so two processes on PostgreSQL cannot both win. Inside a
transaction of your own, use `storage.queries.relay.claim_event(session, …)`: the claim then
stands or falls with the rest of your work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.queries import relay as queries

if TYPE_CHECKING:
    from bot.core import Bot


async def claim_event(bot: Bot, platform: str, event_id: str, *, scope: str = "") -> bool:
    """True for the first claim of (platform, scope, event_id); False for every repeat."""
    async with bot.db.session() as session:
        return await queries.claim_event(session, platform, event_id, now=bot.clock.now(), scope=scope)
