"""Time-driven work. APScheduler 3.11 wakes jobs in a running bot (in-memory job store, never
shared between processes); the work itself reads our own tables, so a restart or a second process
loses and repeats nothing. With a clock that can be moved (tests, the console's `!clock`),
`advance_to` steps through every instant at which some job has work, in order.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock

log = logging.getLogger(__name__)


class Job(Protocol):
    name: str

    async def run(self, now: datetime) -> None:
        """Do whatever is due at `now`. Must be safe to call at any time, and again."""

    async def next_due(self, now: datetime) -> datetime | None:
        """The earliest instant at which this job will have work, or None when it has none."""


class MovableClock(Protocol):
    def now(self) -> datetime: ...

    def set(self, instant: datetime) -> None: ...


@dataclass
class _Entry:
    job: Job
    every: timedelta
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Scheduler:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._aps: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[object]] = set()
        """Job runs and wake-up planning under way, which `stop` lets finish."""
        self._stopping = False

    def add(self, job: Job, *, every: timedelta = timedelta(seconds=30)) -> None:
        if job.name in self._entries:
            raise ValueError(f"job {job.name} added twice")
        self._entries[job.name] = _Entry(job, every)
        if self._aps is not None:
            self._schedule(self._entries[job.name])

    @property
    def jobs(self) -> list[Job]:
        return [entry.job for entry in self._entries.values()]

    async def run_job(self, name: str) -> None:
        entry = self._entries[name]
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            async with entry.lock:
                try:
                    await entry.job.run(self.clock.now())
                except Exception:
                    log.exception("job %s failed; it runs again at its next wake-up", name)
            self._wake_at_next_due(entry)
        finally:
            if task is not None:
                self._running.discard(task)

    def wake(self, name: str) -> None:
        """Re-plan `name`'s next wake-up now: its work moved earlier than it said last time (a retry
        was scheduled, an item was queued for later)."""
        entry = self._entries.get(name)
        # A running job plans its next wake-up when it ends.
        if entry is not None and not entry.lock.locked():
            self._wake_at_next_due(entry)

    async def run_due(self) -> None:
        """Run every job that has work now."""
        now = self.clock.now()
        for entry in list(self._entries.values()):
            due = await self._next_due(entry, now)
            if due is not None and due <= now:
                await self.run_job(entry.job.name)

    async def next_due(self) -> datetime | None:
        now = self.clock.now()
        dues = [due for entry in self._entries.values() if (due := await self._next_due(entry, now))]
        return min(dues) if dues else None

    async def advance_to(self, target: datetime, clock: MovableClock, *, settle: object = None) -> int:
        """Move `clock` to `target`, stopping at each instant where a job has work and running it.
        Returns how many stops were made. `settle` is awaited after each stop (e.g. wait until
        deliveries started by the jobs are done)."""
        stops = 0
        while True:
            await self.run_due()
            if settle is not None:
                await settle()  # type: ignore[operator]
            due = await self.next_due()
            if due is None or due > target:
                break
            if due > clock.now():
                clock.set(due)
            stops += 1
            if stops > 100_000:
                raise RuntimeError("scheduler did not settle: a job keeps reporting work it never does")
        if target > clock.now():  # a clock that flows on its own (the console's) may be past it already
            clock.set(target)
        await self.run_due()
        if settle is not None:
            await settle()  # type: ignore[operator]
        return stops

    async def _next_due(self, entry: _Entry, now: datetime) -> datetime | None:
        try:
            return await entry.job.next_due(now)
        except Exception:
            log.exception("job %s could not say when it is due", entry.job.name)
            return None

    # ---- running with APScheduler --------------------------------------------------------------

    def start(self) -> None:
        self._aps = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                                  "misfire_grace_time": None})
        for entry in self._entries.values():
            self._schedule(entry)
        self._aps.start()

    def _schedule(self, entry: _Entry) -> None:
        assert self._aps is not None
        self._aps.add_job(self.run_job, IntervalTrigger(seconds=entry.every.total_seconds()),
                          args=[entry.job.name], id=f"{entry.job.name}:interval", replace_existing=True)
        self._aps.add_job(self.run_job, DateTrigger(), args=[entry.job.name],
                          id=f"{entry.job.name}:wake", replace_existing=True)

    def _wake_at_next_due(self, entry: _Entry) -> None:
        """Between interval ticks, wake the job exactly when its next item falls due."""
        if self._aps is None or not self._aps.running or self._stopping:
            return

        async def plan() -> None:
            due = await self._next_due(entry, self.clock.now())
            if due is None or self._aps is None:
                return
            delay = (due - self.clock.now()).total_seconds()
            if delay < entry.every.total_seconds():
                # APScheduler runs on wall time, whatever our clock says.
                run_at = datetime.now(UTC) + timedelta(seconds=max(delay, 0.0))
                self._aps.add_job(self.run_job, DateTrigger(run_date=run_at), args=[entry.job.name],
                                  id=f"{entry.job.name}:wake", replace_existing=True)

        planning = asyncio.get_running_loop().create_task(plan())
        self._running.add(planning)
        planning.add_done_callback(self._running.discard)

    def shutdown(self) -> None:
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        self._aps = None

    async def stop(self, timeout: float = 10.0) -> None:
        """Start nothing new, let the runs under way finish (a reminder being sent gets recorded;
        APScheduler's own shutdown would cancel them), then shut down. What still runs after
        `timeout` seconds is cancelled."""
        if self._aps is not None and self._aps.running:
            self._aps.pause()
        self._stopping = True
        deadline = asyncio.get_running_loop().time() + timeout
        while pending := {task for task in self._running if task is not asyncio.current_task()}:
            _done, late = await asyncio.wait(pending, timeout=max(deadline - asyncio.get_running_loop().time(), 0))
            if late:
                for task in late:
                    task.cancel()
                break
        self.shutdown()
