"""Machine translation, as the rest of the bot sees it.

Every part that translates (the relay, on-demand translation, practices, reminders, broadcasts)
asks `bot.service(Translator)`. The running implementation is DeepL-backed when `DEEPL_AUTH_KEY`
is set; without a key `Untranslated` answers, keeping every text as it is and saying so, so the
bot relays untranslated and never pretends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class NotTranslated(StrEnum):
    """Why a text comes back in its original language."""

    OFF = "off"                   # no DeepL key configured
    SAME_LANGUAGE = "same"        # already in the target language: nothing to do
    UNAVAILABLE = "unavailable"   # DeepL failed (429/5xx/time-out) after brief retries
    QUOTA = "quota"               # DeepL answered 456: the month's characters are used up
    UNSUPPORTED = "unsupported"   # DeepL offers no such target language (and no fallback given)


@dataclass(frozen=True)
class Translation:
    text: str
    """The translation, or the original text when `not_translated` is set."""
    source_language: str | None
    """The original's language as far as known (DeepL's detection has the last word), e.g. `fr`."""
    target_language: str
    """The language `text` is in: the one asked for, or the fallback that was used instead."""
    not_translated: NotTranslated | None = None
    from_cache: bool = False

    @property
    def translated(self) -> bool:
        return self.not_translated is None


class Translator(Protocol):
    @property
    def enabled(self) -> bool:
        """False when no translation can happen at all (no key)."""

    async def translate(self, texts: Sequence[str], target: str, *, source: str | None = None,
                        formality: str | None = None, fallback: str | None = None) -> list[Translation]:
        """Translate several texts into one target language (one DeepL request at most, never one
        per text). `target`/`source`/`fallback` are the bot's language codes (`fr`, `pt-BR`).
        Never raises for DeepL's faults: a text that could not be translated comes back as it was,
        with the reason."""

    async def detect(self, text: str) -> str | None:
        """The language of `text` when a local guess is confident, else None (no DeepL call)."""


class Untranslated:
    """The translator when DeepL is not configured: every text comes back as it is."""

    enabled = False

    async def translate(self, texts: Sequence[str], target: str, *, source: str | None = None,
                        formality: str | None = None, fallback: str | None = None) -> list[Translation]:
        return [Translation(text, source, target, NotTranslated.OFF) for text in texts]

    async def detect(self, text: str) -> str | None:
        return None
