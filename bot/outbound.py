"""What the core asks a platform to do, and the interface every adapter implements.

The core renders every text into the reader's language before it calls an adapter: adapters get
plain strings (in the core's light Markdown: `**bold**`, `_italic_`, `` `code` ``, `<url|label>`
is not used) and turn them into their platform's markup.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, Protocol

from bot.events import ChannelRef, PersonRef
from bot.i18n import Text, render

if TYPE_CHECKING:
    from bot.core import Bot


@dataclass(frozen=True)
class Button:
    label: Text
    action_id: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None

    def rendered(self, locale: str) -> Button:
        return replace(self, label=render(self.label, locale))


@dataclass(frozen=True)
class FormField:
    name: str
    label: Text
    kind: Literal["text", "long_text", "select", "multi_select"] = "text"
    required: bool = True
    options: tuple[tuple[str, Text], ...] = ()
    max_length: int | None = None
    placeholder: Text | None = None
    initial: str | tuple[str, ...] | None = None

    def rendered(self, locale: str) -> FormField:
        return replace(
            self,
            label=render(self.label, locale),
            options=tuple((value, render(label, locale)) for value, label in self.options),
            placeholder=render(self.placeholder, locale) if self.placeholder is not None else None,
        )


@dataclass(frozen=True)
class Form:
    """A form the platform shows (Slack modal, Discord modal). Its submission comes back as
    `FormSubmitted(form_id, values, context)`."""

    form_id: str
    title: Text
    fields: tuple[FormField, ...]
    submit_label: Text
    context: str = ""

    def rendered(self, locale: str) -> Form:
        return replace(
            self,
            title=render(self.title, locale),
            submit_label=render(self.submit_label, locale),
            fields=tuple(f.rendered(locale) for f in self.fields),
        )


@dataclass(frozen=True)
class PostAs:
    """Post under someone else's name and picture (a relayed author, the ICC team)."""

    name: str
    avatar_url: str | None = None


@dataclass(frozen=True)
class OutgoingFile:
    """A file that goes with a message (an export). Adapters with `supports_files` upload it."""

    name: str
    content: bytes
    media_type: str = "text/plain"


@dataclass(frozen=True)
class Outgoing:
    """One message to post. `text` is final: translated, rendered, within the platform's limit."""

    text: str
    post_as: PostAs | None = None
    thread_id: str | None = None
    buttons: tuple[Button, ...] = ()
    footnote: str | None = None
    """Small print under the message, e.g. "Translated from French · original below"."""
    original: str | None = None
    """The untranslated text, reachable from the copy (Slack context block, Discord spoiler)."""
    kind: Literal["bot", "relay", "broadcast", "reminder"] = "bot"
    delivery_key: str | None = None
    """Stable across retries of the same post (set by the outbox, at most 25 characters): an
    adapter whose platform can deduplicate uses it (Discord: `nonce` with `enforce_nonce`)."""
    files: tuple[OutgoingFile, ...] = ()
    """Attached files; only sent to adapters whose `supports_files` is True (others never see any)."""


class DeliveryError(Exception):
    """A post that did not happen. `retry_after` (seconds) when the platform said when to retry;
    `permanent` when retrying cannot help (channel gone, bot removed)."""

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent


class PlatformStartError(Exception):
    """A platform that cannot start (bad token, unreachable API): one clear line for the operator,
    never containing a secret."""


class Responder(Protocol):
    """Answers to the one person who typed a command, pressed a button or sent a form."""

    async def reply(self, text: str, *, ephemeral: bool = True, buttons: Sequence[Button] = ()) -> None: ...

    async def open_form(self, form: Form) -> None: ...


class Adapter(ABC):
    """One platform. Turns its payloads into core events (`bot.receive(...)` for what people write
    in channels, acknowledged only once it returns; `bot.handle(...)` for commands, forms and
    buttons) and implements the outbound operations below; holds nothing else."""

    platform: str = ""
    max_message_chars: int = 4000
    """Longest text one post may carry; the core splits longer ones after translation."""
    post_rate_per_second: float = 1.0
    """Sustained posts per second the platform allows in one channel (the core paces deliveries)."""
    post_burst: int = 5
    """Posts a channel may take at once before pacing starts."""
    supports_files: bool = False
    """True when `post`/`send_dm` upload `Outgoing.files` (Slack files, Discord attachments)."""

    @abstractmethod
    async def start(self, bot: Bot) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def post(self, channel: ChannelRef, message: Outgoing) -> str:
        """Post and return the new message's id. Raises DeliveryError."""

    @abstractmethod
    async def edit(self, channel: ChannelRef, message_id: str, message: Outgoing) -> None: ...

    @abstractmethod
    async def delete(self, channel: ChannelRef, message_id: str) -> None: ...

    @abstractmethod
    async def send_dm(self, person: PersonRef, message: Outgoing) -> str: ...

    @abstractmethod
    async def post_ephemeral(self, channel: ChannelRef, person: PersonRef, text: str) -> None: ...

    async def fetch_message_text(self, channel: ChannelRef, message_id: str) -> str | None:
        """The text (neutral markup) of a message the core did not store, or None if unknown."""
        return None

    async def find_posted(self, channel: ChannelRef, delivery_key: str) -> str | None:
        """The id of a message this bot posted in `channel` with `Outgoing.delivery_key`, or None
        when there is none or the platform cannot tell. Asked only when an earlier process may
        have posted it and stopped before recording it (Slack: the key travels in the message's
        metadata and is found in the channel's recent history)."""
        return None

    async def prepare(self, channels: Sequence[ChannelRef]) -> None:
        """The core will post in these channels soon (a broadcast was previewed): look up now
        whatever each post there needs, so that delivery starts at once. Optional."""
        return None

    def parse_mention(self, word: str) -> str | None:
        """A person as typed in a command (`<@U123>`, `<@!123>`) → their user id, or None."""
        match = re.fullmatch(r"<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>", word.strip())
        return match.group(1) if match else None

    def channel_label(self, channel: ChannelRef) -> str:
        """How people on this platform name the channel (`#rumeurs-fr`)."""
        return f"#{channel.channel}"


@dataclass
class AdapterSet:
    """The running adapters by platform name."""

    by_platform: dict[str, Adapter] = field(default_factory=dict)

    def add(self, adapter: Adapter) -> None:
        self.by_platform[adapter.platform] = adapter

    def get(self, platform: str) -> Adapter | None:
        return self.by_platform.get(platform)

    def __iter__(self) -> Iterator[Adapter]:
        return iter(self.by_platform.values())
