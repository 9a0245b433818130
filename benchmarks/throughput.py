"""Throughput: 2,000 messages across 20 groups, sent as fast as the bot takes them in.

Three processes: the fake platforms (chat posts answer in 40 ms, DeepL in 80 ms), the bot — as
`icc-bot console` assembles it, demo network and local language detection loaded, plus the
loopback chat platform — and this script, which sends the messages over HTTP the way Slack's
Events API does (each is acknowledged once stored), from one sender per group.

Each group has 4 channels in 4 languages; a message goes to the 3 others (6,000 copies in all).
Prints the intake rate, the rate at which messages are fully delivered, whether the queues
drained (every copy posted exactly once, nothing pending in the outbox), and the bot process's
peak RSS. Exits 1 when a copy is missing or doubled, something stays pending, or the peak RSS
exceeds 250 MB.

    .venv/bin/python benchmarks/throughput.py [--messages 2000] [--groups 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from benchmarks._loopback import LANGUAGES, SENTENCES, network

HERE = Path(__file__).resolve().parent
RSS_BOUND_MB = 250.0
LANGUAGE_COUNT = 4


class Processes:
    """The fakes and the bot, started and stopped in order."""

    def __init__(self, scratch: Path, groups: int, fakes_args: list[str] | None = None,
                 bot_args: list[str] | None = None) -> None:
        self.scratch = scratch
        self.groups = groups
        self.fakes_args = fakes_args or []
        self.bot_args = bot_args or []
        self.fakes: subprocess.Popen[str] | None = None
        self.bot: subprocess.Popen[str] | None = None
        self.urls: dict[str, str] = {}
        self.bot_port = 0

    def start_fakes(self) -> None:
        self.fakes = subprocess.Popen([sys.executable, str(HERE / "_loopback.py"), "fakes", *self.fakes_args],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.fakes.stdout is not None
        self.urls = json.loads(self.fakes.stdout.readline())

    def start_bot(self) -> None:
        self.bot = subprocess.Popen([sys.executable, str(HERE / "_loopback.py"), "bot", "--db",
                                     str(self.scratch / "bot.db"), "--chat", self.urls["chat"], "--deepl",
                                     self.urls["deepl"], "--groups", str(self.groups), "--languages",
                                     str(LANGUAGE_COUNT), "--port", str(self.bot_port), *self.bot_args],
                                    stdout=subprocess.PIPE, text=True)
        assert self.bot.stdout is not None
        line = self.bot.stdout.readline()
        if not line:
            raise RuntimeError("the bot process did not start")
        self.bot_port = json.loads(line)["ready"]

    def stop_bot(self) -> dict[str, Any]:
        """A graceful stop (SIGTERM): returns what the bot reported on its way out."""
        assert self.bot is not None and self.bot.stdout is not None
        self.bot.terminate()
        report: dict[str, Any] = {}
        for line in self.bot.stdout:
            if line.startswith("{") and "stopped" in line:
                report = json.loads(line)
                break
        try:
            self.bot.wait(30)
        except subprocess.TimeoutExpired:
            print("warning: the bot reported its stop but its process did not end within 30 s; killed it",
                  file=sys.stderr)
            self.bot.kill()
            self.bot.wait(10)
        return report

    def kill_bot(self) -> None:
        assert self.bot is not None
        self.bot.kill()
        self.bot.wait(30)

    def stop_fakes(self) -> dict[str, Any]:
        if self.fakes is None:
            return {}
        assert self.fakes.stdin is not None and self.fakes.stdout is not None
        self.fakes.stdin.close()
        line = self.fakes.stdout.readline()
        self.fakes.wait(30)
        return json.loads(line) if line else {}

    def close(self) -> None:
        for process in (self.bot, self.fakes):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)


def messages_for(count: int, groups: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    layout = network(groups, 1, LANGUAGES[:LANGUAGE_COUNT])
    out = []
    for index in range(count):
        slug = f"bench-{index % groups:02d}"
        channel, language = rng.choice(layout[slug])
        out.append({"channel": channel, "message_id": f"src-{index}", "user": f"u{index % 97}",
                    "name": f"Person {index % 97}", "text": f"{SENTENCES[language]} (m{index})",
                    "event_id": f"Ev{index:06d}", "group": slug})
    return out


async def send(session: aiohttp.ClientSession, port: Any, message: dict[str, Any], *, retry_for: float = 600) -> None:
    """POST until acknowledged (the same event id each time, as Slack retries)."""
    deadline = time.monotonic() + retry_for
    while True:
        try:
            async with session.post(f"http://127.0.0.1:{port()}/events", json=message) as response:
                if response.status == 200:
                    return
        except (aiohttp.ClientError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{message['event_id']} was never acknowledged")
        await asyncio.sleep(0.2)


async def wait_for_posts(chat_url: str, expected: int, timeout: float) -> float:
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            async with session.get(f"{chat_url}/_stats") as response:
                if (await response.json())["posts"] >= expected:
                    return time.monotonic()
            await asyncio.sleep(0.05)
    raise TimeoutError("not every copy was posted in time")


async def all_posts(chat_url: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"{chat_url}/_posts") as response:
        return list(await response.json())


def check_copies(posts: list[dict[str, Any]], messages: list[dict[str, Any]], groups: int) -> list[str]:
    """Every message exactly once in every other channel of its group; nothing else."""
    layout = network(groups, 1, LANGUAGES[:LANGUAGE_COUNT])
    problems = []
    seen = Counter()
    for post in posts:
        if post["channel"].startswith("@"):
            continue  # a report to a group lead
        token = post["text"].rsplit("(", 1)[-1].rstrip(")")
        seen[(post["channel"], token)] += 1
    expected = set()
    for index, message in enumerate(messages):
        for channel, _language in layout[message["group"]]:
            if channel != message["channel"]:
                expected.add((channel, f"m{index}"))
    missing = expected - set(seen)
    extra = set(seen) - expected
    doubled = [key for key, count in seen.items() if count > 1]
    if missing:
        problems.append(f"{len(missing)} copies missing, e.g. {sorted(missing)[:3]}")
    if extra:
        problems.append(f"{len(extra)} copies where they do not belong (or relayed back), e.g. {sorted(extra)[:3]}")
    if doubled:
        problems.append(f"{len(doubled)} copies posted more than once, e.g. {sorted(doubled)[:3]}")
    return problems


async def feed(port: Any, messages: list[dict[str, Any]], senders: int) -> float:
    """One sender per group, each sending its messages one after another; returns when all are acked."""
    by_group: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        by_group.setdefault(message["group"], []).append(message)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        async def sender(batch: list[dict[str, Any]]) -> None:
            for message in batch:
                await send(session, port, {k: v for k, v in message.items() if k != "group"})

        start = time.monotonic()
        await asyncio.gather(*(sender(batch) for batch in list(by_group.values())[:senders]))
        return time.monotonic() - start


async def run(count: int, groups: int, seed: int) -> int:
    messages = messages_for(count, groups, seed)
    with tempfile.TemporaryDirectory(prefix="icc-throughput-") as scratch:
        processes = Processes(Path(scratch), groups)
        try:
            processes.start_fakes()
            processes.start_bot()
            start = time.monotonic()
            intake = await feed(lambda: processes.bot_port, messages, groups)
            done = await wait_for_posts(processes.urls["chat"], count * (LANGUAGE_COUNT - 1), timeout=600)
            await asyncio.sleep(0.5)  # anything posted twice would show now
            posts = await all_posts(processes.urls["chat"])
            report = processes.stop_bot()
            fakes = processes.stop_fakes()
        finally:
            processes.close()
    elapsed = done - start
    problems = check_copies(posts, messages, groups)
    copies = count * (LANGUAGE_COUNT - 1)
    rss = float(report.get("peak_rss_mb", 0))
    pending = report.get("pending")
    print(f"throughput: {count} messages in {groups} groups of {LANGUAGE_COUNT} channels ({LANGUAGE_COUNT} "
          f"languages), {copies} copies; DeepL 80 ms, a post 40 ms")
    print(f"intake: {count / intake:.0f} messages/s acknowledged (all stored in {intake:.2f} s)")
    print(f"delivery: every copy posted after {elapsed:.2f} s: {count / elapsed:.0f} messages/s, "
          f"{copies / elapsed:.0f} copies/s sustained")
    print(f"DeepL translate requests: {fakes.get('deepl_requests')} for {count} messages x 3 target languages "
          "(texts arriving together share a request)")
    verdict = "exactly once each" if not problems else "; ".join(problems)
    print(f"queues: {pending} outbox items pending after the run; copies: {verdict}")
    print(f"peak RSS of the bot process: {rss:.0f} MB (bound {RSS_BOUND_MB:.0f} MB)")
    failed = bool(problems) or pending != 0 or not 0 < rss <= RSS_BOUND_MB
    print("FAIL" if failed else "OK")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    return asyncio.run(run(args.messages, args.groups, args.seed))


if __name__ == "__main__":
    sys.exit(main())
