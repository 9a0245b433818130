"""The console: a local chat in the terminal (or a script on stdin) with the demo network.

Input, one line each:
    @person #channel text           a message (or a command, when it starts with /icc)
    @person /icc …                  a command outside any channel (answers come as DMs)
    @person #channel !reply REF text    a reply in REF's thread
    @person #channel !edit REF text     @person #channel !delete REF
    @person #channel +flag-fr REF       a reaction      @person #channel !translate REF
    @person [#channel] !press REF N     press button N of message REF
    @person !home                       the person's home page (Slack's App Home)
    !clock +3d | !clock 2027-01-10T09:30Z | !clock      move (or show) the bot's clock
    # a comment
REF is `^` (the channel's last message), `^2` (the one before), or an id such as `m3`/`b7`.

Output, one entry per action of the bot: `[#channel] Author: text` for a post,
`[#channel → @person] text` for an answer only that person sees, `[@person] text` for a DM.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.clock import parse_duration, parse_instant
from bot.core import NotStored, Receivable
from bot.events import (
    Author,
    ButtonPressed,
    ChannelRef,
    CommandInvoked,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PersonRef,
    ReactionAdded,
    TranslateRequested,
)
from bot.outbound import Adapter, Button, Form, Outgoing

if TYPE_CHECKING:
    from bot.core import Bot

PLATFORM = "console"
WORKSPACE = "local"
DM = "@dm"  # pseudo channel for a person's direct messages with the bot

_LINE = re.compile(r"^@(?P<person>[\w.-]+)\s*(?:#(?P<channel>[\w.-]+))?\s*(?P<text>.*)$", re.DOTALL)


@dataclass
class StoredMessage:
    id: str
    channel: str
    author: str
    text: str
    thread_id: str | None = None
    buttons: tuple[Button, ...] = ()
    deleted: bool = False


@dataclass
class ConsoleState:
    """What has been said where, so lines can refer to earlier messages."""

    messages: dict[str, StoredMessage] = field(default_factory=dict)
    user_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    bot_ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add(self, message: StoredMessage) -> None:
        self.messages[message.id] = message

    def resolve(self, channel: str, ref: str) -> StoredMessage | None:
        if ref.startswith("^"):
            back = int(ref[1:] or "1")
            live = [m for m in self.messages.values() if m.channel == channel and not m.deleted]
            return live[-back] if 0 < back <= len(live) else None
        return self.messages.get(ref)


class ConsoleAdapter(Adapter):
    platform = PLATFORM
    max_message_chars = 4000
    post_rate_per_second = 1000.0
    post_burst = 1000
    supports_files = True

    def __init__(self, output: TextIO | None = None, *, bot_name: str = "ICC bot",
                 files_dir: Path | None = None) -> None:
        self.output = output or sys.stdout
        self.bot_name = bot_name
        self.files_dir = files_dir or Path("icc-files")
        """Where attached files (exports) are saved; the output names each file's path."""
        self.state = ConsoleState()
        self.names: dict[str, str] = {}
        self.bot: Bot | None = None
        self.directives: dict[str, Callable[[str], Awaitable[None]]] = {}

    # ---- output ---------------------------------------------------------------------------------

    def emit(self, prefix: str, text: str) -> None:
        first, *more = text.split("\n")
        lines = [f"{prefix} {first}".rstrip()] + [f"    {line}".rstrip() for line in more]
        self.output.write("\n".join(lines) + "\n")
        self.output.flush()

    def _render(self, message: Outgoing, buttons: Sequence[Button]) -> str:
        text = message.text
        if message.footnote:
            text += f"\n({message.footnote})"
        if message.original and message.original != message.text:
            text += "\n" + "\n".join(f"│ {line}" for line in message.original.split("\n"))
        if buttons:
            text += "\n" + " ".join(f"[{index}: {button.label}]" for index, button in enumerate(buttons, 1))
        for attached in message.files:
            path = self._save(attached.name, attached.content)
            text += f"\n📎 {attached.name} ({len(attached.content):,} bytes): {path}"
        return text

    def _save(self, name: str, content: bytes) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^\w.-]", "_", Path(name).name) or "file"
        path = self.files_dir / safe
        path.write_bytes(content)
        return path

    def channel_label(self, channel: ChannelRef) -> str:
        return f"#{channel.channel}"

    def parse_mention(self, word: str) -> str | None:
        match = re.fullmatch(r"@([\w.-]+)", word.strip())
        return match.group(1).lower() if match else super().parse_mention(word)

    async def fetch_message_text(self, channel: ChannelRef, message_id: str) -> str | None:
        stored = self.state.messages.get(message_id)
        return stored.text if stored and not stored.deleted else None

    async def start(self, bot: Bot) -> None:
        self.bot = bot

    async def stop(self) -> None:
        self.bot = None

    async def post(self, channel: ChannelRef, message: Outgoing) -> str:
        message_id = f"b{next(self.state.bot_ids)}"
        author = message.post_as.name if message.post_as else self.bot_name
        self.state.add(StoredMessage(message_id, channel.channel, author, message.text, message.thread_id,
                                     message.buttons))
        where = f"#{channel.channel}" + (f" ↳ {message.thread_id}" if message.thread_id else "")
        self.emit(f"[{where}]", f"{author}: {self._render(message, message.buttons)}")
        return message_id

    async def edit(self, channel: ChannelRef, message_id: str, message: Outgoing) -> None:
        stored = self.state.messages.get(message_id)
        author = message.post_as.name if message.post_as else self.bot_name
        if stored:
            stored.text = message.text
        self.emit(f"[#{channel.channel}]", f"✎ {author}: {self._render(message, message.buttons)}")

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        stored = self.state.messages.get(message_id)
        if stored:
            stored.deleted = True
        self.emit(f"[#{channel.channel}]", f"✗ deleted {message_id}"
                  + (f" ({stored.author}: {stored.text[:60]})" if stored else ""))

    async def send_dm(self, person: PersonRef, message: Outgoing) -> str:
        message_id = f"b{next(self.state.bot_ids)}"
        self.state.add(StoredMessage(message_id, f"{DM}:{person.user}", self.bot_name, message.text,
                                     buttons=message.buttons))
        self.emit(f"[@{person.user}]", self._render(message, message.buttons))
        return message_id

    async def post_ephemeral(self, channel: ChannelRef, person: PersonRef, text: str) -> None:
        self.emit(f"[#{channel.channel} → @{person.user}]", text)

    # ---- input ----------------------------------------------------------------------------------

    def author(self, user: str) -> Author:
        return Author(PersonRef(PLATFORM, WORKSPACE, user), self.names.get(user, user))

    def directive(self, name: str, handler: Callable[[str], Awaitable[None]]) -> None:
        self.directives[name] = handler

    async def feed(self, line: str) -> None:
        """One input line → the matching core event (or directive)."""
        assert self.bot is not None, "start the adapter first"
        line = line.rstrip("\n")
        stripped = line.strip()
        if not stripped or stripped.startswith("# ") or stripped == "#":
            return
        if stripped.startswith("!"):
            name, _, rest = stripped[1:].partition(" ")
            handler = self.directives.get(name)
            if handler is None:
                self.emit("[console]", f"unknown directive !{name}; known: "
                          + ", ".join(f"!{d}" for d in sorted(self.directives)))
                return
            await handler(rest.strip())
            return
        match = _LINE.match(stripped)
        if match is None:
            self.emit("[console]", 'write lines like "@alice #rumours-en Hello" or "@alice /icc help"')
            return
        user = match.group("person").lower()
        channel_name = match.group("channel")
        text = match.group("text").strip()
        await self._dispatch(user, channel_name, text)

    async def _dispatch(self, user: str, channel_name: str | None, text: str) -> None:
        assert self.bot is not None
        author = self.author(user)
        channel = ChannelRef(PLATFORM, WORKSPACE, channel_name) if channel_name else None
        if text.startswith("/icc"):
            responder = ConsoleResponder(self, channel, author.person)
            await self.bot.handle(CommandInvoked(channel, author, text[4:].strip(), responder))
            return
        if channel is None:
            if text.startswith("!press"):
                await self._press(author, None, f"{DM}:{user}", text[len("!press"):].strip())
                return
            if text == "!home":
                await self._home(author)
                return
            self.emit("[console]", "name a channel: @person #channel text")
            return
        if text.startswith(("!", "+")):
            await self._gesture(author, channel, text)
            return
        message_id = f"m{next(self.state.user_ids)}"
        self.state.add(StoredMessage(message_id, channel.channel, author.display_name, text))
        await self._receive(MessagePosted(channel, message_id, author, text, event_id=message_id))

    async def _gesture(self, author: Author, channel: ChannelRef, text: str) -> None:
        assert self.bot is not None
        verb, _, rest = text.partition(" ")
        ref, _, body = rest.strip().partition(" ")
        if verb == "!press":
            await self._press(author, channel, channel.channel, rest.strip())
            return
        target = self.state.resolve(channel.channel, ref or "^")
        if target is None:
            self.emit("[console]", f"no message {ref or '^'} in #{channel.channel}")
            return
        if verb == "!reply":
            message_id = f"m{next(self.state.user_ids)}"
            thread = target.thread_id or target.id
            self.state.add(StoredMessage(message_id, channel.channel, author.display_name, body, thread))
            await self._receive(MessagePosted(channel, message_id, author, body, thread_id=thread,
                                              event_id=message_id))
        elif verb == "!edit":
            target.text = body
            await self._receive(MessageEdited(channel, target.id, body, author))
        elif verb == "!delete":
            target.deleted = True
            await self._receive(MessageDeleted(channel, target.id))
        elif verb == "!translate":
            responder = ConsoleResponder(self, channel, author.person)
            await self.bot.handle(TranslateRequested(channel, target.id, target.text, author, responder))
        elif verb.startswith("+") and len(verb) > 1:
            await self._receive(ReactionAdded(channel, target.id, author.person, verb[1:]))
        else:
            self.emit("[console]", f"unknown gesture {verb}; use !reply, !edit, !delete, !translate, !press "
                      "or +emoji")

    async def _receive(self, event: Receivable) -> None:
        """Hand a message, edit, deletion or reaction to the core; nobody retries a console line,
        so a failure to store it is said at once, on one line."""
        assert self.bot is not None
        try:
            await self.bot.receive(event)
        except NotStored as error:
            self.emit("[console]", f"error: the {error}; nothing was relayed: type it again once the "
                      "database is back")

    async def _home(self, author: Author) -> None:
        from bot.home import home_page

        assert self.bot is not None
        home = await home_page(self.bot, author)
        lines = [home.title]
        for section in home.sections:
            lines += [f"— {section.title} —", *section.lines]
            if section.buttons:
                lines.append(" ".join(f"[{index}: {button.label}]" for index, button in enumerate(section.buttons, 1)))
        self.emit(f"[@{author.person.user} home]", "\n".join(lines))

    async def _press(self, author: Author, channel: ChannelRef | None, where: str, args: str) -> None:
        assert self.bot is not None
        ref, _, number = args.partition(" ")
        target = self.state.resolve(where, ref or "^")
        if target is None or not target.buttons:
            self.emit("[console]", f"no message with buttons at {ref or '^'}")
            return
        try:
            button = target.buttons[int(number or "1") - 1]
        except (ValueError, IndexError):
            self.emit("[console]", f"that message has buttons 1 to {len(target.buttons)}")
            return
        responder = ConsoleResponder(self, channel, author.person)
        await self.bot.handle(ButtonPressed(button.action_id, button.value, author, responder, channel,
                                            target.id))


