"""A broadcast to 300 channels across the Slack and Discord fakes, each channel taking one post a
second and answering 5% of posts 429: how close the whole delivery comes to the floor the rate
limits force, and whether every channel got it exactly once.

    .venv/bin/python benchmarks/broadcast.py [--channels 300] [--broadcasts 1] [--latency 0.02]
                                             [--share-429 0.05] [--seed 8] [--postgres URL] [--runs 1]

What runs: the whole bot (commands, the broadcast service, the durable outbox, the DeepL
translator against the fake DeepL, APScheduler waking the outbox for retries) with its real Slack
adapter (slack-bolt/slack_sdk) and Discord adapter (discord.py, without the gateway) on a
temporary SQLite database (or a scratch database created on the PostgreSQL server `--postgres`
names, e.g. postgresql://postgres@127.0.0.1:5432/test, dropped afterwards), with a member of the
ICC team preparing `--broadcasts` announcements to `to=all`, reading the previews, then confirming
them one after the other. The platforms are the project's fake Slack Web API and fake Discord
REST API, each in a process of its own (so they do not share the bot's CPU), each channel paced
at 1 post/s (tests/fakes/pacing.py: tolerance 50 ms; faster → 429 with the time left) and 5% of
post attempts answered 429 with a wait of 1 s, chosen by a seeded hash of (platform, channel,
attempt number). Broadcasts are posted under the ICC team's name: on Discord through each
channel's webhook, which the network's channels have already (the bot has relayed there: the
webhooks exist in the fake and in the bot's database). `--runs N` repeats the whole run (fresh
fakes, bot and database each time) and fails if any run does.

The floor: per channel, what an ideal client would need — its posts 1 s apart, each injected
429 costing a round trip plus its Retry-After — and the slowest channel's time is the floor.
Completion: from the first Confirm until the platform accepted the last channel's post (every
channel has it); the sender's report, which follows, is timed too.

Exits 1 when completion exceeds 1.2× the floor, a channel did not get each broadcast exactly
once, the bot's status does not show every destination delivered, or a language was translated
more than once per broadcast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from bot.app import create_bot
from bot.broadcasts.service import CONFIRM
from bot.clock import SystemClock
from bot.core import Bot
from bot.events import Author, ButtonPressed, ChannelRef, CommandInvoked, PersonRef
from bot.outbound import Button, Form
from bot.platforms.discord.adapter import DiscordAdapter
from bot.platforms.slack.adapter import SlackAdapter
from bot.settings import Settings
from bot.translation import Translator
from storage.models import Channel, Group
from storage.models.broadcasts import DELIVERED
from storage.queries import broadcasts as broadcast_queries
from storage.queries import discord as discord_queries
from tests.fakes import discord_gateway as gw
from tests.fakes.fake_deepl import FakeDeepL
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.pacing import ChannelPacing, injected

SLACK_TOKEN = "xoxb-bench"
DISCORD_TOKEN = "bench-token"
TEAM = "T0ICC0001"
GUILD = "2000000000000000001"
ADMIN = "U0ADMIN01"
LANGUAGES = ("en", "fr", "es", "it", "uk", "de", "pt")
TOLERANCE = 0.05
TEXT = ("The 2027 coordinators' meeting will take place in Strasbourg on 14-15 April. Please confirm who will "
        "attend for your city by 1 March, and send us the one-page update on your intercultural strategy that "
        "we will share with the network. Travel and accommodation for one coordinator per city are covered.")


# ---- the platforms: fake Slack and fake Discord, paced per channel (child process) --------------------------


def serve_platform(conn: Connection, platform: str, channels: list[str], latency: float, share: float,
                   seed: int) -> None:
    """One platform's fake, in a process of its own, until told to stop; `stats` gets what it saw."""
    asyncio.run(_serve(conn, platform, channels, latency, share, seed))


