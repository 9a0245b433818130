"""What a reminder says, in the reader's language.

Languages with a catalog (`translations/`) get the bot's own words from it, and the deadline's
title and description (written by the ICC team) machine-translated. Other languages get the
whole reminder rendered in English and machine-translated, through `Translator`: one request per
language per batch, never per city. When translation is off or fails, the English (or catalog)
text goes out as it is: a reminder is never held back for want of a translation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from bot.i18n import DEFAULT_LOCALE, Message, Text, _, _n, available_locales, join_lines, normalize_language, render
from bot.outbound import Button
from bot.translation import Translator
from storage.models import Deadline

log = logging.getLogger(__name__)

DONE_ACTION = "deadline.done"
SNOOZE_ACTION = "deadline.snooze."
"""Followed by a snooze choice: `deadline.snooze.1d`, `.3d`, `.1w`."""


def catalog_locale(language: str) -> str | None:
    """The catalog that speaks `language` (`pt-BR` → `pt` if there is one), or None."""
    base = normalize_language(language)
    return base if base in available_locales() else None


def babel_locale(locale: str) -> str:
    """Babel's locale for a reader: the network is European, so English dates and lists read
    the British way (`Friday 22 January 2027`, `14, 7 and 1`)."""
    return "en_GB" if locale == "en" else locale.replace("-", "_")


def format_day(day: date, locale: str) -> str:
    """`Friday 22 January 2027` in the reader's language (Babel knows far more than our catalogs)."""
    try:
        return format_date(day, format="full", locale=babel_locale(locale))
    except Exception:  # an odd locale code must not cost a reminder
        return format_date(day, format="full", locale=babel_locale(DEFAULT_LOCALE))


def when_label(instant: datetime, zone: str, locale: str) -> str:
    """`Tuesday 12 January 2027, 09:30 (Europe/Paris)`: an instant in a reader's or city's zone."""
    local = instant.astimezone(ZoneInfo(zone))
    clock = format_time(local.time(), format="HH:mm", locale=babel_locale(locale))
    return f"{format_day(local.date(), locale)}, {clock} ({zone})"


def name_list(names: Sequence[str], limit: int) -> str:
    """`A, B, C (+12)`: at most `limit` names, then how many more."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} (+{len(names) - limit})"


def relative_day(days: int) -> Message:
    """`in 3 days`, `today`, `2 days ago`."""
    if days > 0:
        return _n("in {count} day", "in {count} days", days)
    if days == 0:
        return _("today")
    return _n("{count} day ago", "{count} days ago", -days)


def headline(title: str, days_left: int, due: str) -> Message:
    if days_left > 1:
        return _n("⏰ Reminder: **{title}** is due in {count} day, on {date}.",
                  "⏰ Reminder: **{title}** is due in {count} days, on {date}.", days_left, title=title, date=due)
    if days_left == 1:
        return _("⏰ Reminder: **{title}** is due tomorrow, {date}.", title=title, date=due)
    if days_left == 0:
        return _("⏰ **{title}** is due today, {date}.", title=title, date=due)
    return _n("⚠️ **{title}** was due {count} day ago, on {date}. The ICC team is still waiting for your city's "
              "answer.",
              "⚠️ **{title}** was due {count} days ago, on {date}. The ICC team is still waiting for your city's "
              "answer.", -days_left, title=title, date=due)


def reminder_body(deadline: Deadline, title: str, description: str, days_left: int, locale: str) -> Message:
    lines: list[Text] = [headline(title, days_left, format_day(deadline.due_date, locale))]
    if description:
        lines.append(description)
    if deadline.link:
        lines.append(f"🔗 {deadline.link}")
    lines.append(_("When your city has answered, press **Done** (or type `/icc deadline done {id}`). Not now? "
                   "Snooze this reminder.", id=deadline.id))
    return join_lines(lines)


LATE_NOTE = _("Sent late: the bot was offline when this reminder was due.")


def reminder_buttons(deadline_id: int, city_id: int) -> tuple[Button, ...]:
    value = f"{deadline_id}:{city_id}"
    return (Button(_("Done"), DONE_ACTION, value, style="primary"),
            Button(_("Snooze 1 day"), SNOOZE_ACTION + "1d", value),
            Button(_("Snooze 3 days"), SNOOZE_ACTION + "3d", value),
            Button(_("Snooze 1 week"), SNOOZE_ACTION + "1w", value))


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: tuple[Button, ...]
    footnote: str | None


class Localizer:
    """Machine translation for a batch of posts, asked once per language with every text it needs."""

    def __init__(self, translator: Translator) -> None:
        self._translator = translator
        self._known: dict[tuple[str, str | None, str], str] = {}

    async def prepare(self, language: str, texts: Iterable[str], *, source: str | None,
                      fallback: str | None = None) -> None:
        wanted = [text for text in dict.fromkeys(texts) if text.strip() and (language, source, text) not in self._known]
        if not wanted or (source is not None and normalize_language(source) == normalize_language(language)):
            return
        try:
            results = await self._translator.translate(wanted, language, source=source, fallback=fallback)
        except Exception:  # the Translator contract says it does not raise; a reminder must not depend on it
            log.exception("translation into %s failed; sending the original", language)
            return
        for text, result in zip(wanted, results, strict=False):
            self._known[(language, source, text)] = result.text

    def get(self, language: str, text: str, *, source: str | None) -> str:
        return self._known.get((language, source, text), text)


async def render_reminders(localizer: Localizer, language: str, items: list[tuple[Deadline, int, int, bool]],
                           fallback: str | None = None) -> list[Rendered]:
    """Reminders (deadline, city id, days left, late) in `language`, translated as a batch."""
    locale = catalog_locale(language)
    if locale is not None:
        await localizer.prepare(language, [text for deadline, *_rest in items
                                           for text in (deadline.title, deadline.description)],
                                source=None, fallback=fallback)
    reader = locale or DEFAULT_LOCALE
    bodies: dict[tuple[int, int], str] = {}   # the same words for every city: rendered once
    labels = [render(button.label, reader) for button in reminder_buttons(0, 0)]
    late_note = render(LATE_NOTE, reader)
    english: list[tuple[str, tuple[Button, ...], str | None]] = []
    for deadline, city_id, days_left, late in items:
        assert deadline.id is not None
        key = (deadline.id, days_left)
        if key not in bodies:
            title = localizer.get(language, deadline.title, source=None) if locale else deadline.title
            description = localizer.get(language, deadline.description, source=None) if locale \
                else deadline.description
            bodies[key] = render(reminder_body(deadline, title, description, days_left, reader), reader)
        buttons = tuple(replace(button, label=label)
                        for button, label in zip(reminder_buttons(deadline.id, city_id), labels, strict=True))
        english.append((bodies[key], buttons, late_note if late else None))
    if locale is not None:
        return [Rendered(text, buttons, note) for text, buttons, note in english]
    # The body may quote the ICC team's words in any language: DeepL detects the source.
    await localizer.prepare(language, [piece for text, buttons, note in english
                                       for piece in (text, note or "", *(str(b.label) for b in buttons))],
                            source=None, fallback=fallback)

    def tr(text: str) -> str:
        return localizer.get(language, text, source=None)

    return [Rendered(tr(text), tuple(Button(tr(str(b.label)), b.action_id, b.value, b.style) for b in buttons),
                     tr(note) if note else None) for text, buttons, note in english]
