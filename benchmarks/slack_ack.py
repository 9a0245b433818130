"""How fast Slack gets its acknowledgement in HTTP mode, with the whole bot behind it.

Starts the real bot (demo network, SQLite file, the Slack adapter in HTTP mode on loopback,
talking to the fake Slack Web API), links two Slack channels of two workspaces to a group, then
sends N signed message events, C at a time, as Slack would, and measures each request's time to
its HTTP 200 (with the relay installed, the 200 leaves once the message is stored; the copies to
the other workspace follow from the outbox). Slack gives up after 3 seconds; the bound here is far below that.

    .venv/bin/python benchmarks/slack_ack.py [--events 300] [--concurrency 20] [--bound 1.0]

Prints the figures and exits 1 when the 99th percentile exceeds the bound, any acknowledgement
took Slack's 3 seconds, or an event did not reach the core.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import create_bot
from bot.clock import SystemClock
from bot.demo import load_demo
from bot.events import MessagePosted
from bot.platforms.slack import SlackAdapter
from bot.settings import Settings
from storage.models import Channel, Group
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_payloads import encode_body, event_callback, message_event, signed_headers

SECRET = "bench-secret"
SLACK_DEADLINE = 3.0  # seconds: Slack retries an event not acknowledged by then


async def run(events: int, concurrency: int, postgres: str | None) -> tuple[list[float], int, int]:
    scratch = Path(tempfile.mkdtemp(prefix="icc-bench-"))
    url = f"sqlite:///{scratch / 'bench.db'}"
    if postgres:
        url = await asyncio.to_thread(_fresh_postgres, postgres)
    async with FakeSlack("xoxb-a") as fake:
        fake.add_workspace("xoxb-b", team_id="T0ICC0002", user_id="U0BOT0002", bot_id="B0BOT0002")
        fake.add_user("U0ALICE01", "alice", display_name="Alice")
        bot = await create_bot(Settings(_env_file=None, database_url=url), database_url=url, clock=SystemClock())
        print(f"database: {'PostgreSQL' if postgres else 'SQLite file'}")
        async with bot.db.session() as session:
            await load_demo(session, bot.clock.now())
            group = Group(slug="bench", name="Bench", kind="thematic", created_at=bot.clock.now())
            session.add(group)
            await session.flush()
            session.add(Channel(platform="slack", workspace="T0ICC0001", channel_id="C0BENCHA", language="en",
                                group_id=group.id))
            session.add(Channel(platform="slack", workspace="T0ICC0002", channel_id="C0BENCHB", language="es",
                                group_id=group.id))
        handled: list[str] = []

        async def count(event: MessagePosted) -> None:
            handled.append(event.message_id)

        bot.on(MessagePosted, count)
        adapter = SlackAdapter(["xoxb-a", "xoxb-b"], signing_secret=SECRET, api_url=fake.api_url, port=0,
                               host="127.0.0.1")
        bot.add_adapter(adapter)
        await bot.start(run_scheduler=False)
        latencies: list[float] = []
        gate = asyncio.Semaphore(concurrency)
        try:
            async with aiohttp.ClientSession() as http:
                endpoint = f"http://127.0.0.1:{adapter.bound_port}/slack/events"

                async def one(number: int) -> None:
                    body = event_callback(message_event("C0BENCHA", f"message {number}", user="U0ALICE01"))
                    raw, content_type = encode_body(body)
                    async with gate:
                        started = time.perf_counter()
                        async with http.post(endpoint, data=raw,
                                             headers=signed_headers(SECRET, raw, content_type=content_type)) as answer:
                            assert answer.status == 200, answer.status
                        latencies.append(time.perf_counter() - started)

                await asyncio.gather(*(one(n) for n in range(events)))
            # Copies go out at Slack's pace (about one a second per channel): count those out so far.
            copies = len(fake.messages("C0BENCHB"))
        finally:
            await bot.stop()
            await bot.db.dispose()
            shutil.rmtree(scratch, ignore_errors=True)
            if postgres:
                await asyncio.to_thread(_drop_postgres, postgres, url)
    return latencies, len(handled), copies


def _admin(server: str) -> Any:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool,
                         isolation_level="AUTOCOMMIT")


def _fresh_postgres(server: str) -> str:
    from sqlalchemy import text

    name = f"icc_bench_{uuid.uuid4().hex[:10]}"
    engine = _admin(server)
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres(server: str, url: str) -> None:
    from sqlalchemy import text

    engine = _admin(server)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--bound", type=float, default=1.0, help="p99 acknowledgement bound, seconds")
    parser.add_argument("--postgres", metavar="URL", help="run on a fresh database of this PostgreSQL server "
                        "(e.g. postgresql://postgres@127.0.0.1:5432/test) instead of a SQLite file")
    args = parser.parse_args()
    latencies, handled, copies = asyncio.run(run(args.events, args.concurrency, args.postgres))
    ordered = sorted(latencies)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(f"slack HTTP-mode acknowledgements: {len(latencies)} events, {args.concurrency} at a time")
    print(f"  median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms,"
          f" p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms (bound p99 {args.bound * 1000:.0f} ms)")
    print(f"  handed to the core: {handled} of {args.events}; copies posted in the other workspace by then: "
          f"{copies} (paced at about one a second per channel)")
    ok = p99 <= args.bound and ordered[-1] < SLACK_DEADLINE and handled == args.events
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
