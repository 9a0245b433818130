"""Incoming events a platform will not deliver again (Discord's gateway sends each one once), kept
in memory while they cannot be stored and tried again with growing pauses.

An adapter hands each event as a `build` function (which may itself need the database, to know
who wrote it) to `PendingEvents.submit`. It goes to `bot.receive` at once; when that raises
`NotStored`, the event waits here, in arrival order, and every event that comes after it waits
behind it (an edit never overtakes its message). A scheduler job tries the first again after
1, 2, 4 … seconds, at most a minute apart, as long as the process lives. Each failure is logged;
nothing is dropped without an error line: not when the queue is full, not at shutdown (when one
last try is made), not an event that fails for a reason other than the database (a bug) after
`GIVE_UP` tries.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core import NotStored, Receivable

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)

Build = Callable[[], Awaitable[Receivable | None]]
"""Makes the core event (None: nothing to hand on, e.g. a channel the bot cannot see)."""

LIMIT = 10_000
"""Events kept at most (a few MB): beyond, an event that cannot be stored is logged as lost."""
FIRST_PAUSE = timedelta(seconds=1)
LONGEST_PAUSE = timedelta(minutes=1)
GIVE_UP = 3
"""Tries (a few seconds) after which an event failing for a reason other than the database or the
network is logged with its traceback and dropped: retrying a bug fails the same way, and would
hold up every event behind it."""


@dataclass(eq=False)
class _Waiting:
    what: str
    build: Build
    since: datetime
    tries: int = 0


class PendingEvents:
    """One platform's events waiting to be stored; also the scheduler job that retries them."""

    def __init__(self, bot: Bot, platform: str, *, limit: int = LIMIT) -> None:
        self.bot = bot
        self.platform = platform
        self.name = f"{platform}.pending-events"
        self.limit = limit
        self._queue: deque[_Waiting] = deque()
        self._due: datetime | None = None
        self._running = asyncio.Lock()

    @classmethod
    def attach(cls, bot: Bot, platform: str, *, limit: int = LIMIT) -> PendingEvents:
        """Create it and register its job, idle check and last try at shutdown with the bot."""
        pending = cls(bot, platform, limit=limit)
        bot.scheduler.add(pending, every=LONGEST_PAUSE)
        bot.add_idle_check(pending.idle)
        bot.on_stop(pending.stop)
        return pending

    def __len__(self) -> int:
        return len(self._queue)

    async def submit(self, what: str, build: Build) -> None:
        """Store the event now, or keep it until it can be. `what` names it in log lines
        (`message 123 in discord:1/2`). Never raises."""
        item = _Waiting(what, build, self.bot.clock.now())
        if self._queue:
            self._keep(item, None)
            return
        try:
            await self._receive(item)
        except NotStored as error:
            item.tries = 1
            self._keep(item, error)

    # ---- the scheduler job -------------------------------------------------------------------------

    async def next_due(self, now: datetime) -> datetime | None:
        if not self._queue:
            return None
        return self._due or now

    async def run(self, now: datetime) -> None:
        async with self._running:
            await self._drain(force=False)

    async def idle(self) -> bool:
        """Nothing to try before the next pause ends."""
        if self._running.locked():
            return False
        return not self._queue or (self._due is not None and self._due > self.bot.clock.now())

    async def stop(self) -> None:
        """One last try (the database may be back), then say what is lost with the process."""
        if not self._queue:
            return
        async with self._running:
            await self._drain(force=True)
        if self._queue:
            names = ", ".join(item.what for item in list(self._queue)[:10])
            log.error("%s: %d incoming events were never stored and are lost as the bot stops: %s%s",
                      self.platform, len(self._queue), names, " …" if len(self._queue) > 10 else "")

    # ---- inside ---------------------------------------------------------------------------------

    async def _receive(self, item: _Waiting) -> None:
        try:
            event = await item.build()
        except Exception as error:
            # Knowing who wrote it or where may take the database too.
            raise NotStored(item.what, error) from error
        if event is not None:
            await self.bot.receive(event)

    async def _drain(self, *, force: bool) -> None:
        while self._queue:
            if not force and self._due is not None and self._due > self.bot.clock.now():
                return
            item = self._queue[0]
            try:
                await self._receive(item)
            except NotStored as error:
                item.tries += 1
                if not error.transient and item.tries >= GIVE_UP:
                    log.error("%s: the %s, %d times: given up, it is lost", self.platform, error, item.tries,
                              exc_info=error.cause)
                    self._queue.popleft()
                    continue
                pause = _pause(item.tries)
                self._due = self.bot.clock.now() + pause
                log.warning("%s: the %s, again (try %d); %d events wait, the next try in %ds", self.platform,
                            error, item.tries, len(self._queue), pause.total_seconds(),
                            exc_info=None if error.transient else error.cause)
                return
            self._queue.popleft()
            log.info("%s: the %s is stored, %d tries after it came", self.platform, item.what, item.tries + 1)
        self._due = None

    def _keep(self, item: _Waiting, error: NotStored | None) -> None:
        if len(self._queue) >= self.limit:
            log.error("%s: the %s, and %d events already wait for the database: it is lost", self.platform,
                      error or f"{item.what} was not stored", len(self._queue))
            return
        self._queue.append(item)
        if error is None:
            log.warning("%s: the %s waits behind %d events not yet stored", self.platform, item.what,
                        len(self._queue) - 1)
            return
        pause = _pause(item.tries)
        self._due = self.bot.clock.now() + pause
        log.warning("%s: the %s; kept in memory, tried again in %ds", self.platform, error, pause.total_seconds(),
                    exc_info=None if error.transient else error.cause)
        self.bot.scheduler.wake(self.name)


def _pause(tries: int) -> timedelta:
    return min(FIRST_PAUSE * 2 ** max(tries - 1, 0), LONGEST_PAUSE)
