"""Neutral markup ⇄ the XML DeepL translates, so that nothing but words changes.

A message becomes *segments*, one per line that has words to translate; everything else — line
breaks, blank lines, quote and list markers, indentation, lines of only links or emoji — stays
here and is put back around the translated segments, so the layout survives whatever DeepL does
with whitespace. Inside a segment, what must come back exactly (mentions `@Ana`, `#channels`,
`:shortcodes:`, Unicode emoji, URLs, `` `code` `` and fenced code blocks, and a platform's own
mention form such as Slack's `<@U123>`, which commands keep) goes into an ignored
`<x i="n">` element whose content is restored from here by its index, never from DeepL's answer.
`**bold**`, `_italic_` and `~~strike~~` become `<b>`, `<i>`, `<s>` so the formatting follows the
translated words, and a link's label is translated inside `<l i="n">` while its URL stays here.
`&`, `<`, `>` are escaped. Decoding what was encoded, untranslated, gives the original exactly.

Segments are also the unit of DeepL's billing and of the translation cache: the same line in
two messages is paid for once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

IGNORE_TAG = "x"
"""The element DeepL must not translate (`ignore_tags`)."""

# Spans restored exactly, found in one left-to-right scan (earlier alternatives win).
_SPAN = re.compile(
    r"(?P<fence>```.*?(?:```|\Z))"
    r"|(?P<platform><[@#!][\w.|\-]{1,80}>)"
    r"|(?P<code>(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`))"
    r"|(?P<link>\[(?P<label>[^\[\]\n]{1,300})\]\((?P<target>(?:https?://|mailto:)[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)\))"
    r"|(?P<url>(?:https?://|www\.)[^\s<>]*[^\s<>.,;:!?\"'()\[\]{}*_~`])"
    r"|(?P<email>[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+)"
    r"|(?P<mention>(?<![\w@])@[\w\u200d][\w.\-\u200d]*(?<![.\-]))"
    r"|(?P<channel>(?<![\w#&])#[\w][\w\-.]*(?<![.\-]))"
    r"|(?P<shortcode>(?<!\w):[a-z0-9_+\-]{1,60}:(?!\w))"
    r"|(?P<emoji>(?:[\U0001F000-\U0001FAFF\u2600-\u27BF\u2300-\u23FF\u2B00-\u2BFF\u2190-\u21FF\u3030\u303D"
    r"\u3297\u3299\u00A9\u00AE\u203C\u2049\u2122\u2139\u24C2\u25AA-\u25FE\u2934\u2935]"
    r"[\uFE0E\uFE0F\u20E3\U0001F3FB-\U0001F3FF\U000E0020-\U000E007F]*\u200d?)+"
    r"|[0-9#*]\uFE0F?\u20E3)"
    r"|(?P<private>[\U000F0000-\U0010FFFF\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff])",
    re.DOTALL,
)
_PLACEHOLDER_BASE = 0xF0000  # Supplementary Private Use Area-A: one character per span
_LINE = re.compile(r"^(?P<prefix>[ \t]*(?:>[ \t]?)*(?:(?:[-*+•]|\d{1,3}[.)])[ \t]+)?)(?P<body>.*?)(?P<suffix>\s*)$",
                   re.DOTALL)
_MARKERS = re.compile(r"\*\*|~~|_")
_TAG_FOR = {"**": "b", "~~": "s", "_": "i"}
_MARKER_FOR = {tag: marker for marker, tag in _TAG_FOR.items()}
_ANSWER = re.compile(
    r"<x\s+i=[\"']?(?P<x_open>\d+)[\"']?\s*>(?P<x_content>.*?)</x\s*>"
    r"|<x\s+i=[\"']?(?P<x_empty>\d+)[\"']?\s*/>"
    r"|<l\s+i=[\"']?(?P<link>\d+)[\"']?\s*>"
    r"|</l\s*>"
    r"|<(?P<close>/)?(?P<style>[bis])\s*>"
    r"|<[^<>]*>"
    r"|&(?P<entity>amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});",
    re.DOTALL,
)
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
# Content that gives DeepL useful context is sent inside the ignored element; code and URLs are
# not (they would only add billed characters).
_CONTEXT_KINDS = frozenset({"mention", "platform", "channel", "shortcode", "emoji"})


@dataclass(frozen=True)
class Span:
    kind: str
    original: str
    label: str = ""
    target: str = ""


@dataclass(frozen=True)
class Segment:
    xml: str
    """What DeepL gets for this line."""
    spans: tuple[Span, ...]
    """The protected pieces, by the index their element carries."""


@dataclass(frozen=True)
class Encoded:
    parts: tuple[str | int, ...]
    """The message in order: literal strings, and indexes into `segments`."""
    segments: tuple[Segment, ...]

    @property
    def characters(self) -> int:
        """What sending every segment once costs (DeepL bills the text it gets)."""
        return sum(len(segment.xml) for segment in self.segments)


def encode(text: str) -> Encoded:
    masked, spans = _mask(text)
    parts: list[str | int] = []
    segments: list[Segment] = []
    for index, line in enumerate(masked.split("\n")):
        if index:
            parts.append("\n")
        match = _LINE.match(line)
        assert match is not None  # the pattern matches any line
        prefix, body, suffix = match.group("prefix"), match.group("body"), match.group("suffix")
        if not _has_words(body):
            parts.append(_unmask(line, spans))
            continue
        if prefix:
            parts.append(_unmask(prefix, spans))
        local: list[Span] = []
        xml = _inline_xml(body, spans, local)
        parts.append(len(segments))
        segments.append(Segment(xml, tuple(local)))
        if suffix:
            parts.append(_unmask(suffix, spans))
    return Encoded(tuple(_merge_literals(parts)), tuple(segments))


def decode(encoded: Encoded, translated: Sequence[str]) -> str:
    """The message with each segment replaced by its translation (DeepL's XML for it)."""
    if len(translated) != len(encoded.segments):
        raise ValueError("one translation per segment")
    out = []
    for part in encoded.parts:
        if isinstance(part, str):
            out.append(part)
        else:
            out.append(decode_segment(encoded.segments[part], translated[part]))
    return "".join(out)


def decode_segment(segment: Segment, xml: str) -> str:
    used: set[int] = set()
    text = _decode_xml(xml, segment.spans, used)
    missing = [segment.spans[i].original for i in range(len(segment.spans)) if i not in used]
    if missing:
        # DeepL dropped an element: keep what it protected rather than lose a link or a mention.
        text = " ".join([text.rstrip(), *missing])
    return text


def words_of(text: str) -> str:
    """The text without what is never translated (mentions, URLs, code, emoji): for detection."""
    masked = _SPAN.sub(" ", text)
    return re.sub(r"\s+", " ", masked).strip()


# ---- encoding ------------------------------------------------------------------------------------


def _kind(match: re.Match[str]) -> str:
    for kind in ("fence", "platform", "code", "url", "email", "mention", "channel", "shortcode", "emoji", "private"):
        if match.group(kind):
            return kind
    return "code"


def _span_of(char: str) -> int | None:
    value = ord(char) - _PLACEHOLDER_BASE
    return value if value >= 0 else None


def _unmask(text: str, spans: Sequence[Span]) -> str:
    return "".join(spans[index].original if (index := _span_of(char)) is not None else char for char in text)


def _has_words(body: str) -> bool:
    return any(char.isalpha() for char in body if _span_of(char) is None)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline_xml(body: str, spans: Sequence[Span], local: list[Span]) -> str:
    out = []
    for is_tag, token in _format_tokens(body):
        if is_tag:
            out.append(token)
            continue
        for char in token:
            index = _span_of(char)
            if index is None:
                out.append(_escape(char))
                continue
            span = spans[index]
            local.append(span)
            number = len(local) - 1
            if span.kind == "link":
                label_masked, label_spans = _mask(span.label)
                out.append(f'<l i="{number}">{_inline_xml(label_masked, label_spans, local)}</l>')
            elif span.kind in _CONTEXT_KINDS:
                out.append(f'<{IGNORE_TAG} i="{number}">{_escape(span.original)}</{IGNORE_TAG}>')
            else:
                out.append(f'<{IGNORE_TAG} i="{number}"/>')
    return "".join(out)


def _mask(text: str) -> tuple[str, list[Span]]:
    """`text` with each protected span replaced by one placeholder character, and the spans."""
    spans: list[Span] = []

    def protect(match: re.Match[str]) -> str:
        if match.group("link"):
            spans.append(Span("link", match.group(0), match.group("label"), match.group("target")))
        else:
            spans.append(Span(_kind(match), match.group(0)))
        return chr(_PLACEHOLDER_BASE + len(spans) - 1)

    return _SPAN.sub(protect, text), spans


def _format_tokens(body: str) -> list[tuple[bool, str]]:
    """Split `body` into (is a tag, text) pieces; markers that do not pair up stay text."""
    pieces: list[str] = []
    markers: list[tuple[int, str]] = []  # (index in pieces, marker)
    position = 0
    for match in _MARKERS.finditer(body):
        if match.start() > position:
            pieces.append(body[position:match.start()])
        markers.append((len(pieces), match.group(0)))
        pieces.append(match.group(0))
        position = match.end()
    if position < len(body):
        pieces.append(body[position:])
    stack: list[tuple[int, str]] = []
    pairs: dict[int, str] = {}
    offsets = _offsets(pieces)
    for index, marker in markers:
        start = offsets[index]
        before = body[start - 1] if start > 0 else ""
        after = body[start + len(marker)] if start + len(marker) < len(body) else ""
        if stack and stack[-1][1] == marker and index > stack[-1][0] + 1 and _can_close(marker, before, after):
            open_index, _ = stack.pop()
            tag = _TAG_FOR[marker]
            pairs[open_index] = f"<{tag}>"
            pairs[index] = f"</{tag}>"
        elif _can_open(marker, before, after) and all(open_marker != marker for _, open_marker in stack):
            stack.append((index, marker))
    return [(True, pairs[index]) if index in pairs else (False, piece) for index, piece in enumerate(pieces)]


def _offsets(pieces: list[str]) -> list[int]:
    offsets, total = [], 0
    for piece in pieces:
        offsets.append(total)
        total += len(piece)
    return offsets


def _can_open(marker: str, before: str, after: str) -> bool:
    if not after or after.isspace():
        return False
    if marker == "_":
        return not before or not (before.isalnum() or before == "_")
    return True


def _can_close(marker: str, before: str, after: str) -> bool:
    if not before or before.isspace():
        return False
    if marker == "_":
        return not after or not (after.isalnum() or after == "_")
    return True


def _merge_literals(parts: list[str | int]) -> list[str | int]:
    merged: list[str | int] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return merged


# ---- decoding ------------------------------------------------------------------------------------


def _decode_xml(xml: str, spans: Sequence[Span], used: set[int]) -> str:
    out: list[str] = []
    links: list[tuple[int, int]] = []  # (span index, position in out where its label starts)
    position = 0
    for match in _ANSWER.finditer(xml):
        out.append(xml[position:match.start()])
        position = match.end()
        token = match.group(0)
        number = match.group("x_open") or match.group("x_empty")
        if number is not None:
            index = int(number)
            if index < len(spans):
                out.append(spans[index].original)
                used.add(index)
            elif match.group("x_content"):
                out.append(_unescape(match.group("x_content")))
        elif match.group("link") is not None:
            links.append((int(match.group("link")), len(out)))
            out.append("")
        elif token.startswith("</l"):
            if links:
                index, start = links.pop()
                if index < len(spans) and spans[index].kind == "link":
                    label = "".join(out[start:])
                    del out[start:]
                    out.append(f"[{label}]({spans[index].target})")
                    used.add(index)
        elif match.group("style"):
            out.append(_MARKER_FOR[match.group("style")])
        elif match.group("entity"):
            out.append(_entity(match.group("entity")))
        # any other tag DeepL might add is dropped
    out.append(xml[position:])
    return "".join(out)


def _entity(name: str) -> str:
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    if name.startswith("#"):
        return chr(int(name[1:]))
    return _ENTITIES[name]


def _unescape(text: str) -> str:
    return re.sub(r"&(amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});", lambda m: _entity(m.group(1)), text)
