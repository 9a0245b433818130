"""The bot's own words in people's languages.

Every user-facing string is written as `_("English text {name}", name=...)`, which builds a
`Message` that is rendered later, once the reader's language is known; a broadcast or relay note
is rendered once per destination language. Catalogs are the gettext `.po` files in
`translations/<lang>/LC_MESSAGES/icc.po`, compiled in memory at first use (Babel), so a checkout
needs no build step.
"""

from __future__ import annotations

import gettext
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_LOCALE = "en"
DOMAIN = "icc"


@dataclass(frozen=True)
class Message:
    """A sentence of the bot, not yet in any language."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    count: int | None = None

    def render(self, locale: str) -> str:
        return render(self, locale)


Text = str | Message


def _(msgid: str, **params: Any) -> Message:
    return Message(msgid, params)


def _n(singular: str, plural: str, count: int, **params: Any) -> Message:
    return Message(singular, {"count": count, **params}, plural, count)


def raw(text: str) -> Message:
    """Text that is not the bot's own words (a user's message, a city name): shown as is."""
    return Message("{text}", {"text": text})


@cache
def _translations(locale: str) -> gettext.NullTranslations | None:
    package = resources.files("translations")
    po_file = package / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_file.is_file():
        return None
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@cache
def available_locales() -> frozenset[str]:
    root = resources.files("translations")
    return frozenset(
        entry.name
        for entry in root.iterdir()
        if entry.is_dir() and (entry / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()
    )


def normalize_language(code: str | None) -> str | None:
    """`fr-FR`, `fr_CA`, `FR` → `fr`; `pt-BR` → `pt`; nonsense → None."""
    if not code:
        return None
    match = re.match(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*\s*$", code)
    return match.group(1).lower() if match else None


def resolve_locale(candidates: Iterable[str | None]) -> str:
    """First candidate the bot has words for: person's choice → platform locale → channel → English."""
    known = available_locales()
    for candidate in candidates:
        language = normalize_language(candidate)
        if language and language in known:
            return language
    return DEFAULT_LOCALE


def render(text: Text, locale: str) -> str:
    if isinstance(text, str):
        return text
    translations = _translations(locale) or _translations(DEFAULT_LOCALE)
    if text.plural is not None and text.count is not None:
        if translations is None:
            pattern = text.msgid if text.count == 1 else text.plural
        else:
            pattern = translations.ngettext(text.msgid, text.plural, text.count)
    else:
        pattern = translations.gettext(text.msgid) if translations else text.msgid
    params = {key: render(value, locale) if isinstance(value, Message) else value
              for key, value in text.params.items()}
    try:
        return pattern.format(**params)
    except (KeyError, IndexError, ValueError):
        # A translator's typo in a placeholder must not cost the reader the message.
        return text.msgid.format(**params)


def join_lines(lines: Iterable[Text]) -> Message:
    """Several sentences as one message, each rendered in the reader's language."""
    parts = list(lines)
    fields = {f"l{index}": line if isinstance(line, Message) else raw(line) for index, line in enumerate(parts)}
    return Message("\n".join("{" + key + "}" for key in fields), fields)