async def _serve(conn: Connection, platform: str, channels: list[str], latency: float, share: float,
                 seed: int) -> None:
    pacing = ChannelPacing(interval=1.0, tolerance=TOLERANCE, share_429=share, seed=seed, injected_retry_after=1.0,
                           channels=set(channels))
    fake: FakeSlack | FakeDiscord
    webhooks: dict[str, tuple[str, str]] = {}
    if platform == "slack":
        fake = FakeSlack(SLACK_TOKEN, team_id=TEAM)
    else:
        fake = FakeDiscord(DISCORD_TOKEN)
        fake.add_guild(gw.guild_create(GUILD, "ICC network", channels=[
            gw.text_channel(channel, f"c{index}", GUILD) for index, channel in enumerate(channels)]))
        # The network's channels have had relays: each has the bot's webhook already.
        for channel in channels:
            webhook_id, token = gw.snowflake(), f"whtoken-{channel}"
            fake.webhooks[webhook_id] = {
                "id": webhook_id, "type": 1, "guild_id": GUILD, "channel_id": channel,
                "application_id": fake.application_id, "name": "ICC bot", "avatar": None, "token": token,
                "user": fake.bot_user, "url": f"https://discord.com/api/webhooks/{webhook_id}/{token}"}
            webhooks[channel] = (webhook_id, token)
    fake.set_channel_pacing(pacing)
    await fake.start()
    fake.set_latency(None, latency)
    conn.send((fake.api_url if isinstance(fake, FakeSlack) else fake.api_base, webhooks))
    ready = time.process_time()
    loop = asyncio.get_running_loop()

    def reports() -> list[tuple[float, str]]:
        """The DMs the bot sent (the sender's reports), when the platform accepted each."""
        return [(r.time, str(r.body.get("text", ""))) for r in fake.recorded("chat.postMessage")
                if isinstance(r.body, dict) and str(r.body.get("channel", "")).startswith("D") and r.status == 200]

    while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
        if command == "reports":
            conn.send(reports())
            continue
        text = "text" if platform == "slack" else "content"
        conn.send({
            "posted": {f"{platform}/{c}": [m.get(text, "") for m in fake.messages(c)] for c in channels},
            "accepted": {f"{platform}/{c}": times for c, times in pacing.accepted.items()},
            "history": {f"{platform}/{c}": events for c, events in pacing.history.items()},
            "injected": pacing.injected_count, "paced": pacing.paced_count,
            "attempts": sum(pacing.attempts.values()), "reports": reports(),
            "cpu": {platform: time.process_time() - ready},
        })
    await fake.stop()


def merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
    stats: dict[str, Any] = {"posted": {}, "accepted": {}, "history": {}, "injected": 0, "paced": 0, "attempts": 0,
                             "reports": [], "cpu": {}}
    for part in parts:
        for key in ("posted", "accepted", "history", "cpu"):
            stats[key].update(part[key])
        for key in ("injected", "paced", "attempts", "reports"):
            stats[key] += part[key]
    stats["slowest"] = max(stats["accepted"], key=lambda key: stats["accepted"][key][-1], default=None)
    return stats


@dataclass
class CapturingResponder:
    replies: list[tuple[str, tuple[Button, ...]]] = field(default_factory=list)

    async def reply(self, text: str, *, ephemeral: bool = True, buttons: Sequence[Button] = ()) -> None:
        self.replies.append((text, tuple(buttons)))

    async def open_form(self, form: Form) -> None:
        raise AssertionError("no form in this benchmark")


# ---- the floor --------------------------------------------------------------------------------------------


def ideal_time(platform: str, channel: str, *, posts: int, seed: int, share: float, latency: float,
               retry_after: float) -> float:
    """What a perfect client needs for `posts` posts in one channel: 1 s apart, each injected 429
    costing a round trip and its Retry-After."""
    t = 0.0
    last: float | None = None
    attempt = 0
    for _ in range(posts):
        if last is not None:
            t = max(t, last + 1.0)
        while True:
            attempt += 1
            if injected(seed, platform, channel, attempt, share):
                t += latency + retry_after
                continue
            last = t
            t += latency
            break
    return t


# ---- the run ----------------------------------------------------------------------------------------------


async def setup_network(bot: Bot, slack_channels: list[str], discord_channels: list[str],
                        webhooks: dict[str, tuple[str, str]]) -> None:
    now = datetime.now(UTC)
    async with bot.db.session() as session:
        for channel, (webhook_id, token) in webhooks.items():
            await discord_queries.remember_webhook(session, channel, GUILD, webhook_id, token, now)
        groups = []
        for index in range(10):
            group = Group(slug=f"group-{index}", name=f"Group {index}", created_at=now)
            session.add(group)
            groups.append(group)
        await session.flush()
        channels = [("slack", TEAM, c) for c in slack_channels] + [("discord", GUILD, c) for c in discord_channels]
        for index, (platform, workspace, channel) in enumerate(channels):
            session.add(Channel(platform=platform, workspace=workspace, channel_id=channel, name=f"c{index}",
                                language=LANGUAGES[index % len(LANGUAGES)], group_id=groups[index % 10].id,
                                linked_at=now))


async def run(args: argparse.Namespace) -> int:
    failed = 0
    for number in range(1, args.runs + 1):
        if args.runs > 1:
            print(f"run {number} of {args.runs}")
        failed += await run_once(args)
    return 1 if failed else 0


