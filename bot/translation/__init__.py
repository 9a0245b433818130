"""Machine translation, as the rest of the bot sees it.

Every part that translates (the relay, on-demand translation, practices, reminders, broadcasts)
asks `bot.service(Translator)` — at call time, not in `setup`, because the DeepL translator is
provided by the `bot.translation.extension` module. The running implementation is DeepL-backed
when `DEEPL_AUTH_KEY` is set (`bot.translation.engine.DeepLTranslator`); without a key
`Untranslated` answers, keeping every text as it is and saying so, so the bot relays
untranslated and never pretends.

How to call it (the relay, broadcasts, reminders):

- **Once per target language per message**, never per channel: group the destinations by
  `(language, formality, fallback_language)` and call `translate([text], language,
  formality=…, fallback=…, likely_source=<the source channel's language>)` once per group.
  Include the source channel's own language when other channels share it: the translator
  answers `SAME_LANGUAGE` for free when the text is in that language, and translates it when
  someone wrote, say, English in the French channel. Several texts in one call (a broadcast's
  paragraphs, a practice's fields) go to DeepL in one request.
- `source=` only when the language is *known* (a practice stored with its language, a person's
  `/icc translate`): it is sent to DeepL as is and enables the ICC glossary. `likely_source=`
  is a hint (the channel's language): a local guess that agrees with it makes the source known;
  without a confident local guess the translator lets DeepL detect it.
- Every call is cheap to repeat: translations are cached (memory, then the database), identical
  concurrent calls share one DeepL request, and the cache survives restarts.
- It never raises for DeepL's faults and never takes more than ~20 s (brief retries). A text
  that could not be translated comes back unchanged with `not_translated` set; `note_for(reason,
  language)` in `bot.translation.notes` gives the short note to show under it (None for
  `SAME_LANGUAGE`: post the original with no note). The translator counts the characters
  saved by same-language skips it decides itself; when a caller decides one without calling
  `translate`, `record_skip(characters)` keeps `/icc usage` honest.
- Texts are in the core's neutral markup; mentions, `#channels`, emoji, URLs, code spans and
  blocks come back exactly as they were; `**bold**`, `_italic_`, `~~strike~~` and link labels
  are translated with their formatting kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.events import ChannelRef


class NotTranslated(StrEnum):
    """Why a text comes back in its original language."""

    OFF = "off"                   # no DeepL key configured
    SAME_LANGUAGE = "same"        # already in the target language (or nothing to translate)
    UNAVAILABLE = "unavailable"   # DeepL failed (429/5xx/time-out/garbage) after brief retries
    QUOTA = "quota"               # DeepL answered 456: the month's characters are used up
    UNSUPPORTED = "unsupported"   # DeepL offers no such target language (and no fallback given)
    SOURCE_UNSUPPORTED = "source-unsupported"  # the text is (confidently) in a language DeepL cannot read


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


@dataclass(frozen=True)
class ServiceUsage:
    """What DeepL says about the account: characters used in the billing period and the limit."""

    characters_used: int
    character_limit: int | None


class Translator(Protocol):
    @property
    def enabled(self) -> bool:
        """False when no translation can happen at all (no key)."""

    async def translate(self, texts: Sequence[str], target: str, *, source: str | None = None,
                        formality: str | None = None, fallback: str | None = None,
                        likely_source: str | None = None) -> list[Translation]:
        """Translate several texts into one target language (one DeepL request at most, never one
        per text). `target`/`source`/`fallback`/`likely_source` are the bot's language codes
        (`fr`, `pt-BR`); `formality` is a channel's (`more`, `less` or None). Never raises for
        DeepL's faults: a text that could not be translated comes back as it was, with the reason."""

    async def detect(self, text: str) -> str | None:
        """The language of `text` when a local guess is confident, else None (no DeepL call)."""

    async def record_skip(self, characters: int) -> None:
        """Count characters a caller did not send because they were already in the right language."""

    async def usage(self) -> ServiceUsage | None:
        """DeepL's own count for the billing period; None when off or DeepL does not answer."""


class MessageTexts(Protocol):
    """Where the text of an earlier message can be found (the relay's stored messages). The relay
    may `bot.provide(MessageTexts, …)`; flag reactions ask it before the platform."""

    async def message_text(self, channel: ChannelRef, message_id: str) -> str | None: ...


class Untranslated:
    """The translator when DeepL is not configured: every text comes back as it is."""

    enabled = False

    async def translate(self, texts: Sequence[str], target: str, *, source: str | None = None,
                        formality: str | None = None, fallback: str | None = None,
                        likely_source: str | None = None) -> list[Translation]:
        return [Translation(text, source, target, NotTranslated.OFF) for text in texts]

    async def detect(self, text: str) -> str | None:
        return None

    async def record_skip(self, characters: int) -> None:
        return None

    async def usage(self) -> ServiceUsage | None:
        return None
