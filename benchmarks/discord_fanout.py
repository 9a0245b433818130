"""The Discord adapter fanning one relay out to many channels, against the loopback fake with
injected latency: how close to the floor (one webhook round trip) it gets, what each post costs
the bot, and whether one rate-limited channel holds up the others.

    .venv/bin/python benchmarks/discord_fanout.py [--channels 25] [--latency 0.05] [--rounds 5]

Runs the real discord.py with the real adapter on a temporary SQLite database. Exits 1 when a
round to all channels takes more than 3× the floor, a post costs the bot more than 5 ms of its
own time on average, or the channels next to a rate-limited one are delayed by it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import create_bot
from bot.clock import SystemClock
from bot.events import ChannelRef
from bot.outbound import Outgoing, PostAs
from bot.platforms.discord.adapter import DiscordAdapter
from bot.settings import Settings
from tests.fakes import discord_gateway as gw
from tests.fakes.fake_discord import FakeDiscord

GUILD = "2000000000000000001"


async def run(channels: int, latency: float, rounds: int) -> int:
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        async with FakeDiscord() as fake:
            ids = [str(2000000000000001000 + index) for index in range(channels)]
            fake.add_guild(gw.guild_create(GUILD, "bench", channels=[gw.text_channel(i, f"c{i[-3:]}", GUILD)
                                                                     for i in ids]))
            settings = Settings(_env_file=None, database_url=url, discord_token=fake.token,
                                discord_api_url=fake.api_base)
            bot = await create_bot(settings, database_url=url, clock=SystemClock())
            adapter = DiscordAdapter(settings, connect_gateway=False)
            bot.add_adapter(adapter)
            await bot.start(run_scheduler=False)
            try:
                refs = [ChannelRef("discord", GUILD, i) for i in ids]
                message = Outgoing("Bonjour à toutes et à tous ! " * 10, post_as=PostAs("Marie Dubois"),
                                   footnote="Traduit de l'anglais", original="Hello everyone! " * 10, kind="relay")
                await asyncio.gather(*(adapter.post(ref, message) for ref in refs))  # webhooks made once
                fake.set_latency("POST /webhooks/*", latency)
                walls, cpus = [], []
                for _ in range(rounds):
                    started, cpu = time.perf_counter(), time.process_time()
                    await asyncio.gather(*(adapter.post(ref, message) for ref in refs))
                    walls.append(time.perf_counter() - started)
                    cpus.append(time.process_time() - cpu)
                wall, cpu_per_post = statistics.median(walls), statistics.median(cpus) / channels
                ratio = wall / latency
                print(f"fan-out to {channels} channels, {latency * 1000:.0f} ms per webhook call: "
                      f"median {wall * 1000:.0f} ms per round ({ratio:.2f}× the floor), "
                      f"{cpu_per_post * 1000:.2f} ms of the bot's CPU per post (includes the fake's)")
                if ratio > 3:
                    failures.append(f"a round took {ratio:.2f}× the floor (bound 3×)")
                if cpu_per_post > 0.005:
                    failures.append(f"{cpu_per_post * 1000:.2f} ms CPU per post (bound 5 ms)")

                # One channel answers 429 "retry after 1 s": the others must not wait for it.
                fake.set_latency("POST /webhooks/*", 0)
                slow_hook = next(hook for hook in fake.webhooks.values() if hook["channel_id"] == ids[0])
                fake.fail_next(f"POST /webhooks/{slow_hook['id']}/*", 429, retry_after=1.0)
                finished: dict[str, float] = {}

                async def timed(ref: ChannelRef) -> None:
                    await adapter.post(ref, message)
                    finished[ref.channel] = time.perf_counter() - started

                started = time.perf_counter()
                await asyncio.gather(*(timed(ref) for ref in refs))
                others = max(seconds for channel, seconds in finished.items() if channel != ids[0])
                print(f"one channel rate-limited for 1 s: it finished after {finished[ids[0]]:.2f} s, "
                      f"the other {channels - 1} within {others * 1000:.0f} ms")
                if finished[ids[0]] < 1.0:
                    failures.append("the rate-limited channel did not wait its retry_after")
                if others > 0.5:
                    failures.append(f"the other channels waited {others:.2f} s for the rate-limited one")
            finally:
                await bot.stop()
                await bot.db.dispose()
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=25)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    return asyncio.run(run(args.channels, args.latency, args.rounds))


if __name__ == "__main__":
    sys.exit(main())