class ConsoleResponder:
    def __init__(self, adapter: ConsoleAdapter, channel: ChannelRef | None, person: PersonRef) -> None:
        self.adapter = adapter
        self.channel = channel
        self.person = person

    async def reply(self, text: str, *, ephemeral: bool = True, buttons: Sequence[Button] = ()) -> None:
        message = Outgoing(text, buttons=tuple(buttons))
        if self.channel is None:
            await self.adapter.send_dm(self.person, message)
        elif ephemeral:
            if buttons:
                message_id = f"b{next(self.adapter.state.bot_ids)}"
                self.adapter.state.add(StoredMessage(message_id, self.channel.channel, self.adapter.bot_name,
                                                     text, buttons=tuple(buttons)))
            self.adapter.emit(f"[#{self.channel.channel} → @{self.person.user}]",
                              self.adapter._render(message, buttons))
        else:
            await self.adapter.post(self.channel, message)

    async def open_form(self, form: Form) -> None:
        raise NotImplementedError("the console has no forms; commands take their fields inline")


async def run_console(bot: Bot, adapter: ConsoleAdapter, stream: TextIO, *, interactive: bool,
                      banner: Sequence[str] = ()) -> None:
    """Feed lines to the console until the input ends; each line's effects finish before the next
    is read, so a script's output is in a stable order. Returns once nothing is left to deliver."""
    adapter.directive("clock", lambda argument: move_clock(bot, adapter, argument))
    if interactive:
        for line in banner:
            adapter.output.write(line + "\n")
    loop = asyncio.get_running_loop()
    while True:
        try:
            if interactive:
                line = await loop.run_in_executor(None, input, "> ")
            else:
                line = await loop.run_in_executor(None, stream.readline)
                if line == "":
                    break
        except (EOFError, KeyboardInterrupt):
            break
        await adapter.feed(line)
        await bot.wait_idle()
    await bot.wait_idle()


async def move_clock(bot: Bot, adapter: ConsoleAdapter, argument: str) -> None:
    """`!clock +3d`, `!clock 2027-01-10T09:30Z`, `!clock` (show)."""
    clock = bot.clock
    if not hasattr(clock, "set"):
        adapter.emit("[console]", "this clock cannot be moved")
        return
    now = clock.now()
    try:
        if not argument:
            target = now
        elif argument.startswith("+"):
            target = now + parse_duration(argument[1:])
        else:
            target = parse_instant(argument)
    except ValueError:
        adapter.emit("[console]", f"!clock takes +<duration> (like +3d, +2h30m) or an instant like "
                     f"2027-01-10T09:30Z, not {argument!r}")
        return
    if target < now:
        adapter.emit("[console]", "the clock only moves forward")
        return
    if target > now:
        await bot.scheduler.advance_to(target, clock, settle=bot.wait_idle)  # type: ignore[arg-type]
    adapter.emit("[console]", f"clock: {bot.clock.now():%Y-%m-%d %H:%M} UTC ({bot.clock.now():%A})")
