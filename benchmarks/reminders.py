"""Reminders at the network's scale: 160 cities × 20 deadlines × the default plan, 60 days of
simulated time (the clock is moved, nothing sleeps), every post through the console adapter
(writing to a null stream).

Part 1, one bot (SQLite unless --database names PostgreSQL): start-up time, time per scheduler
tick, deliveries per second, and the checks that every planned reminder went out once and none
after a city's Done.
Part 2, two bots in two OS processes on one PostgreSQL database, stepping through the same 60
days and racing for the same rows: duplicate and missing reminders (both must be 0).

    .venv/bin/python benchmarks/reminders.py                        # part 1 on SQLite; part 2 if
                                                                     # ICC_TEST_POSTGRES_URL is set
    .venv/bin/python benchmarks/reminders.py --postgres postgresql://postgres@127.0.0.1:5432/test

Exits non-zero when a bound below is missed or a reminder is duplicated or missing.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.app import create_bot  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.core import Bot  # noqa: E402
from bot.deadlines import actions  # noqa: E402
from bot.deadlines.audience import resolve_audience  # noqa: E402
from bot.deadlines.fields import DeadlineFields  # noqa: E402
from bot.demo import cities_file  # noqa: E402
from bot.events import ChannelRef, PersonRef  # noqa: E402
from bot.outbound import Outgoing  # noqa: E402
from bot.platforms.console import ConsoleAdapter  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Channel, City, Deadline, Person, Reminder  # noqa: E402
from storage.seed import read_cities, seed_cities  # noqa: E402

START = datetime(2027, 3, 1, 0, 0, tzinfo=UTC)   # a Monday; Europe's clocks change on 28 March
DAYS = 60
CITIES = 160
DEADLINES = 20
DONE_SHARE = 0.3
"""Share of (deadline, city) pairs whose city presses Done at some point."""

# Bounds (2 shared cores; the figures printed are what matters, these catch regressions).
MAX_STARTUP_S = 5.0
MAX_P95_TICK_S = 2.0
MIN_DELIVERIES_PER_S = 100.0


class CountingConsole(ConsoleAdapter):
    """The console adapter to a null stream, remembering what it posted and when (bot time)."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the adapter
        self.clock = clock
        self.sent: list[tuple[str, str, str, str]] = []
        """(destination, button value, text, bot time) per post."""

    def _remember(self, destination: str, message: Outgoing) -> None:
        value = message.buttons[0].value if message.buttons else ""
        self.sent.append((destination, value, message.text, self.clock.now().isoformat()))

    async def post(self, channel: ChannelRef, message: Outgoing) -> str:
        self._remember(f"#{channel.channel}", message)
        return await super().post(channel, message)

    async def send_dm(self, person: PersonRef, message: Outgoing) -> str:
        self._remember(f"@{person.user}", message)
        return await super().send_dm(person, message)


# ---- the network and its deadlines ----------------------------------------------------------------


async def build_network(url: str, seed: int = 7) -> dict[int, list[tuple[int, str]]]:
    """160 cities, each with its own console channel (a tenth of them reminded by DM instead),
    and 20 deadlines for all of them. Returns, per deadline, the cities that will press Done and
    when (ISO instant)."""
    rng = random.Random(seed)
    database = Database(url)
    async with database.session() as session:
        await seed_cities(session, read_cities(cities_file()))
        for index in range(CITIES - len((await session.exec(select(City))).all())):
            session.add(City(slug=f"benchmark-{index}", name=f"Benchmark {index}", country="—", language="es",
                             timezone=("America/Mexico_City", "Asia/Kolkata")[index % 2]))
        await session.flush()
        cities = list(await session.exec(select(City).order_by(City.id)))
        for city in cities:
            assert city.id is not None
            session.add(Channel(platform="console", workspace="local", channel_id=f"c{city.id}",
                                name=f"c{city.id}", language=city.language, city_id=city.id))
            if city.id % 10 == 0:
                city.reminders_to = "dm"
                session.add(city)
                session.add(Person(platform="console", workspace="local", user_id=f"p{city.id}",
                                   display_name=f"Coordinator {city.id}", city_id=city.id, created_at=START))
        audience = await resolve_audience(session, "all")
        plan: dict[int, list[tuple[int, str]]] = {}
        for index in range(DEADLINES):
            due = START.date() + timedelta(days=15 + (index * 37) % 38)   # every due date's plan fits in 60 days
            deadline = await actions.create_deadline(
                session, DeadlineFields(title=f"Deadline {index + 1}", due=due, description="Please answer."),
                audience, now=START, created_by_id=None)
            assert deadline.id is not None
            plan[deadline.id] = [(city.id or 0, (START + timedelta(days=rng.uniform(5, DAYS))).isoformat())
                                 for city in cities if rng.random() < DONE_SHARE]
    await database.dispose()
    return plan


