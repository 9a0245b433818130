"""The short notes shown with a text that went out untranslated, in the reader's language.

The relay, broadcasts and reminders put `note_for(reason, locale, language)` under the original
when a `Translation` comes back with `not_translated` set (e.g. as `Outgoing.footnote`);
`SAME_LANGUAGE` (and a translated text) needs no note: the function returns None.
"""

from __future__ import annotations

from bot.i18n import Message, _, render
from bot.languages import language_name
from bot.translation import NotTranslated


def note_message(reason: NotTranslated | None, locale: str, language: str | None = None, *,
                 source: str | None = None) -> Message | None:
    """The note as a message (for callers composing it into a longer one). `source` is the text's
    language (`Translation.source_language`), for the `SOURCE_UNSUPPORTED` note."""
    match reason:
        case NotTranslated.OFF:
            return _("Not translated: translation is off (no DeepL key is configured).")
        case NotTranslated.UNAVAILABLE:
            return _("Not translated: DeepL is not answering right now.")
        case NotTranslated.QUOTA:
            return _("Not translated: this month's DeepL quota is used up.")
        case NotTranslated.UNSUPPORTED:
            return _("Not translated: DeepL does not translate into {language}.",
                     language=language_name(language or "?", locale))
        case NotTranslated.SOURCE_UNSUPPORTED:
            if source:
                return _("Not translated: DeepL does not translate from {language}.",
                         language=language_name(source, locale))
            return _("Not translated: DeepL does not translate from this message's language.")
    return None


def note_for(reason: NotTranslated | None, locale: str, language: str | None = None, *,
             source: str | None = None) -> str | None:
    """The note rendered in `locale` (the destination's); `language` is the target that DeepL
    does not offer, for the `UNSUPPORTED` note; `source` the text's language."""
    message = note_message(reason, locale, language, source=source)
    return render(message, locale) if message is not None else None
