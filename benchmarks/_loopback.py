"""Loopback pieces shared by the relay benchmarks (fanout, throughput, fault_run).

- `FakeChat`: a chat platform on 127.0.0.1 — post, edit, delete, DM — answering after an injected
  latency, optionally with random 429 (Retry-After) and 500 answers, and deduplicating posts by
  nonce the way Discord does with `enforce_nonce`. It records every post it accepted.
- `LoopbackAdapter`: the bot's adapter for it (aiohttp), plus an inbound `POST /events` endpoint
  that acknowledges a message once `bot.handle` returned, i.e. once it is stored — the way Slack's
  Events API is answered. A sender that gets no answer sends again with the same event id.
- `python benchmarks/_loopback.py fakes …`: FakeChat and the fake DeepL in a process of their own.
- `python benchmarks/_loopback.py bot …`: the whole bot as `icc-bot console` assembles it (demo
  network, DeepL translator with language detection loaded) plus this platform, in a process
  whose peak RSS can be measured and which can be killed and restarted on the same database.

The benchmark network lives on platform `loop`: groups `bench-NN`, channels `bench-NN-<lang>-<k>`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web

from bot.events import Author, ChannelRef, MessagePosted, PersonRef
from bot.outbound import Adapter, DeliveryError, Outgoing

PLATFORM = "loop"
WORKSPACE = "bench"
LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "uk", "pl", "nl", "el")
# A sentence per language that the local detector recognises with confidence; the fake DeepL
# "translates" by prefixing the target code, so any text does.
SENTENCES = {
    "en": "Good morning everyone, we are starting a new campaign with the schools of our city next week",
    "fr": "Bonjour à tous, nous lançons la semaine prochaine une nouvelle campagne avec les écoles de la ville",
    "de": "Guten Morgen zusammen, nächste Woche starten wir mit den Schulen unserer Stadt eine neue Kampagne",
    "es": "Buenos días a todos, la semana que viene empezamos una nueva campaña con las escuelas de la ciudad",
}


def channel_name(group: int, language: str, index: int) -> str:
    return f"bench-{group:02d}-{language}-{index}"


def network(groups: int, channels_per_language: int, languages: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """group slug → [(channel id, language)]."""
    return {f"bench-{g:02d}": [(channel_name(g, language, k), language) for language in languages
                               for k in range(channels_per_language)]
            for g in range(groups)}


# ---- the fake platform ---------------------------------------------------------------------------


class FakeChat:
    def __init__(self, *, latency: float = 0.04, fail_429: float = 0.0, fail_500: float = 0.0,
                 retry_after: float = 0.5, enforce_nonce: bool = True, seed: int = 1) -> None:
        self.latency = latency
        self.fail_429 = fail_429
        self.fail_500 = fail_500
        self.retry_after = retry_after
        self.enforce_nonce = enforce_nonce
        self.random = random.Random(seed)
        self.posts: list[dict[str, Any]] = []
        self.edits = 0
        self.deletes = 0
        self.faults = {"429": 0, "500": 0}
        self.nonce_repeats = 0
        self.lookups = 0
        self.found = 0
        self._nonces: dict[str, str] = {}
        self._ids = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, port: int = 0) -> FakeChat:
        app = web.Application()
        app.router.add_post("/channels/{channel}/messages", self._post)
        app.router.add_get("/channels/{channel}/messages", self._find)
        app.router.add_patch("/channels/{channel}/messages/{id}", self._edit)
        app.router.add_delete("/channels/{channel}/messages/{id}", self._delete)
        app.router.add_post("/users/{user}/messages", self._post)
        app.router.add_get("/_posts", self._dump)
        app.router.add_get("/_stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port, backlog=1024).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _answer_fault(self) -> web.Response | None:
        await asyncio.sleep(self.latency)
        roll = self.random.random()
        if roll < self.fail_429:
            self.faults["429"] += 1
            return web.json_response({"message": "You are being rate limited.", "retry_after": self.retry_after},
                                     status=429, headers={"Retry-After": str(self.retry_after)})
        if roll < self.fail_429 + self.fail_500:
            self.faults["500"] += 1
            return web.json_response({"message": "Internal Server Error"}, status=500)
        return None

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        fault = await self._answer_fault()
        if fault is not None:
            return fault
        nonce = body.get("nonce")
        if self.enforce_nonce and nonce and nonce in self._nonces:
            self.nonce_repeats += 1  # a retry of a post we accepted: the same message, not a new one
            return web.json_response({"id": self._nonces[nonce]})
        self._ids += 1
        message_id = str(self._ids)
        if nonce:
            self._nonces[nonce] = message_id
        target = request.match_info.get("channel") or "@" + request.match_info["user"]
        self.posts.append({"channel": target, "id": message_id, "text": body.get("text", ""),
                           "footnote": body.get("footnote"), "thread_id": body.get("thread_id"),
                           "username": body.get("username"), "key": body.get("key"), "at": time.monotonic()})
        return web.json_response({"id": message_id})

    async def _find(self, request: web.Request) -> web.Response:
        """Recent messages of a channel carrying a key (Slack: metadata in conversations.history)."""
        await asyncio.sleep(self.latency)
        self.lookups += 1
        channel, key = request.match_info["channel"], request.query.get("key")
        found = [post["id"] for post in self.posts if post["channel"] == channel and key and post["key"] == key]
        self.found += bool(found)
        return web.json_response({"messages": [{"id": message_id} for message_id in found]})

    async def _edit(self, request: web.Request) -> web.Response:
        fault = await self._answer_fault()
        if fault is not None:
            return fault
        self.edits += 1
        return web.json_response({"id": request.match_info["id"]})

    async def _delete(self, request: web.Request) -> web.Response:
        fault = await self._answer_fault()
        if fault is not None:
            return fault
        self.deletes += 1
        return web.Response(status=204)

    async def _dump(self, request: web.Request) -> web.Response:
        return web.json_response(self.posts)

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({"posts": len(self.posts), "edits": self.edits, "deletes": self.deletes,
                                  "faults": self.faults, "nonce_repeats": self.nonce_repeats,
                                  "lookups": self.lookups, "found": self.found})


# ---- the adapter ---------------------------------------------------------------------------------


class LoopbackAdapter(Adapter):
    platform = PLATFORM
    max_message_chars = 2000
    post_rate_per_second = 50.0
    post_burst = 50

    def __init__(self, chat_url: str, *, listen_port: int | None = None, timeout: float = 10.0,
                 send_nonce: bool = True) -> None:
        self.chat_url = chat_url.rstrip("/")
        self.listen_port = listen_port
        self.timeout = timeout
        self.send_nonce = send_nonce
        self.bot: Any = None
        self.posted: list[tuple[str, str, float]] = []  # (channel, text, when the post was answered)
        self.post_listeners: list[Any] = []
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    async def start(self, bot: Any) -> None:
        self.bot = bot
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
        self._session = aiohttp.ClientSession(connector=connector,
                                              timeout=aiohttp.ClientTimeout(total=self.timeout))
        if self.listen_port is not None:
            app = web.Application()
            app.router.add_post("/events", self._event)
            self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.listen_port, backlog=1024).start()
            self.listen_port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _event(self, request: web.Request) -> web.Response:
        body = await request.json()
        author = Author(PersonRef(PLATFORM, WORKSPACE, body["user"]), body["name"],
                        body.get("avatar"), is_bot=body.get("bot", False))
        event = MessagePosted(ChannelRef(PLATFORM, WORKSPACE, body["channel"]), body["message_id"], author,
                              body["text"], event_id=body.get("event_id"), from_bot=body.get("bot", False))
        await self.bot.handle(event)  # returns once the message is stored: acknowledge
        return web.json_response({"ok": True})

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        assert self._session is not None
        try:
            async with self._session.request(method, self.chat_url + path, json=payload) as response:
                if response.status == 429:
                    raise DeliveryError("rate limited", retry_after=float(response.headers.get("Retry-After", "1")))
                if response.status >= 500:
                    raise DeliveryError(f"server error {response.status}")
                if response.status >= 400:
                    raise DeliveryError(f"refused ({response.status})", permanent=True)
                return await response.json() if response.status != 204 else {}
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(f"network: {type(error).__name__}") from None

    @staticmethod
    def _payload(message: Outgoing, nonce: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {"text": message.text, "footnote": message.footnote, "thread_id": message.thread_id,
                                   "username": message.post_as.name if message.post_as else None,
                                   "key": message.delivery_key}
        if nonce and message.delivery_key:
            payload["nonce"] = message.delivery_key
            payload["enforce_nonce"] = True
        return payload

    async def post(self, channel: ChannelRef, message: Outgoing) -> str:
        answer = await self._call("POST", f"/channels/{channel.channel}/messages",
                                  self._payload(message, self.send_nonce))
        self.posted.append((channel.channel, message.text, time.monotonic()))
        for listener in self.post_listeners:
            listener(channel.channel, message.text)
        return str(answer["id"])

    async def find_posted(self, channel: ChannelRef, delivery_key: str) -> str | None:
        assert self._session is not None
        try:
            async with self._session.get(f"{self.chat_url}/channels/{channel.channel}/messages",
                                         params={"key": delivery_key}) as response:
                found = (await response.json()).get("messages", []) if response.status == 200 else []
        except (aiohttp.ClientError, TimeoutError):
            raise DeliveryError("network: lookup failed") from None  # cannot tell: try again later
        return str(found[0]["id"]) if found else None

    async def edit(self, channel: ChannelRef, message_id: str, message: Outgoing) -> None:
        await self._call("PATCH", f"/channels/{channel.channel}/messages/{message_id}", self._payload(message, False))

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        await self._call("DELETE", f"/channels/{channel.channel}/messages/{message_id}")

    async def send_dm(self, person: PersonRef, message: Outgoing) -> str:
        answer = await self._call("POST", f"/users/{person.user}/messages", self._payload(message, self.send_nonce))
        return str(answer["id"])

    async def post_ephemeral(self, channel: ChannelRef, person: PersonRef, text: str) -> None:
        return None


async def add_network(bot: Any, groups: dict[str, list[tuple[str, str]]], lead: str | None = None) -> None:
    """Create the benchmark groups and link their channels (once per database)."""
    from sqlmodel import select

    from bot.permissions import Role
    from storage.models import Channel, Group, Person
    from storage.queries import registry

    now = bot.clock.now()
    async with bot.db.session() as session:
        existing = {group.slug for group in (await session.exec(select(Group))).all()}
        for slug, channels in groups.items():
            if slug in existing:
                continue
            group = Group(slug=slug, name=slug, kind="thematic", created_at=now)
            session.add(group)
            await session.flush()
            for channel_id, language in channels:
                session.add(Channel(platform=PLATFORM, workspace=WORKSPACE, channel_id=channel_id, name=channel_id,
                                    language=language, group_id=group.id, linked_at=now))
            if lead is not None:
                person = await registry.get_person(session, PLATFORM, WORKSPACE, lead)
                if person is None:
                    person = Person(platform=PLATFORM, workspace=WORKSPACE, user_id=lead, display_name="Lead",
                                    language="en", created_at=now)
                    session.add(person)
                    await session.flush()
                assert person.id is not None and group.id is not None
                await registry.grant_role(session, person.id, Role.GROUP_LEAD, group_id=group.id,
                                          granted_by_id=None, now=now)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


# ---- processes -----------------------------------------------------------------------------------


async def serve_fakes(args: argparse.Namespace) -> None:
    from tests.fakes.fake_deepl import FakeDeepL

    chat = await FakeChat(latency=args.post_latency, fail_429=args.fail_429, fail_500=args.fail_500,
                          retry_after=args.retry_after, enforce_nonce=not args.no_nonce, seed=args.seed).start()
    deepl = FakeDeepL(args.deepl_key, character_limit=10**12)
    deepl.set_latency(args.deepl_latency, "/v2/translate")
    await deepl.start()
    faults = random.Random(args.seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(json.dumps({"chat": chat.url, "deepl": deepl.url}), flush=True)

    async def deepl_faults() -> None:
        # Every so often the next request(s) fail: 429, 503, a hang past the client's timeout, or 456.
        while args.deepl_fault_every > 0:
            await asyncio.sleep(faults.uniform(0.5, 1.5) * args.deepl_fault_every)
            kind = faults.choice(("429", "503", "hang", "456"))
            if kind == "hang":
                deepl.hang_next(args.deepl_hang, times=1, path="/v2/translate")
            else:
                deepl.fail_next(int(kind), times=faults.randint(1, 3), path="/v2/translate")

    task = asyncio.create_task(deepl_faults())
    reader = loop.run_in_executor(None, sys.stdin.read)
    await asyncio.wait([asyncio.create_task(stop.wait()), reader], return_when=asyncio.FIRST_COMPLETED)
    task.cancel()
    print(json.dumps({"chat": await _stats_of(chat), "deepl_requests": len(deepl.translate_calls)}), flush=True)
    await chat.stop()
    await deepl.stop()
    os._exit(0)  # the stdin reader thread may still be blocked


async def _stats_of(chat: FakeChat) -> dict[str, Any]:
    return {"posts": len(chat.posts), "faults": chat.faults, "nonce_repeats": chat.nonce_repeats,
            "lookups": chat.lookups, "found": chat.found}


async def run_bot(args: argparse.Namespace) -> None:
    """The bot process: `icc-bot console`'s assembly plus the loopback platform."""
    from datetime import timedelta

    from bot.app import console_bot
    from bot.relay.outbox import Outbox
    from bot.settings import Settings

    settings = Settings(_env_file=None, deepl_auth_key=args.deepl_key, deepl_server_url=args.deepl)
    with open(os.devnull, "w") as devnull:  # noqa: ASYNC230 (once, before anything runs)
        async with console_bot(settings, database_path=Path(args.db), output=devnull) as (the_bot, _console):
            outbox = the_bot.service(Outbox)
            outbox.lease = timedelta(seconds=args.lease)
            adapter = LoopbackAdapter(args.chat, listen_port=args.port, send_nonce=not args.no_nonce)
            the_bot.add_adapter(adapter)
            await adapter.start(the_bot)
            groups = network(args.groups, args.per_language, LANGUAGES[:args.languages])
            await add_network(the_bot, groups, lead="lead")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await outbox.pump()  # whatever a previous run left
            print(json.dumps({"ready": adapter.listen_port}), flush=True)
            await stop.wait()
            pending = await _pending(the_bot)
        print(json.dumps({"stopped": True, "pending": pending, "peak_rss_mb": round(peak_rss_mb(), 1)}), flush=True)


