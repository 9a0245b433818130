"""The scheduler steps a movable clock through every instant a job has work."""

from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock, parse_duration, parse_instant
from bot.scheduler import Scheduler

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


class Alarms:
    """A job with work at given instants; records when each ran."""

    name = "alarms"

    def __init__(self, instants: list[datetime]) -> None:
        self.pending = sorted(instants)
        self.ran: list[datetime] = []

    async def run(self, now: datetime) -> None:
        while self.pending and self.pending[0] <= now:
            self.pending.pop(0)
            self.ran.append(now)

    async def next_due(self, now: datetime) -> datetime | None:
        return self.pending[0] if self.pending else None


async def test_advance_runs_each_instant_at_its_time() -> None:
    clock = ManualClock(START)
    scheduler = Scheduler(clock)
    instants = [START + timedelta(hours=h) for h in (1, 5, 30)]
    job = Alarms([*instants, START + timedelta(days=10)])
    scheduler.add(job)
    stops = await scheduler.advance_to(START + timedelta(days=2), clock)
    assert job.ran == instants
    assert stops == 3
    assert clock.now() == START + timedelta(days=2)
    assert job.pending == [START + timedelta(days=10)]


async def test_a_failing_job_does_not_stop_the_others() -> None:
    clock = ManualClock(START)
    scheduler = Scheduler(clock)

    class Broken:
        name = "broken"

        async def run(self, now: datetime) -> None:
            raise RuntimeError("boom")

        async def next_due(self, now: datetime) -> datetime | None:
            return None

    job = Alarms([START])
    scheduler.add(Broken())
    scheduler.add(job)
    await scheduler.run_job("broken")
    await scheduler.run_due()
    assert job.ran == [START]


def test_durations_and_instants() -> None:
    assert parse_duration("3d") == timedelta(days=3)
    assert parse_duration("1w2h30m") == timedelta(weeks=1, hours=2, minutes=30)
    assert parse_instant("2027-01-10T09:30Z") == datetime(2027, 1, 10, 9, 30, tzinfo=UTC)
    assert parse_instant("2027-01-10T10:30+01:00") == datetime(2027, 1, 10, 9, 30, tzinfo=UTC)
    for bad in ("", "3 days", "d3", "-1d"):
        try:
            parse_duration(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")


async def test_stop_lets_a_run_under_way_finish() -> None:
    """A job stopped mid-run (a reminder between its post and its record) completes; APScheduler's
    own shutdown would cancel it."""
    import asyncio

    clock = ManualClock(START)
    scheduler = Scheduler(clock)
    started, finished = asyncio.Event(), []

    class Slow:
        name = "slow"

        async def run(self, now: datetime) -> None:
            started.set()
            await asyncio.sleep(0.05)
            finished.append(now)

        async def next_due(self, now: datetime) -> datetime | None:
            return None

    scheduler.add(Slow())
    scheduler.start()
    await asyncio.wait_for(started.wait(), timeout=5)   # the start-up wake-up runs it at once
    await scheduler.stop()
    assert finished == [START]