async def run_once(args: argparse.Namespace) -> int:
    half = args.channels // 2
    slack_channels = [f"C{index:08d}" for index in range(half)]
    discord_channels = [str(3000000000000000000 + index) for index in range(args.channels - half)]
    context = multiprocessing.get_context("spawn")
    pipes, processes, urls, webhooks = {}, [], {}, {}
    for platform, channels in (("slack", slack_channels), ("discord", discord_channels)):
        parent, child = context.Pipe()
        process = context.Process(target=serve_platform, args=(child, platform, channels, args.latency,
                                                               args.share_429, args.seed), daemon=True)
        process.start()
        pipes[platform] = parent
        urls[platform], found = parent.recv()
        webhooks.update(found)
        processes.append(process)
    failures: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as scratch, scratch_database(args.postgres) as postgres_url:
            url = postgres_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
            async with FakeDeepL() as deepl:
                settings = Settings(_env_file=None, database_url=url, icc_admins=f"slack:{ADMIN}",
                                    deepl_auth_key=deepl.auth_key, deepl_server_url=deepl.url,
                                    discord_token=DISCORD_TOKEN, discord_api_url=urls["discord"],
                                    discord_guild_ids=GUILD)
                bot = await create_bot(settings, database_url=url, clock=SystemClock())
                bot.add_adapter(SlackAdapter([SLACK_TOKEN], api_url=urls["slack"], listen=False))
                bot.add_adapter(DiscordAdapter(settings, connect_gateway=False))
                await setup_network(bot, slack_channels, discord_channels, webhooks)
                await bot.start()
                await warm_up(bot)
                warm_calls = len(deepl.translate_calls)
                try:
                    cpu = time.process_time()
                    started, bot_done = await send(bot, pipes["slack"], args.broadcasts)
                    cpu = time.process_time() - cpu
                    ids = list(range(1, args.broadcasts + 1))
                    async with bot.db.session() as session:
                        targets = [t for b in ids for t in await broadcast_queries.targets_of(session, b)]
                    translations = Counter(call.target_lang for call in deepl.translate_calls[warm_calls:])
                finally:
                    await bot.stop()
                    await bot.db.dispose()
        parts = []
        for pipe in pipes.values():
            pipe.send("stats")
            parts.append(pipe.recv())
        stats = merged(parts)
    finally:
        for pipe in pipes.values():
            pipe.send("stop")
        for process in processes:
            process.join(10)

    reports = sorted(at for at, text in stats["reports"] if "is done" in text)
    finished = reports[-1] if len(reports) >= args.broadcasts else bot_done
    reported = finished - started
    floor = max(ideal_time(*key.split("/", 1), posts=args.broadcasts, seed=args.seed, share=args.share_429,
                           latency=args.latency, retry_after=1.0) for key in stats["posted"])
    elapsed = max((times[-1] for times in stats["accepted"].values()), default=started) - started
    ratio = elapsed / floor
    per_channel = Counter(len(posts) for posts in stats["posted"].values())
    duplicates = {key for key, posts in stats["posted"].items() if len(set(posts)) != len(posts)}
    wrong = {key: len(posts) for key, posts in stats["posted"].items() if len(posts) != args.broadcasts}
    undelivered = sum(1 for t in targets if t.state != DELIVERED)

    print(f"broadcast: {args.broadcasts} × to=all → {args.channels} channels ({half} Slack, {args.channels - half} "
          f"Discord), 1 post/s per channel, {args.share_429:.0%} of posts answered 429 (Retry-After 1 s), "
          f"{args.latency * 1000:.0f} ms per platform call")
    print(f"  completion (last channel's post accepted) {elapsed:.2f} s; rate-limit floor {floor:.2f} s "
          f"→ ratio {ratio:.2f} (bound 1.20); the sender's report came {reported - elapsed:.2f} s later")
    print(f"  platform calls: {stats['attempts']} post attempts, {stats['injected']} injected 429s, "
          f"{stats['paced']} 429s for posting faster than 1/s")
    print(f"  posts per channel: {dict(sorted(per_channel.items()))}; duplicates: {len(duplicates)}; "
          f"destinations not delivered in the bot's status: {undelivered}")
    done = sorted(times[-1] - started for times in stats["accepted"].values())
    if done:
        shares = (0.1, 0.5, 0.9, 1.0)
        print("  channels done by: " + ", ".join(f"{share:.0%} {done[min(len(done) - 1, int(share * len(done)))]:.2f} s"
                                                 for share in shares))
    firsts = sorted(times[0] - started for times in stats["accepted"].values())
    gaps = sorted(b - a for times in stats["accepted"].values() for a, b in itertools.pairwise(times))
    if firsts:
        print(f"  first post per channel: median {statistics.median(firsts):.2f} s, last {firsts[-1]:.2f} s"
              + (f"; gap between a channel's posts: median {statistics.median(gaps):.2f} s, "
                 f"90th percentile {gaps[int(0.9 * len(gaps))]:.2f} s" if gaps else ""))
    for platform in ("slack", "discord"):
        attempts = sorted(events[0][0] - started for key, events in stats["history"].items()
                          if key.startswith(platform) and events)
        if attempts:
            print(f"  {platform}: first attempt per channel reached the platform at "
                  f"10% {attempts[len(attempts) // 10]:.2f} s, median {statistics.median(attempts):.2f} s, "
                  f"last {attempts[-1]:.2f} s")
    print(f"  CPU seconds: the bot {cpu:.2f} (preview to report), the fakes "
          + ", ".join(f"{name} {seconds:.2f}" for name, seconds in sorted(stats["cpu"].items())) + " (once serving)")
    if stats["slowest"]:
        events = stats["history"][stats["slowest"]]
        print(f"  the last channel to finish ({stats['slowest']}): "
              + ", ".join(f"{outcome} at {at - started:.2f} s" for at, outcome in events))
    print(f"  DeepL requests per target language: {dict(sorted(translations.items()))}")
    if ratio > 1.2:
        failures.append(f"completion took {ratio:.2f}× the floor (bound 1.2)")
    if duplicates or wrong:
        failures.append(f"{len(wrong)} channels did not get each broadcast exactly once; "
                        f"{len(duplicates)} got one twice")
    if undelivered:
        failures.append(f"{undelivered} destinations are not delivered in the bot's status")
    if any(count != args.broadcasts for count in translations.values()):
        failures.append("a language was translated more than once per broadcast")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


