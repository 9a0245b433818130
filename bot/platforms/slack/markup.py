"""Slack mrkdwn ⇄ the core's neutral markup (light Markdown, see the markup agreement).

Inbound (`to_neutral`): what Slack puts in a message's `text` → neutral text. Mentions become
`@Display Name` (or stay `<@U123>` in command text, where `parse_mention` needs the id), channel
links `#name`, links `[label](url)`, `*bold*` `**bold**`, `~strike~` `~~strike~~`, and the HTML
entities Slack uses (`&amp;`, `&lt;`, `&gt;`) their characters.

Outbound (`to_mrkdwn`): neutral text → mrkdwn that cannot ping anyone: `&`, `<` and `>` are
escaped (so `<!channel>`, `<!here>` and `<@U…>` cannot be formed), the plain words `@here`,
`@channel` and `@everyone` are broken with a word joiner, and only channel links (`<#C123>`,
which notify nobody) are let through, because the core names Slack channels that way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bot.text import split_text

BLOCK_TEXT_LIMIT = 3000
"""Characters in one section block's text (Slack rejects more with `invalid_blocks`)."""
TEXT_LIMIT = 40_000
"""Characters in a message's `text` (Slack answers `msg_too_long` beyond)."""

_WORD_JOINER = "\u2060"
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)
_ANGLE = re.compile(r"<([^<>\n]+)>")
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^<>]*)?>")
_SLACK_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_SLACK_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_MASS_MENTION = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)
_CHANNEL_LINK = re.compile(r"<#[CG][A-Z0-9]+(?:\|[^<>&\n]*)?>")
_MD_LINK = re.compile(r"\[([^\[\]\n]+)\]\(((?:https?://|mailto:)[^\s()<>]+)\)")
_MD_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__", re.DOTALL)
_MD_ITALIC_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_MD_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~", re.DOTALL)
_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
_MD_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)


# ---- inbound ----------------------------------------------------------------------------------


def mentioned_users(text: str) -> set[str]:
    """User ids mentioned as `<@U…>` (to resolve their names before `to_neutral`)."""
    return set(_USER_MENTION.findall(text or ""))


def mentioned_channels(text: str) -> set[str]:
    """Channel ids written as `<#C…>` without a name."""
    return {match.group(1) for match in re.finditer(r"<#([CG][A-Z0-9]+)>", text or "")}


def to_neutral(text: str, *, users: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None,
               keep_user_mentions: bool = False) -> str:
    """Slack message text → neutral markup. `users`/`channels` map ids to display names."""
    users = users or {}
    channels = channels or {}

    def angle(match: re.Match[str]) -> str:
        return _angle_to_neutral(match.group(1), users, channels, keep_user_mentions)

    def prose(part: str) -> str:
        part = _ANGLE.sub(angle, part)
        part = _SLACK_BOLD.sub(r"**\1**", part)
        part = _SLACK_STRIKE.sub(r"~~\1~~", part)
        return _unescape(part)

    def code(part: str) -> str:
        # Slack still wraps links in angle brackets inside code; keep the bare text.
        return _unescape(_ANGLE.sub(lambda m: m.group(1).split("|", 1)[-1] if m.group(1)[:1] not in "@#!"
                                    else m.group(0), part))

    return _by_code(text or "", prose, code)


def _angle_to_neutral(inner: str, users: Mapping[str, str], channels: Mapping[str, str],
                      keep_user_mentions: bool) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        if keep_user_mentions:
            return f"<{inner}>"
        user_id = target[1:]
        return "@" + (users.get(user_id) or label or user_id)
    if target.startswith("#"):
        channel_id = target[1:]
        return "#" + (label or channels.get(channel_id) or channel_id)
    if target.startswith("!"):
        command = target[1:]
        if command in ("here", "channel", "everyone"):
            return f"@{command}"
        if command.startswith("subteam^"):
            return label if label.startswith("@") else f"@{label or 'team'}"
        return label or ""
    url = _unescape(target)
    if url.startswith("mailto:"):
        return _unescape(label) if label else url.removeprefix("mailto:")
    if not label or _unescape(label) in (url, url.split("://", 1)[-1]):
        return url
    return f"[{_unescape(label)}]({url})"


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# ---- outbound ---------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Plain text made inert for mrkdwn: no `<…>` token can form."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(text: str) -> str:
    """Neutral markup → Slack mrkdwn that pings nobody."""

    def prose(part: str) -> str:
        kept: list[str] = []

        def keep(value: str) -> str:
            kept.append(value)
            return f"\x00{len(kept) - 1}\x00"

        part = _CHANNEL_LINK.sub(lambda m: keep(m.group(0)), part)
        part = _MD_LINK.sub(lambda m: keep(f"<{escape(m.group(2))}|{escape(m.group(1)).replace('|', '¦')}>"), part)
        part = escape(part)
        # A quote marker at the start of a line is Slack's blockquote and cannot form a token.
        part = re.sub(r"^&gt;(?= |$)", ">", part, flags=re.MULTILINE)
        part = _MD_HEADING.sub(lambda m: "\x01" + m.group(1) + "\x01", part)
        part = _MD_BOLD.sub(lambda m: "\x01" + (m.group(1) or m.group(2)) + "\x01", part)
        part = _MD_ITALIC_STAR.sub(r"_\1_", part)
        part = part.replace("\x01", "*")
        part = _MD_STRIKE.sub(r"~\1~", part)
        part = _MD_BULLET.sub(r"\1• ", part)
        part = _MASS_MENTION.sub(lambda m: "@" + _WORD_JOINER + m.group(1), part)
        return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], part)

    return _by_code(text, prose, escape)


def plain(text: str, limit: int) -> str:
    """Text for a `plain_text` object (labels, titles): no markup, within Slack's length limit."""
    text = " ".join(text.split()) if "\n" not in text else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mrkdwn_chunks(text: str, limit: int = BLOCK_TEXT_LIMIT) -> list[str]:
    """Neutral text → mrkdwn pieces of at most `limit` characters each, cut at natural breaks in
    the neutral text (so no entity or link is ever cut), nothing lost."""
    return _chunks(text, limit, max(limit - limit // 10, 16))


def _chunks(text: str, limit: int, cut: int) -> list[str]:
    pieces: list[str] = []
    for part in split_text(text, cut) if text else []:
        converted = to_mrkdwn(part)
        if len(converted) <= limit or cut <= 16:
            pieces.append(converted)
        else:  # escaping made it grow past the limit (many & < >): cut this part finer
            pieces.extend(_chunks(part, limit, max(cut // 2, 16)))
    return pieces


def _by_code(text: str, prose: Callable[[str], str], code: Callable[[str], str]) -> str:
    """Apply `prose` outside code spans and blocks and `code` inside them."""
    out: list[str] = []
    position = 0
    for match in _CODE.finditer(text):
        out.append(prose(text[position:match.start()]))
        out.append(code(match.group(0)))
        position = match.end()
    out.append(prose(text[position:]))
    return "".join(out)
