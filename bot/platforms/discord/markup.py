"""Discord markdown ⇄ the core's neutral markup (see /work/briefs/markup.md).

Discord's markdown is close to the neutral one: `**bold**`, `~~strike~~`, code, `> quote` and
`[label](url)` are the same. What differs: mentions and custom emoji are `<…>` tokens, `*x*` and
`__x__` are emphasis, lines may be headings (`# x`) or subtext (`-# x`). Code spans and blocks
are never touched in either direction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

# ``` blocks first (they may contain single backticks), then `inline` spans.
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]+`", re.DOTALL)

_USER = re.compile(r"<@!?(\d{15,21})>")
_ROLE = re.compile(r"<@&(\d{15,21})>")
_CHANNEL = re.compile(r"<#(\d{15,21})>")
_EMOJI = re.compile(r"<a?:(\w{2,32}):\d{15,21}>")
_TIMESTAMP = re.compile(r"<t:(-?\d{1,13})(?::[tTdDfFR])?>")
_SLASH = re.compile(r"</([\w\- ]{1,100}):\d{15,21}>")
_SUPPRESSED_LINK = re.compile(r"<(https?://[^\s>]+)>")
_BOLD_ITALIC = re.compile(r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*")
_STAR_ITALIC = re.compile(r"(?<![*\\\w])\*(?=[^\s*])(.+?)(?<=[^\s*\\])\*(?![*\w])")
_UNDERLINE = re.compile(r"(?<![_\\\w])__(?=\S)(.+?)(?<=\S)__(?![_\w])")
_HEADING = re.compile(r"^(?:#{1,3}) +(.+)$", re.MULTILINE)
_SUBTEXT = re.compile(r"^-# +(.+)$", re.MULTILINE)
_MASS = re.compile(r"@(everyone|here)\b", re.IGNORECASE)
_SHORTCODE = re.compile(r":([a-z0-9_+\-]{1,40}):")
_LINE_MARKUP = re.compile(r"^(#{1,3} |-# )", re.MULTILINE)

ZWJ = "\u200d"
REGIONAL_A = 0x1F1E6

# Shortcodes Slack users type most, for the Discord side (Discord renders none of them in posts).
SHORTCODES: dict[str, str] = {
    "+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎", "smile": "😄", "smiley": "😃",
    "grinning": "😀", "slightly_smiling_face": "🙂", "wink": "😉", "joy": "😂", "laughing": "😆",
    "heart": "❤️", "heart_eyes": "😍", "tada": "🎉", "clap": "👏", "pray": "🙏", "wave": "👋",
    "white_check_mark": "✅", "heavy_check_mark": "✔️", "x": "❌", "warning": "⚠️", "eyes": "👀",
    "fire": "🔥", "rocket": "🚀", "star": "⭐", "sparkles": "✨", "bulb": "💡", "calendar": "📅",
    "memo": "📝", "point_right": "👉", "point_up": "☝️", "raised_hands": "🙌", "muscle": "💪",
    "thinking_face": "🤔", "sweat_smile": "😅", "cry": "😢", "ok_hand": "👌", "handshake": "🤝",
    "earth_africa": "🌍", "earth_americas": "🌎", "globe_with_meridians": "🌐", "speech_balloon": "💬",
    "books": "📚", "link": "🔗", "question": "❓", "exclamation": "❗", "100": "💯", "coffee": "☕",
}


@dataclass
class Mentions:
    """Names for the ids a message mentions (its resolved mentions, else the guild's cache)."""

    users: dict[int, str] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)
    channels: dict[int, str] = field(default_factory=dict)
    lookup_user: Callable[[int], str | None] | None = None
    lookup_role: Callable[[int], str | None] | None = None
    lookup_channel: Callable[[int], str | None] | None = None

    def user(self, user_id: int) -> str:
        return self.users.get(user_id) or (self.lookup_user and self.lookup_user(user_id)) or "unknown-user"

    def role(self, role_id: int) -> str:
        return self.roles.get(role_id) or (self.lookup_role and self.lookup_role(role_id)) or "unknown-role"

    def channel(self, channel_id: int) -> str:
        return (self.channels.get(channel_id) or (self.lookup_channel and self.lookup_channel(channel_id))
                or "unknown-channel")


def _outside_code(text: str, transform: Callable[[str], str]) -> str:
    out: list[str] = []
    position = 0
    for match in _CODE.finditer(text):
        out.append(transform(text[position:match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(transform(text[position:]))
    return "".join(out)


def to_neutral(content: str, mentions: Mentions | None = None) -> str:
    """A Discord message's content → neutral markup."""
    names = mentions or Mentions()

    def convert(part: str) -> str:
        part = _USER.sub(lambda m: "@" + names.user(int(m.group(1))), part)
        part = _ROLE.sub(lambda m: "@" + names.role(int(m.group(1))), part)
        part = _CHANNEL.sub(lambda m: "#" + names.channel(int(m.group(1))), part)
        part = _EMOJI.sub(r":\1:", part)
        part = _TIMESTAMP.sub(lambda m: _timestamp(int(m.group(1))), part)
        part = _SLASH.sub(r"/\1", part)
        part = _SUPPRESSED_LINK.sub(r"\1", part)
        part = _BOLD_ITALIC.sub(r"**_\1_**", part)
        part = _STAR_ITALIC.sub(r"_\1_", part)
        part = _UNDERLINE.sub(r"_\1_", part)
        part = _HEADING.sub(r"**\1**", part)
        return _SUBTEXT.sub(r"\1", part)

    return _outside_code(content, convert)


def _timestamp(seconds: int) -> str:
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return str(seconds)


def to_discord(text: str) -> str:
    """Neutral markup → Discord markdown. Nothing here can ping (every post also carries
    `AllowedMentions.none()`); lines that Discord would turn into headings are escaped."""

    def convert(part: str) -> str:
        part = _MASS.sub(lambda m: "@" + ZWJ + m.group(1), part)
        part = _LINE_MARKUP.sub(lambda m: "\\" + m.group(1), part)
        return _SHORTCODE.sub(lambda m: shortcode_to_unicode(m.group(1)) or m.group(0), part)

    return _outside_code(text, convert)


def shortcode_to_unicode(name: str) -> str | None:
    if name.startswith("flag-") and len(name) == 7 and name[5:].isalpha():
        return "".join(chr(REGIONAL_A + ord(letter) - ord("a")) for letter in name[5:].lower())
    return SHORTCODES.get(name)


def emoji_name(emoji: str, custom_name: str | None = None) -> str:
    """A reaction as the core names it: `🇫🇷` → `flag-fr`, a custom emoji → its name, any other
    Unicode emoji → itself."""
    if custom_name:
        return custom_name
    letters = [ord(char) - REGIONAL_A for char in emoji]
    if len(letters) == 2 and all(0 <= letter < 26 for letter in letters):
        return "flag-" + "".join(chr(ord("a") + letter) for letter in letters)
    return emoji


def spoiler(text: str) -> str:
    """`text` hidden until clicked; `||` inside would end the spoiler early."""
    return "||" + text.replace("||", "|\u200b|") + "||"


def subtext(text: str) -> str:
    """Discord's small grey line (`-# …`), one line per line of `text`."""
    return "\n".join(f"-# {line}" for line in text.splitlines() if line.strip())