@contextlib.contextmanager
def scratch_database(server: str | None) -> Iterator[str | None]:
    """A fresh PostgreSQL database on `server` for the run (None: use SQLite)."""
    if server is None:
        yield None
        return
    name = f"icc_bench_broadcast_{uuid.uuid4().hex[:8]}"
    base = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def warm_up(bot: Bot) -> None:
    """What a bot that has been running has done already: load its language detector and ask DeepL
    which languages it offers (once per process)."""
    translator = bot.service(Translator)  # type: ignore[type-abstract]
    await translator.translate(["Le bot vient de démarrer."], "de")


async def send(bot: Bot, slack: Connection, broadcasts: int) -> tuple[float, float]:
    """Prepare every broadcast, then confirm them one after the other; wait until the bot has
    sent every report (the platform's time of each report is taken from the fake)."""
    admin = Author(PersonRef("slack", TEAM, ADMIN), "Alice Martin")
    where = ChannelRef("slack", TEAM, "C0ICCTEAM")
    buttons: list[Button] = []
    for number in range(1, broadcasts + 1):
        responder = CapturingResponder()
        await bot.handle(CommandInvoked(where, admin, f"broadcast to=all #{number}: {TEXT}", responder))
        [(_text, preview_buttons)] = responder.replies
        buttons.append(next(b for b in preview_buttons if b.action_id == CONFIRM))
    # The sender reads the previews before confirming (the bot starts translating meanwhile).
    await asyncio.sleep(2.0)
    started = time.monotonic()
    for button in buttons:
        responder = CapturingResponder()
        await bot.handle(ButtonPressed(button.action_id, button.value, admin, responder, where))
        assert "on its way" in responder.replies[0][0], responder.replies
    deadline = started + 600
    loop = asyncio.get_running_loop()
    while True:
        # Asked of the fake Slack (in its own process): polling the bot would load what is measured.
        reports = await loop.run_in_executor(None, ask, slack, "reports")
        if len([text for _at, text in reports if "is done" in text]) >= broadcasts:
            return started, time.monotonic()
        if time.monotonic() > deadline:
            raise SystemExit("FAIL: the broadcasts did not finish within 10 minutes")
        await asyncio.sleep(0.1)


def ask(pipe: Connection, command: str) -> Any:
    pipe.send(command)
    return pipe.recv()


def main() -> int:
    # APScheduler warns when a wake-up finds the outbox job still running; that is expected here.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=300)
    parser.add_argument("--broadcasts", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--share-429", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--runs", type=int, default=1, help="runs in a row, each on fresh fakes and a fresh database")
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="a PostgreSQL server to run on (a scratch database is created there and dropped)")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