async def press_done(bot: Bot, plan: dict[int, list[tuple[int, str]]], until: datetime, done: set[tuple[int, int]],
                     mine: int | None = None) -> None:
    """Apply the Done presses due by `until` (only cities of parity `mine` when two bots share them)."""
    due = [(d, c) for d, presses in plan.items() for c, when in presses
           if (d, c) not in done and datetime.fromisoformat(when) <= until and (mine is None or c % 2 == mine)]
    if not due:
        return
    async with bot.db.session() as session:
        for deadline_id, city_id in due:
            deadline, city = await session.get(Deadline, deadline_id), await session.get(City, city_id)
            assert deadline is not None and city is not None
            await actions.mark_done(session, deadline, city, now=bot.clock.now(), person_id=None)
            done.add((deadline_id, city_id))


async def start_bot(url: str, clock: ManualClock) -> tuple[Bot, CountingConsole]:
    bot = await create_bot(Settings(_env_file=None, database_url=url), database_url=url, clock=clock, migrate=False)
    adapter = CountingConsole(clock)
    bot.add_adapter(adapter)
    await bot.start(run_scheduler=False)
    return bot, adapter


# ---- part 1: one bot ------------------------------------------------------------------------------


@dataclass
class Figures:
    startup_s: float
    planning_s: float
    ticks: list[float]
    deliveries: int
    busy_s: float
    wall_s: float
    cpu_s: float
    """Processor time of this process during the ticks (the rest is waiting: database, other load)."""


async def single(url: str) -> tuple[Figures, list[str]]:
    began = time.perf_counter()
    plan = await build_network(url)
    planning = time.perf_counter() - began
    clock = ManualClock(START)
    began = time.perf_counter()
    bot, adapter = await start_bot(url, clock)
    first_due = await bot.scheduler.next_due()
    startup = time.perf_counter() - began
    assert first_due is not None
    ticks: list[float] = []
    cpu_s = 0.0
    done: set[tuple[int, int]] = set()
    done_at: dict[tuple[int, int], datetime] = {}
    end = START + timedelta(days=DAYS)
    simulation = time.perf_counter()
    while True:
        due = await bot.scheduler.next_due()
        if due is None or due > end:
            break
        clock.set(max(due, clock.now()))
        before = set(done)
        await press_done(bot, plan, clock.now(), done)
        for key in done - before:
            done_at[key] = clock.now()
        tick, cpu = time.perf_counter(), time.process_time()
        await bot.scheduler.run_due()
        ticks.append(time.perf_counter() - tick)
        cpu_s += time.process_time() - cpu
    wall = time.perf_counter() - simulation
    problems = await check_rows(bot, end)
    reminders_sent = [post for post in adapter.sent if post[1]]
    for destination, value, _text, when in reminders_sent:
        deadline_id, city_id = (int(part) for part in value.split(":"))
        pressed = done_at.get((deadline_id, city_id))
        if pressed is not None and datetime.fromisoformat(when) > pressed:
            problems.append(f"reminder to {destination} for deadline {deadline_id} after its Done")
    async with bot.db.session() as session:
        sent_rows = len((await session.exec(select(Reminder).where(Reminder.state == "sent"))).all())
    if sent_rows != len(reminders_sent):
        problems.append(f"{len(reminders_sent)} reminders posted for {sent_rows} rows marked sent")
    await bot.stop()
    await bot.db.dispose()
    return Figures(startup, planning, ticks, len(reminders_sent), sum(ticks), wall, cpu_s), problems


async def check_rows(bot: Bot, end: datetime) -> list[str]:
    """Every row planned to go out by `end` has an outcome; none is left pending."""
    async with bot.db.session() as session:
        rows = list(await session.exec(select(Reminder)))
    states = Counter(row.state for row in rows)
    problems = []
    left = [row for row in rows if row.state == "pending" and row.due_at <= end]
    if left:
        problems.append(f"{len(left)} reminders due by the end are still pending (missing)")
    failed = states["failed"] + states["undeliverable"]
    if failed:
        problems.append(f"{failed} reminders failed or could not be delivered")
    return problems


# ---- part 2: two processes on PostgreSQL ----------------------------------------------------------


def worker(url: str, parity: int, plan: dict[int, list[tuple[int, str]]], pipe: Any) -> None:
    """One bot in its own process: advance to each instant the parent sends, racing the other."""

    async def main() -> None:
        clock = ManualClock(START)
        bot, adapter = await start_bot(url, clock)
        done: set[tuple[int, int]] = set()
        while True:
            message = pipe.recv()
            if message is None:
                break
            target = datetime.fromisoformat(message)
            await press_done(bot, plan, clock.now(), done, mine=parity)
            await bot.scheduler.advance_to(target, clock, settle=bot.wait_idle)
            pipe.send("ok")
        pipe.send([post for post in adapter.sent if post[1]])
        await bot.stop()
        await bot.db.dispose()

    asyncio.run(main())


