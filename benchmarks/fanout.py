"""Fan-out: one message into a group of 40 channels in 10 languages, until the last copy is posted.

The bot runs here, as `create_bot` assembles it (SQLite file, DeepL translator with local language
detection), with the loopback chat platform; the fake DeepL (80 ms a request) and the fake chat
platform (40 ms a post) run in a process of their own. Each message is new text in an English
channel: the 3 other English channels get it as is, the 36 others need 9 translations.

For each of the measured messages: the time from `bot.handle(message)` (the adapter hands it
over) until the 39th copy's post is answered. The floor is one DeepL round trip plus one post
round trip, measured on the same clients; the bound is p99 <= 1.5 x floor.

    .venv/bin/python benchmarks/fanout.py [--messages 200] [--database-url postgresql+psycopg://…]
                                          [--deepl-workers 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import deepl

from benchmarks._loopback import LANGUAGES, SENTENCES, LoopbackAdapter, add_network, channel_name, network
from bot.app import create_bot
from bot.clock import SystemClock
from bot.events import Author, ChannelRef, MessagePosted, PersonRef
from bot.outbound import Outgoing
from bot.settings import Settings

BOUND = 1.5
NOMINAL_FLOOR = 0.080 + 0.040
KEY = "bench-key:fx"


def start_fakes(post_latency: float, deepl_latency: float) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_loopback.py")), "fakes",
                                "--post-latency", str(post_latency), "--deepl-latency", str(deepl_latency),
                                "--deepl-key", KEY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def stop_fakes(process: subprocess.Popen[str]) -> dict[str, object]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.close()
    line = process.stdout.readline()
    process.wait(10)
    return json.loads(line) if line else {}


async def floor(adapter: LoopbackAdapter, deepl_url: str, samples: int = 20) -> tuple[float, float]:
    """Median DeepL round trip (the deepl client, from a thread, as the bot calls it) and median
    post round trip (this adapter)."""
    translator = deepl.Translator(KEY, server_url=deepl_url)
    translations, posts = [], []
    for n in range(samples):
        start = time.monotonic()
        await asyncio.to_thread(translator.translate_text, f"floor sample {n}", target_lang="FR")
        translations.append(time.monotonic() - start)
        start = time.monotonic()
        await adapter.post(ChannelRef("loop", "bench", "floor"), Outgoing(f"floor sample {n}"))
        posts.append(time.monotonic() - start)
    translator.close()
    return statistics.median(translations), statistics.median(posts)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def run(messages: int, warmup: int, database_url: str | None, deepl_workers: int | None) -> int:
    fakes, urls = start_fakes(0.040, 0.080)
    try:
        with tempfile.TemporaryDirectory(prefix="icc-fanout-") as scratch:
            url = database_url or f"sqlite:///{Path(scratch) / 'fanout.db'}"
            settings = Settings(_env_file=None, database_url=url, deepl_auth_key=KEY, deepl_server_url=urls["deepl"])
            if deepl_workers is not None:  # otherwise DEEPL_MAX_WORKERS's default
                settings = settings.model_copy(update={"deepl_max_workers": deepl_workers})
            bot = await create_bot(settings, database_url=url, clock=SystemClock())
            adapter = LoopbackAdapter(urls["chat"])
            bot.add_adapter(adapter)
            await bot.start()
            try:
                await add_network(bot, network(1, 4, LANGUAGES))
                latencies = await fan_out(bot, adapter, messages, warmup)
                deepl_rtt, post_rtt = await floor(adapter, urls["deepl"])
            finally:
                await bot.stop()
                await bot.db.dispose()
    finally:
        stats = stop_fakes(fakes)
    measured_floor = deepl_rtt + post_rtt
    p50, p90, p99 = (percentile(latencies, q) for q in (0.50, 0.90, 0.99))
    requests = int(stats.get("deepl_requests", 0))  # type: ignore[call-overload]
    print(f"fan-out: 1 message -> 39 copies (40 channels, 10 languages), {messages} messages measured "
          f"after {warmup} warm-up")
    print(f"floor: DeepL round trip {deepl_rtt * 1000:.1f} ms + post round trip {post_rtt * 1000:.1f} ms "
          f"= {measured_floor * 1000:.1f} ms (nominal {NOMINAL_FLOOR * 1000:.0f} ms)")
    print(f"time to the last copy: p50 {p50 * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms")
    print(f"ratio to the floor: p50 {p50 / measured_floor:.2f}, p99 {p99 / measured_floor:.2f} "
          f"(to the nominal floor: p50 {p50 / NOMINAL_FLOOR:.2f}, p99 {p99 / NOMINAL_FLOOR:.2f}); bound p99 <= {BOUND}")
    print(f"DeepL translate requests: {requests - 20} for {messages + warmup} messages "
          f"({(requests - 20) / (messages + warmup):.2f} per message; 9 target languages)")
    if p99 > BOUND * measured_floor:
        print(f"FAIL: p99 is {p99 / measured_floor:.2f} x the floor")
        return 1
    print("OK")
    return 0


async def fan_out(bot: object, adapter: LoopbackAdapter, messages: int, warmup: int) -> list[float]:
    source = ChannelRef("loop", "bench", channel_name(0, "en", 0))
    author = Author(PersonRef("loop", "bench", "ana"), "Ana Souza", "https://example.org/ana.png")
    copies: dict[str, int] = {}
    done: dict[str, asyncio.Event] = {}
    finished: dict[str, float] = {}

    def on_post(channel: str, text: str) -> None:
        token = text.rsplit("(", 1)[-1].rstrip(")")
        if token in done:
            copies[token] = copies.get(token, 0) + 1
            if copies[token] == 39:
                finished[token] = time.monotonic()
                done[token].set()

    adapter.post_listeners.append(on_post)
    latencies = []
    for index in range(warmup + messages):
        token = f"message {index}"
        done[token] = asyncio.Event()
        event = MessagePosted(source, f"src-{index}", author, f"{SENTENCES['en']} ({token})", event_id=f"ev-{index}")
        start = time.monotonic()
        await bot.handle(event)  # type: ignore[attr-defined]
        await asyncio.wait_for(done[token].wait(), 30)
        if index >= warmup:
            latencies.append(finished[token] - start)
        await bot.wait_idle()  # type: ignore[attr-defined]
        await asyncio.sleep(0.01)
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--deepl-workers", type=int, help="DEEPL_MAX_WORKERS (default: the setting's default)")
    args = parser.parse_args()
    return asyncio.run(run(args.messages, args.warmup, args.database_url, args.deepl_workers))


if __name__ == "__main__":
    sys.exit(main())
