"""Group relay and durable delivery.

- `Outbox` (`bot.service(Outbox)`): the durable, ordered, paced delivery every part of the bot
  uses for what must not be lost (`bot.relay.outbox`).
- `Relay` (`bot.service(Relay)`): a message in a linked channel → every other channel of its
  group, translated, following edits, deletes and threads (`bot.relay.engine`).
- `claim_event`: once-only handling of a platform event (`bot.relay.once`).
- `neutralise_mentions`: mentions made inert before any relayed text leaves (`bot.relay.safety`).
"""

from bot.relay.once import claim_event
from bot.relay.outbox import Delivery, DeliveryStatus, Enqueued, NewDelivery, Outbox
from bot.relay.safety import neutralise_mentions

__all__ = ["Delivery", "DeliveryStatus", "Enqueued", "NewDelivery", "Outbox", "claim_event", "neutralise_mentions"]
