"""Fault run: 1,000 messages through faults and a crash; every copy must arrive exactly once.

The fake platforms answer at random with faults — the chat platform 429 (with Retry-After) and
500 on some posts, DeepL 429, 503, 456 (quota) or a hang longer than the client's timeout every
couple of seconds — while this script sends 1,000 messages to the bot over HTTP (each sent
again, with the same event id, until it is acknowledged). Half-way, the bot process is stopped
— `kill -9` by default, `--graceful` for SIGTERM — and started again on the same database;
messages sent meanwhile are refused and sent again. At the end, copies of the bot's own posts are
fed back to it (flagged as a bot's, and not flagged) to make sure nothing loops.

Checks: each message reached every other channel of its group exactly once and no channel
outside it, each copy is translated or carries the untranslated note, nothing is left pending,
and the echoes produced nothing. The window between a platform accepting a post and the bot
writing it down is closed two ways, and the run prints how often each caught a post that had
been made before the crash: a process taking over a lane whose holder died asks the platform
for the delivery's key first (`Adapter.find_posted`; Slack can look up message metadata), and
the platform deduplicates by nonce as Discord does with `enforce_nonce` (`--no-nonce` turns
that off). Exits 1 when a check fails.

    .venv/bin/python benchmarks/fault_run.py [--messages 1000] [--graceful] [--no-nonce]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from benchmarks.throughput import LANGUAGE_COUNT, Processes, all_posts, check_copies, messages_for, send
from bot.i18n import available_locales
from bot.translation import NotTranslated
from bot.translation.notes import note_for

# Every untranslated note in the languages the destinations' footnotes are written in.
NOTES = {note for reason in NotTranslated for locale in available_locales()
         if (note := note_for(reason, locale, "el"))}


async def run(count: int, groups: int, graceful: bool, nonce: bool, seed: int) -> int:
    messages = messages_for(count, groups, seed)
    fakes_args = ["--fail-429", "0.04", "--fail-500", "0.04", "--retry-after", "0.3", "--deepl-fault-every", "2",
                  "--deepl-hang", "7", "--seed", str(seed)] + ([] if nonce else ["--no-nonce"])
    bot_args = ["--lease", "3"] + ([] if nonce else ["--no-nonce"])
    expected = count * (LANGUAGE_COUNT - 1)
    with tempfile.TemporaryDirectory(prefix="icc-fault-run-") as scratch:
        processes = Processes(Path(scratch), groups, fakes_args, bot_args)
        try:
            processes.start_fakes()
            processes.start_bot()
            start = time.monotonic()
            acked = 0
            half_way = asyncio.Event()
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=5)) as session:
                async def sender(batch: list[dict[str, Any]]) -> None:
                    nonlocal acked
                    for message in batch:
                        await send(session, lambda: processes.bot_port,
                                   {k: v for k, v in message.items() if k != "group"})
                        acked += 1
                        if acked >= count // 2:
                            half_way.set()

                async def crash() -> None:
                    await half_way.wait()
                    await asyncio.to_thread(processes.stop_bot if graceful else processes.kill_bot)
                    await asyncio.sleep(1.0)  # the senders meet a closed door and retry
                    await asyncio.to_thread(processes.start_bot)

                by_group: dict[str, list[dict[str, Any]]] = {}
                for message in messages:
                    by_group.setdefault(message["group"], []).append(message)
                await asyncio.gather(crash(), *(sender(batch) for batch in by_group.values()))
                intake = time.monotonic() - start
                delivered = await wait_until(processes.urls["chat"], expected, timeout=900)
                posts = await all_posts(processes.urls["chat"])
                echoes = await echo_copies(session, processes.bot_port, posts, random.Random(seed))
                await asyncio.sleep(3)  # anything the echoes caused, or a late duplicate, would show now
                final = await all_posts(processes.urls["chat"])
            report = processes.stop_bot()
            fakes = processes.stop_fakes()
        finally:
            processes.close()
    problems = check_copies(final, messages, groups)
    if len(final) != len(posts):
        problems.append(f"{len(final) - len(posts)} posts came after every copy was delivered (echoes relayed?)")
    copies = [post for post in final if not post["channel"].startswith("@")]
    translated = [post for post in copies if post["text"].startswith("[")]  # the fake's translation
    noted = [post for post in copies if not post["text"].startswith("[") and any(
        note in (post.get("footnote") or "") for note in NOTES)]
    if len(translated) + len(noted) != len(copies):
        odd = [(post["text"][:30], post.get("footnote")) for post in copies
               if post not in translated and post not in noted]
        problems.append(f"{len(odd)} copies neither translated nor carrying the note, e.g. {odd[:3]}")
    if report.get("pending") != 0:
        problems.append(f"{report.get('pending')} outbox items still pending")
    chat = fakes.get("chat", {})
    faults = chat.get("faults", {})
    reports = Counter(post["channel"] for post in final if post["channel"].startswith("@"))
    print(f"fault run: {count} messages, {groups} groups of {LANGUAGE_COUNT} channels, {expected} copies expected; "
          f"bot {'stopped (SIGTERM)' if graceful else 'killed (SIGKILL)'} after {count // 2} "
          "acknowledged and started again")
    print(f"faults injected: chat 429 x{faults.get('429')}, chat 500 x{faults.get('500')}; DeepL 429/503/456/hang "
          f"every ~2 s ({fakes.get('deepl_requests')} DeepL requests in all)")
    print(f"all messages acknowledged after {intake:.1f} s; every copy delivered after {delivered:.1f} s")
    print(f"copies: {len(copies)} posted — {len(translated)} translated, {len(noted)} with the untranslated note; "
          f"{echoes} echoes of our own copies fed back")
    print(f"after the crash: {chat.get('lookups')} deliveries in doubt looked up on the platform, "
          f"{chat.get('found')} found posted already (not posted again); "
          f"{chat.get('nonce_repeats')} repeats caught by the platform's nonce" + ("" if nonce else " (nonce off)"))
    print(f"failure reports sent to group leads: {sum(reports.values())}")
    print(f"outbox after the run: {report.get('pending')} pending")
    if problems:
        for problem in problems:
            print(f"FAIL: {problem}")
        return 1
    print("OK: every message delivered exactly once to every channel of its group, none outside it, no loop")
    return 0


async def wait_until(chat_url: str, expected: int, timeout: float) -> float:
    start = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while time.monotonic() - start < timeout:
            async with session.get(f"{chat_url}/_stats") as response:
                if (await response.json())["posts"] >= expected:
                    return time.monotonic() - start
            await asyncio.sleep(0.1)
    raise TimeoutError("not every copy was delivered in time")


async def echo_copies(session: aiohttp.ClientSession, port: int, posts: list[dict[str, Any]],
                      rng: random.Random) -> int:
    """Feed some of our own copies back to the bot, as a platform reports every post in a channel:
    half flagged as a bot's post, half not (an adapter that missed the flag)."""
    copies = [post for post in posts if not post["channel"].startswith("@")]
    sample = rng.sample(copies, min(100, len(copies)))
    for index, post in enumerate(sample):
        await send(session, lambda: port, {"channel": post["channel"], "message_id": post["id"],
                                           "user": "bot", "name": post.get("username") or "bot",
                                           "text": post["text"], "event_id": f"echo-{index}",
                                           "bot": index % 2 == 0})
    return len(sample)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--graceful", action="store_true", help="stop the bot with SIGTERM instead of SIGKILL")
    parser.add_argument("--no-nonce", action="store_true", help="the platform does not deduplicate by nonce")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    return asyncio.run(run(args.messages, args.groups, args.graceful, not args.no_nonce, args.seed))


if __name__ == "__main__":
    sys.exit(main())
