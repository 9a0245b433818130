"""A per-channel post limit for the fake platforms (off unless a test or benchmark turns it on).

    fake.set_channel_pacing(ChannelPacing(interval=1.0, share_429=0.05, seed=8))

Each channel takes one post per `interval` (a post sooner than `interval - tolerance` after the
channel's last accepted one is answered 429 with the time left), and a seeded share of post
attempts is answered 429 with `injected_retry_after`, chosen by a hash of (platform, channel,
attempt number) so a run can be replayed and its floor computed (`injected`). What it saw is kept
for the caller: accepted times per channel (`time.monotonic()`, the same clock in every process
on the machine) and each channel's history of answers.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field


def injected(seed: int, platform: str, channel: str, attempt: int, share: float) -> bool:
    """Whether attempt number `attempt` (1 for the first) to post in `channel` is answered 429."""
    return share > 0 and random.Random(f"{seed}/{platform}/{channel}/{attempt}").random() < share


@dataclass
class ChannelPacing:
    interval: float = 1.0
    tolerance: float = 0.05
    share_429: float = 0.0
    seed: int = 0
    injected_retry_after: float = 1.0
    channels: set[str] | None = None
    """Only these channels are limited (None: every channel)."""
    attempts: Counter[str] = field(default_factory=Counter)
    last: dict[str, float] = field(default_factory=dict)
    accepted: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    history: dict[str, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    injected_count: int = 0
    paced_count: int = 0

    def check(self, platform: str, channel: str) -> float | None:
        """None: the post is accepted now. Otherwise the seconds to answer 429 with."""
        if self.channels is not None and channel not in self.channels:
            return None
        now = time.monotonic()
        self.attempts[channel] += 1
        if injected(self.seed, platform, channel, self.attempts[channel], self.share_429):
            self.injected_count += 1
            self.history[channel].append((now, "429"))
            return self.injected_retry_after
        last = self.last.get(channel)
        if last is not None and now - last < self.interval - self.tolerance:
            self.paced_count += 1
            self.history[channel].append((now, "429 paced"))
            return self.interval - (now - last)
        self.last[channel] = now
        self.accepted[channel].append(now)
        self.history[channel].append((now, "ok"))
        return None