async def _pending(the_bot: Any) -> int:
    from sqlmodel import func, select

    from storage.models import OutboxItem

    async with the_bot.db.session() as session:
        result = await session.exec(select(func.count()).select_from(OutboxItem).where(OutboxItem.state == "pending"))
        return int(result.one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    fakes = commands.add_parser("fakes", help="FakeChat and the fake DeepL; prints their URLs, stops at stdin EOF")
    fakes.add_argument("--post-latency", type=float, default=0.04)
    fakes.add_argument("--deepl-latency", type=float, default=0.08)
    fakes.add_argument("--deepl-key", default="bench-key:fx")
    fakes.add_argument("--fail-429", type=float, default=0.0)
    fakes.add_argument("--fail-500", type=float, default=0.0)
    fakes.add_argument("--retry-after", type=float, default=0.5)
    fakes.add_argument("--deepl-fault-every", type=float, default=0.0, help="seconds between DeepL faults")
    fakes.add_argument("--deepl-hang", type=float, default=7.0)
    fakes.add_argument("--no-nonce", action="store_true", help="do not deduplicate posts by nonce")
    fakes.add_argument("--seed", type=int, default=1)
    bot = commands.add_parser("bot", help="the bot on the console plus the loopback platform")
    bot.add_argument("--db", required=True)
    bot.add_argument("--chat", required=True)
    bot.add_argument("--deepl", required=True)
    bot.add_argument("--deepl-key", default="bench-key:fx")
    bot.add_argument("--port", type=int, default=0)
    bot.add_argument("--groups", type=int, default=20)
    bot.add_argument("--languages", type=int, default=4)
    bot.add_argument("--per-language", type=int, default=1)
    bot.add_argument("--lease", type=float, default=60.0)
    bot.add_argument("--no-nonce", action="store_true")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_fakes(args) if args.command == "fakes" else run_bot(args))


if __name__ == "__main__":
    main()