def race(postgres_url: str, step: timedelta = timedelta(hours=1)) -> tuple[dict[str, Any], list[str]]:
    admin = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool,
                          isolation_level="AUTOCOMMIT")
    name = f"icc_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        plan = asyncio.run(build_network(url))
        context = multiprocessing.get_context("spawn")
        pipes, processes = [], []
        for parity in (0, 1):
            parent, child = context.Pipe()
            process = context.Process(target=worker, args=(url, parity, plan, child))
            process.start()
            pipes.append(parent)
            processes.append(process)
        began = time.perf_counter()
        instant = START
        while instant < START + timedelta(days=DAYS):
            instant += step
            for pipe in pipes:
                pipe.send(instant.isoformat())
            for pipe in pipes:
                assert pipe.recv() == "ok"
        for pipe in pipes:
            pipe.send(None)
        posted = [pipe.recv() for pipe in pipes]
        for process in processes:
            process.join(timeout=60)
        seconds = time.perf_counter() - began
        checked = asyncio.run(_race_rows(url))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    identities = Counter((destination, value, text.split("\n")[0]) for part in posted
                         for destination, value, text, _when in part)
    duplicates = sum(count - 1 for count in identities.values() if count > 1)
    total = sum(len(part) for part in posted)
    # Missing: a reminder still pending after the 60 days, or one that failed or found nowhere to go
    # (every city has a channel or a coordinator here), or a row marked sent that nobody posted.
    missing = checked["pending"] + checked["failed"] + checked["undeliverable"] + max(checked["sent"] - total, 0)
    problems = []
    if duplicates:
        problems.append(f"{duplicates} duplicate reminders")
    if missing:
        problems.append(f"{missing} missing reminders")
    if total != checked["sent"]:
        problems.append(f"{total} reminders posted for {checked['sent']} rows marked sent")
    return {"seconds": seconds, "posted": [len(part) for part in posted], "duplicates": duplicates,
            "missing": missing, **checked}, problems


async def _race_rows(url: str) -> dict[str, int]:
    database = Database(url)
    async with database.session() as session:
        states = Counter(row.state for row in await session.exec(select(Reminder)))
    await database.dispose()
    return {state: states[state] for state in ("sent", "pending", "dropped", "skipped", "failed", "undeliverable")}


# ---- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="run part 1 on this database URL (default: a scratch SQLite file)")
    parser.add_argument("--postgres", default=os.environ.get("ICC_TEST_POSTGRES_URL"),
                        help="PostgreSQL server for part 2 (a scratch database is created and dropped)")
    args = parser.parse_args()
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database or f"sqlite:///{Path(scratch) / 'bench.db'}"
        upgrade(url)
        figures, found = asyncio.run(single(url))
    problems += found
    ticks = sorted(figures.ticks)
    p95 = ticks[int(len(ticks) * 0.95)] if ticks else 0.0
    rate = figures.deliveries / figures.busy_s if figures.busy_s else 0.0
    backend = "PostgreSQL" if (args.database or "").startswith("postgresql") else "SQLite"
    print(f"part 1: one bot on {backend}, {CITIES} cities × {DEADLINES} deadlines × default plan, {DAYS} days")
    print(f"  planning 20 deadlines (rows for every city and step): {figures.planning_s:.2f} s")
    print(f"  start-up (bot, extensions, first next_due):            {figures.startup_s:.2f} s")
    print(f"  scheduler ticks: {len(ticks)}, median {statistics.median(ticks) * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms, max {ticks[-1] * 1000:.1f} ms")
    print(f"  reminders delivered: {figures.deliveries} in {figures.busy_s:.1f} s of ticks "
          f"({rate:.0f}/s; {figures.cpu_s:.1f} s of it this process's CPU); simulation wall time "
          f"{figures.wall_s:.1f} s")
    if figures.startup_s > MAX_STARTUP_S:
        problems.append(f"start-up {figures.startup_s:.2f} s > {MAX_STARTUP_S} s")
    if p95 > MAX_P95_TICK_S:
        problems.append(f"p95 tick {p95:.2f} s > {MAX_P95_TICK_S} s")
    if rate < MIN_DELIVERIES_PER_S:
        problems.append(f"{rate:.0f} deliveries/s < {MIN_DELIVERIES_PER_S}")
    if args.postgres:
        figures2, found2 = race(args.postgres)
        problems += found2
        print(f"part 2: two bot processes on one PostgreSQL database, same {DAYS} days in 1-hour steps")
        print(f"  posted by each: {figures2['posted']}; rows sent {figures2['sent']}, dropped after Done "
              f"{figures2['dropped']}, skipped {figures2['skipped']}; {figures2['seconds']:.1f} s")
        print(f"  duplicates: {figures2['duplicates']}   missing: {figures2['missing']}")
    else:
        print("part 2 skipped: give --postgres URL or set ICC_TEST_POSTGRES_URL")
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
