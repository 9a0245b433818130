"""Good practices, platform-neutral: adding (inline, form, import share the checks), editing,
the draft → submitted → published path, and search across languages. Handlers call these and
only format answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.commands import UsageError
from bot.context import Interaction
from bot.i18n import Message, _, normalize_language
from bot.languages import base_language, parse_language
from bot.permissions import Access
from bot.practices.english import ENGLISH, after_submission
from bot.practices.fields import check_fields, text_values
from bot.translation import Translator
from storage.models import City, Practice
from storage.models.practices import (
    DRAFT,
    EN_CORRECTED,
    EN_ORIGINAL,
    EN_PENDING,
    PUBLISHED,
    SUBMITTED,
    TRANSLATED_FIELDS,
)
from storage.queries import practices as queries
from storage.queries import registry

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession


class PracticeInputError(Exception):
    """Fields that did not pass, one message each: nothing was stored."""

    def __init__(self, errors: Mapping[str, Message]) -> None:
        super().__init__(", ".join(errors))
        self.errors = dict(errors)


def parse_id(text: object) -> int | None:
    """`12`, `#12` → 12."""
    value = str(text or "").strip().lstrip("#")
    return int(value) if value.isdigit() and len(value) < 10 else None


def reader_language(ix: Interaction) -> str:
    """The reader's own language, even one the bot has no catalog for (practices are translated by
    machine): their choice → platform locale → channel → the language the bot speaks to them."""
    for candidate in (ix.person.language, ix.person.platform_locale, ix.channel.language if ix.channel else None):
        if candidate and (code := parse_language(candidate) or normalize_language(candidate)):
            return base_language(code)
    return ix.locale


async def _city_for(session: AsyncSession, ix: Interaction, name: object) -> City:
    """The city a practice is filed under, and whether this person may file for it: a coordinator
    for their own city; group leads and the ICC team for any city."""
    if name:
        city = await registry.find_city(session, str(name))
        if city is None:
            raise PracticeInputError({"city": _("I don't know the city `{name}`. `/icc city list` shows the "
                                                "member cities.", name=str(name)[:80])})
    elif ix.person.city_id is not None:
        found = await session.get(City, ix.person.city_id)
        assert found is not None
        city = found
    else:
        raise PracticeInputError({"city": _("Name the city: `city=<city>`.")})
    if not (ix.roles.icc_team or ix.roles.lead_of) and city.id not in ix.roles.coordinator_of:
        raise PracticeInputError({"city": _("A coordinator adds practices for their own city; {city} is not "
                                            "yours.", city=city.name)})
    return city


async def original_language(ix: Interaction, raw: Mapping[str, object], sample: str) -> str:
    if raw.get("lang"):
        code = parse_language(str(raw["lang"]))
        if code is None:
            raise PracticeInputError({"lang": _("`{code}` is not a language code I know. Use two letters, like "
                                                "fr, uk or pt-BR.", code=str(raw["lang"])[:20])})
        return base_language(code)
    detected = await ix.bot.service(Translator).detect(sample)  # type: ignore[type-abstract]
    return base_language(detected) if detected else reader_language(ix)


async def add_practice(ix: Interaction, raw: Mapping[str, object], *, draft: bool = False) -> Practice:
    """Check and store a new practice; its English version and announcement follow in the
    background. Raises PracticeInputError (nothing stored)."""
    checked = check_fields(raw)
    async with ix.bot.db.session() as session:
        try:
            city = await _city_for(session, ix, raw.get("city"))
        except PracticeInputError as error:
            checked.errors.update(error.errors)
            city = None
        if not checked.ok:
            raise PracticeInputError(checked.errors)
        assert city is not None and city.id is not None
        values = checked.values
        language = await original_language(ix, raw, f"{values['title']}. {values['purpose']}")
        now = ix.bot.clock.now()
        practice = Practice(
            **text_values(values), city_id=city.id, language=language,
            status=DRAFT if draft else SUBMITTED, submitted_at=None if draft else now,
            en_state=EN_ORIGINAL if language == "en" else EN_PENDING, en_retry_at=None if language == "en" else now,
            author_id=ix.person_id, author_name=ix.person.display_name, created_at=now, updated_at=now)
        await queries.add_practice(session, practice, values["topic"])  # type: ignore[arg-type]
    assert practice.id is not None
    ix.bot.spawn(after_submission(ix.bot, practice.id, announce_it=not draft), name=f"practice-{practice.id}")
    return practice


async def practice_for(ix: Interaction, practice_id: int) -> Practice:
    """A practice this person may see (drafts: their author and the ICC team), or UsageError."""
    async with ix.bot.db.session() as session:
        practice = await queries.get_practice(session, practice_id)
    if practice is None or (practice.status == DRAFT and not ix.allows(Access.AUTHOR,
                                                                        owner_person_id=practice.author_id)):
        raise UsageError(_("There is no practice #{id}. `/icc practice search <words>` finds practices.",
                           id=practice_id))
    return practice


@dataclass
class EditOutcome:
    practice: Practice
    changed: list[str] = field(default_factory=list)
    back_to_review: bool = False


async def edit_practice(ix: Interaction, practice_id: int, raw: Mapping[str, object], *,
                        english: bool = False) -> EditOutcome:
    """Change fields of the original (its English is made again for them), or with `english`
    correct the English version (ICC team). Raises UsageError / PracticeInputError."""
    from bot.core import refusal

    practice = await practice_for(ix, practice_id)
    if not ix.allows(Access.AUTHOR, owner_person_id=practice.author_id):
        raise UsageError(refusal(Access.AUTHOR))
    if english and not ix.roles.icc_team:
        raise UsageError(_("Only the ICC team corrects the English version."))
    given = {name: value for name, value in raw.items() if value is not None and name not in ("id", "lang")}
    if not given:
        raise UsageError(_("Say what to change, for example `purpose=\"…\"`."))
    if english:
        extra = [name for name in given if name not in TRANSLATED_FIELDS]
        if extra:
            raise PracticeInputError({extra[0]: _("The English version has only these texts: {names}.",
                                                  names=", ".join(TRANSLATED_FIELDS))})
    checked = check_fields(given, partial=True)
    now = ix.bot.clock.now()
    outcome = EditOutcome(practice)
    async with ix.bot.db.session() as session:
        current = await queries.get_practice(session, practice_id, for_update=True)
        if current is None:
            raise UsageError(_("There is no practice #{id}. `/icc practice search <words>` finds practices.",
                               id=practice_id))
        if "city" in given:
            try:
                city = await _city_for(session, ix, given["city"])
                if city.id != current.city_id:
                    current.city_id = city.id  # type: ignore[assignment]
                    await queries.place(session, current)
                    outcome.changed.append("city")
            except PracticeInputError as error:
                checked.errors.update(error.errors)
        if not checked.ok:
            raise PracticeInputError(checked.errors)
        for name, value in checked.values.items():
            if name == "topic":
                assert isinstance(value, list)
                if sorted(value) != sorted((await queries.topics_of(session, [practice_id]))[practice_id]):
                    await queries.set_topics(session, practice_id, value)
                    outcome.changed.append("topic")
                continue
            target = f"{name}_en" if english else name
            if getattr(current, target) != value:
                setattr(current, target, value)
                outcome.changed.append(name)
                if not english and name in TRANSLATED_FIELDS and current.en_state != EN_ORIGINAL:
                    setattr(current, f"{name}_en", None)  # made again from the new text
                    current.en_state = EN_PENDING
                    current.en_retry_at = now
        if english and outcome.changed:
            current.en_state = EN_CORRECTED
            current.en_retry_at = None
        if outcome.changed:
            current.updated_at = now
            if current.status == PUBLISHED and not ix.roles.icc_team and not english:
                current.status = SUBMITTED
                outcome.back_to_review = True
            session.add(current)
        outcome.practice = current
    if outcome.changed and outcome.practice.en_state == EN_PENDING:
        ix.bot.spawn(after_submission(ix.bot, practice_id, announce_it=False), name=f"practice-{practice_id}")
    return outcome


async def submit(ix: Interaction, practice_id: int) -> Practice:
    from bot.core import refusal

    practice = await practice_for(ix, practice_id)
    if not ix.allows(Access.AUTHOR, owner_person_id=practice.author_id):
        raise UsageError(refusal(Access.AUTHOR))
    if practice.status != DRAFT:
        raise UsageError(_("Practice #{id} is already submitted.", id=practice_id))
    now = ix.bot.clock.now()
    async with ix.bot.db.session() as session:
        current = await queries.get_practice(session, practice_id, for_update=True)
        assert current is not None
        current.status, current.submitted_at, current.updated_at = SUBMITTED, now, now
        current.review_note = ""
        session.add(current)
    ix.bot.spawn(after_submission(ix.bot, practice_id, announce_it=True), name=f"practice-{practice_id}")
    return current


async def publish(ix: Interaction, practice_id: int) -> Practice:
    practice = await practice_for(ix, practice_id)
    if practice.status == PUBLISHED:
        raise UsageError(_("Practice #{id} is already published.", id=practice_id))
    if practice.en_state == EN_PENDING:
        raise UsageError(_("The English version of #{id} is not ready yet. Write it with `/icc practice edit "
                           "{id} lang=en title=\"…\" purpose=\"…\"`, or wait for the machine translation.",
                           id=practice_id))
    now = ix.bot.clock.now()
    async with ix.bot.db.session() as session:
        current = await queries.get_practice(session, practice_id, for_update=True)
        assert current is not None
        current.status, current.published_at, current.updated_at = PUBLISHED, now, now
        current.reviewed_by_id = ix.person_id
        current.submitted_at = current.submitted_at or now
        current.announced_at = current.announced_at or now  # published without a submission: no announcement
        session.add(current)
    return current


async def send_back(ix: Interaction, practice_id: int, note: str) -> Practice:
    """The ICC team returns a submission to its author as a draft, with a note."""
    practice = await practice_for(ix, practice_id)
    if practice.status == DRAFT:
        raise UsageError(_("Practice #{id} is a draft already.", id=practice_id))
    async with ix.bot.db.session() as session:
        current = await queries.get_practice(session, practice_id, for_update=True)
        assert current is not None
        current.status, current.review_note = DRAFT, note[:1000]
        current.reviewed_by_id, current.updated_at = ix.person_id, ix.bot.clock.now()
        session.add(current)
    return current


async def delete(ix: Interaction, practice_id: int) -> Practice:
    practice = await practice_for(ix, practice_id)
    async with ix.bot.db.session() as session:
        await queries.delete_practice(session, practice_id)
    return practice


# ---- search ---------------------------------------------------------------------------------


@dataclass
class SearchOutcome:
    practices: list[Practice]
    topics: dict[int, list[str]]
    cities: dict[int, City]
    english_words: list[str]
    every_word: bool = True
    many: bool = False
    """More practices match than were ranked: the best of the newest are shown."""


async def search(ix: Interaction, query: str, filters: queries.Filters, *, limit: int = 8) -> SearchOutcome:
    """Practices matching the words as typed, or their English translation (every practice is
    indexed with its English version), best first; when none has every word, those with some."""
    words = queries.search_words(query)
    if not words:
        raise UsageError(_("Give me words to look for, for example `/icc practice search welcoming newcomers`."))
    english: list[str] = []
    translator = ix.bot.service(Translator)  # type: ignore[type-abstract]
    if translator.enabled:
        detected = await translator.detect(query)
        if detected is None or base_language(detected) != "en":
            [result] = await translator.translate([query.strip()[:300]], ENGLISH,
                                                  source=base_language(detected) if detected else None)
            if result.translated:
                english = queries.search_words(result.text)
    groups = [words] + ([english] if english and english != words else [])
    async with ix.bot.db.session() as session:
        found_hits = await queries.search(session, groups, filters, limit=limit)
        every_word = True
        if not found_hits.hits and any(len(group) > 1 for group in groups):
            found_hits = await queries.search(session, groups, filters, limit=limit, every_word=False)
            every_word = False
        ids = [hit.practice_id for hit in found_hits.hits]
        found = await queries.practices_by_ids(session, ids)
        topics = await queries.topics_of(session, ids)
        cities = await queries.city_names(session, [p.city_id for p in found.values()])
    return SearchOutcome([found[i] for i in ids if i in found], topics, cities, english, every_word,
                         found_hits.capped)
