"""The fields of a good practice (the programme's template), their limits, and checking what a
person typed or a file holds. The same checks serve the inline command, the form and the import.

Limits: title 200 characters, period 100, purpose / stimulus-rationale / process 3,000 each
(Slack's longest form field; a Discord form field takes 4,000), link 500 (http or https), contact
200, at most 5 topics. Longer text is refused with its length, never cut.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.i18n import Message, _
from bot.topics import all_topics, find_topic

LIMITS: dict[str, int] = {"title": 200, "period": 100, "purpose": 3000, "rationale": 3000, "process": 3000,
                          "link": 500, "contact": 200}
LONG_TEXT = ("purpose", "rationale", "process")
SINGLE_LINE = ("title", "period", "link", "contact")
TEXT_FIELDS = ("title", "period", "purpose", "rationale", "process", "link", "contact")
REQUIRED = ("title", "topic", "purpose")
MAX_TOPICS = 5

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u2028\u2029]")


def clean_text(value: str, *, single_line: bool) -> str:
    """NFC, no control characters; a single-line field gets its whitespace collapsed."""
    value = _CONTROL.sub("", unicodedata.normalize("NFC", value)).replace("\r\n", "\n").replace("\r", "\n")
    if single_line:
        return " ".join(value.split())
    lines = [line.rstrip() for line in value.strip().split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


@dataclass
class Checked:
    """Values that passed, and one message per field that did not."""

    values: dict[str, object] = field(default_factory=dict)
    errors: dict[str, Message] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def text_values(values: Mapping[str, object]) -> dict[str, Any]:
    """The text fields of checked values, each present (empty when not given)."""
    return {name: str(values.get(name, "")) for name in TEXT_FIELDS}


def topic_list(raw: object) -> list[str]:
    """`anti-rumours, education` or a form's list → the words as given."""
    items = [str(item) for item in raw] if isinstance(raw, list | tuple) else re.split(r"[,;]", str(raw or ""))
    return [item.strip() for item in items if item.strip()]


def check_fields(raw: Mapping[str, object], *, partial: bool = False) -> Checked:
    """Check the text fields and topics given in `raw` (field name → text, or list of topics).
    `partial`: an edit, where only the fields given are checked and required ones may be absent."""
    checked = Checked()
    for name in TEXT_FIELDS:
        if name not in raw or raw[name] is None:
            if not partial and name in REQUIRED:
                checked.errors[name] = _("`{field}` is missing.", field=name)
            continue
        value = clean_text(str(raw[name]), single_line=name in SINGLE_LINE)
        if not value and name in REQUIRED:
            checked.errors[name] = _("`{field}` is empty.", field=name)
        elif len(value) > LIMITS[name]:
            checked.errors[name] = _("`{field}` has {length} characters; at most {limit} are allowed.",
                                     field=name, length=len(value), limit=LIMITS[name])
        elif name == "link" and value and not is_web_link(value):
            checked.errors[name] = _("`link` must be a web address starting with http:// or https://.")
        else:
            checked.values[name] = value
    if "topic" in raw and raw["topic"] is not None:
        words = topic_list(raw["topic"])
        topics: list[str] = []
        unknown: list[str] = []
        for word in words:
            topic = find_topic(word)
            if topic is None:
                unknown.append(word[:60])
            elif topic.slug not in topics:
                topics.append(topic.slug)
        if unknown:
            checked.errors["topic"] = _("Unknown topic: {names}. `/icc help topics` lists them.",
                                        names=", ".join(f"`{word}`" for word in unknown))
        elif not topics:
            checked.errors["topic"] = _("`{field}` is empty.", field="topic")
        elif len(topics) > MAX_TOPICS:
            checked.errors["topic"] = _("At most {limit} topics, please.", limit=MAX_TOPICS)
        else:
            checked.values["topic"] = topics
    elif not partial:
        checked.errors["topic"] = _("`{field}` is missing.", field="topic")
    return checked


def is_web_link(value: str) -> bool:
    if " " in value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and "." in parts.netloc


def topic_options() -> tuple[tuple[str, str], ...]:
    return tuple((topic.slug, topic.name) for topic in all_topics())


def topic_name(slug: str) -> str:
    topic = find_topic(slug)
    return topic.name if topic else slug
