"""What a platform delivers to the core, in the core's own words.

Adapters turn Slack, Discord or console payloads into these; handlers and jobs only ever see
these. Identifiers stay the platform's own strings (a Slack `ts`, a Discord snowflake).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.outbound import Responder


@dataclass(frozen=True, order=True)
class ChannelRef:
    """A channel on a platform: `workspace` is the Slack team or Discord guild (`local` in the console)."""

    platform: str
    workspace: str
    channel: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.workspace}/{self.channel}"


@dataclass(frozen=True, order=True)
class PersonRef:
    platform: str
    workspace: str
    user: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.user}"


@dataclass(frozen=True)
class Author:
    """Who wrote something, as shown when the bot re-posts it elsewhere."""

    person: PersonRef
    display_name: str
    avatar_url: str | None = None
    is_bot: bool = False
    locale: str | None = None
    timezone: str | None = None
    """IANA zone the platform reports for the person (Slack `users.info`): seeds their default."""


@dataclass(frozen=True)
class Attachment:
    name: str
    url: str


@dataclass(frozen=True)
class MessagePosted:
    """A new message in a channel; `thread_id` is set for a reply in a thread."""

    channel: ChannelRef
    message_id: str
    author: Author
    text: str
    thread_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    # Platform's delivery id (Slack event_id, Discord message id): the same one twice is a retry.
    event_id: str | None = None
    # Set by adapters when the platform marks the post as made by a bot, a webhook, or a relay of ours.
    from_bot: bool = False
    sent_at: datetime | None = None


@dataclass(frozen=True)
class MessageEdited:
    channel: ChannelRef
    message_id: str
    text: str
    author: Author | None = None
    event_id: str | None = None
    from_bot: bool = False


@dataclass(frozen=True)
class MessageDeleted:
    channel: ChannelRef
    message_id: str
    event_id: str | None = None


@dataclass(frozen=True)
class ReactionAdded:
    channel: ChannelRef
    message_id: str
    person: PersonRef
    emoji: str
    """Platform-neutral emoji name: `flag-fr`, `+1`, or the Unicode character itself."""
    event_id: str | None = None


@dataclass(frozen=True)
class CommandInvoked:
    """`/icc …` typed by someone; `text` is what follows `/icc`."""

    channel: ChannelRef | None
    author: Author
    text: str
    responder: Responder
    platform_locale: str | None = None
    # Slack and Discord can show a form in answer to a command; the console cannot.
    can_open_form: bool = False
    event_id: str | None = None


@dataclass(frozen=True)
class FormSubmitted:
    form_id: str
    values: Mapping[str, str | list[str]]
    author: Author
    responder: Responder
    channel: ChannelRef | None = None
    context: str = ""
    """Opaque state the form was opened with (Slack private_metadata, Discord custom id suffix)."""
    platform_locale: str | None = None


@dataclass(frozen=True)
class ButtonPressed:
    action_id: str
    value: str
    author: Author
    responder: Responder
    channel: ChannelRef | None = None
    message_id: str | None = None
    platform_locale: str | None = None


@dataclass(frozen=True)
class TranslateRequested:
    """The 'Translate' message action: an ephemeral translation for the requester."""

    channel: ChannelRef
    message_id: str
    text: str
    author: Author
    responder: Responder
    platform_locale: str | None = None


Event = (
    MessagePosted | MessageEdited | MessageDeleted | ReactionAdded | CommandInvoked
    | FormSubmitted | ButtonPressed | TranslateRequested
)


@dataclass
class FormResult:
    """A form handler's answer: errors per field keep the form open (Slack) or are listed (Discord)."""

    errors: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors
