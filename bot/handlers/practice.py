"""`/icc practice …`: the good-practice database. The work is done in `bot.practices`; this module
reads commands and forms and words the answers."""

from __future__ import annotations

import io
from collections.abc import Mapping

from bot.commands import Param, UsageError
from bot.context import CommandContext, Interaction
from bot.core import Bot
from bot.events import ButtonPressed, FormResult, FormSubmitted
from bot.grammar import GrammarError, tokenize
from bot.home import PRACTICES_ORDER, home_parts
from bot.i18n import Message, _, _n, join_lines
from bot.languages import base_language, language_name, parse_language
from bot.lookups import city_named, network_named, topic_named
from bot.outbound import Button, Form, FormField, OutgoingFile
from bot.practices import service
from bot.practices.english import FollowUp
from bot.practices.export import FORMATS, LANGS, MEDIA_TYPES, export_practices
from bot.practices.fields import LIMITS, topic_name, topic_options
from bot.practices.home import practices_part
from bot.practices.service import PracticeInputError, parse_id, reader_language
from bot.translation import Translator
from storage.models import City, Practice
from storage.models.practices import DRAFT, EN_CORRECTED, EN_ORIGINAL, EN_PENDING, PUBLISHED, STATUSES, SUBMITTED
from storage.queries import practices as queries
from storage.queries import registry

FIELD_PARAMS = ("title", "city", "topic", "period", "purpose", "rationale", "process", "link", "contact")
# Beyond this many practices an export in chat is refused: the command line does it with a progress bar.
CHAT_EXPORT_LIMIT = 5000


def _field_params() -> tuple[Param, ...]:
    return (Param("title", _("the practice's title")),
            Param("city", _("its city (yours by default)"), complete="city"),
            Param("topic", _("its topics, separated by commas"), complete="topic"),
            Param("period", _("when, such as 2019-2022 or since 2015")),
            Param("purpose", _("what it is for")),
            Param("rationale", _("what prompted it: the stimulus or rationale")),
            Param("process", _("how it was done")),
            Param("link", _("a web page about it")),
            Param("contact", _("who to ask about it")))


def setup(bot: Bot) -> None:
    home_parts(bot).add(practices_part, order=PRACTICES_ORDER)
    command = bot.commands.command
    id_param = Param("id", _("the practice's number, like #12"), positional=True, required=True, kind="integer",
                     complete="practice")
    command("practice", "add", summary=_("Add a good practice (with no arguments on Slack or Discord: a form)."),
            usage='/icc practice add title="…" topic=<topic>[,<topic>] purpose="…" [city=… period="…" '
                  'rationale="…" process="…" link=… contact=… lang=<code> draft=yes]',
            params=(*_field_params(), Param("lang", _("the language it is written in"), complete="language"),
                    Param("draft", _("keep it as a draft, not submitted yet"), choices=("yes", "no"))),
            form=True)(add)
    command("practice", "search", summary=_("Find practices, whatever their language and yours."),
            usage="/icc practice search <words> [topic=…] [city=…] [network=…]",
            params=(Param("words", _("what to look for"), positional=True, rest=True, required=True),
                    Param("topic", _("only this topic"), complete="topic"),
                    Param("city", _("only this city"), complete="city"),
                    Param("network", _("only this network"), complete="network")))(search)
    command("practice", "show", summary=_("Show a practice."),
            usage="/icc practice show <id> [lang=original|en|<code>]",
            params=(id_param, Param("lang", _("original, en, or a language code"))))(show)
    command("practice", "list", summary=_("List practices, newest first."),
            usage="/icc practice list [status=draft|submitted|published] [topic=…] [city=…] [network=…] [mine=yes]",
            params=(Param("status", _("only this status"), choices=STATUSES),
                    Param("topic", _("only this topic"), complete="topic"),
                    Param("city", _("only this city"), complete="city"),
                    Param("network", _("only this network"), complete="network"),
                    Param("mine", _("only yours"), choices=("yes", "no"))))(list_practices)
    command("practice", "edit", summary=_("Change a practice (its author or the ICC team); `lang=en` corrects "
                                          "the English version (ICC team)."),
            usage='/icc practice edit <id> field="…" … [lang=en]',
            params=(id_param, *_field_params(), Param("lang", _("`en` to correct the English version"),
                                                      choices=("en",))))(edit)
    command("practice", "submit", summary=_("Submit a draft to the ICC team."), usage="/icc practice submit <id>",
            params=(id_param,))(submit)
    command("practice", "delete", summary=_("Delete a practice (asks to confirm)."),
            usage="/icc practice delete <id>", params=(id_param,))(delete)
    command("practice", "review", summary=_("The submissions waiting for review, or one of them side by side "
                                            "with its English; `note=` sends it back to its author."),
            usage='/icc practice review [<id>] [note="…"]',
            params=(Param("id", _("the practice's number"), positional=True, kind="integer", complete="practice"),
                    Param("note", _("what to change: sends it back to its author as a draft"))))(review)
    command("practice", "publish", summary=_("Publish a practice."), usage="/icc practice publish <id>",
            params=(id_param,))(publish)
    command("practice", "export", summary=_("Export practices as a file (ICC team)."),
            usage="/icc practice export [format=md|csv|json] [lang=en|original|both] [status=published|submitted|all]",
            params=(Param("format", _("md, csv or json"), choices=FORMATS),
                    Param("lang", _("en (default), original or both"), choices=LANGS),
                    Param("status", _("published (default), submitted or all"),
                          choices=("published", "submitted", "all"))))(export)
    bot.on_form("practice.", on_form)
    bot.on_button("practice.", on_button)
    bot.scheduler.add(FollowUp(bot))


# ---- words shared by several answers --------------------------------------------------------------


def status_label(status: str) -> Message:
    return {DRAFT: _("draft"), SUBMITTED: _("submitted"), PUBLISHED: _("published")}.get(status, _("draft"))


def field_label(name: str) -> Message:
    return {"title": _("Title"), "city": _("City"), "topic": _("Topics"), "period": _("Period"),
            "purpose": _("Purpose"), "rationale": _("Stimulus/Rationale"), "process": _("Process"),
            "link": _("Link"), "contact": _("Contact"), "lang": _("Language")}.get(name, _("Title"))


def input_errors(error: PracticeInputError) -> Message:
    lines: list[Message | str] = [_("Nothing was saved:")]
    lines += [_("• {field}: {problem}", field=field_label(name), problem=problem)
              for name, problem in error.errors.items()]
    return join_lines(lines)


def _id(ctx: CommandContext) -> int:
    value = ctx.arg("id")
    assert isinstance(value, int)
    return value


def _summary(text: str, limit: int = 140) -> str:
    first = " ".join(text.split())
    for stop in (". ", "! ", "? "):
        if stop in first[:limit]:
            return first[:first.index(stop, 0, limit) + 1]
    return first if len(first) <= limit else first[:limit - 1].rstrip() + "…"


# ---- add ------------------------------------------------------------------------------------------


async def add(ctx: CommandContext) -> None:
    assert ctx.args is not None
    if ctx.args.empty:
        if ctx.can_open_form:
            await ctx.open_form(await add_form(ctx))
            return
        raise UsageError(_("Give the practice's fields: at least `title`, `topic` and `purpose`."), ctx.spec)
    raw = dict(ctx.args.values)
    try:
        practice = await service.add_practice(ctx, raw, draft=raw.pop("draft", "no") == "yes")
    except PracticeInputError as error:
        await ctx.reply(input_errors(error))
        return
    await ctx.reply(added_answer(practice))


def added_answer(practice: Practice) -> Message:
    if practice.status == DRAFT:
        return _("Practice #{id} saved as a draft. Submit it with `/icc practice submit {id}`.", id=practice.id)
    return _("Practice #{id} submitted, thank you! Its English version is on its way and its topics' groups "
             "are told. See it with `/icc practice show {id}`.", id=practice.id)


async def add_form(ix: Interaction) -> Form:
    """The form: text fields with their limits, a multi-select of the topics, and the city — a select
    for a coordinator (their city), a text field with theirs filled in for whoever may name any."""
    async with ix.bot.db.session() as session:
        own = await session.get(City, ix.person.city_id) if ix.person.city_id else None
    if own is not None and not (ix.roles.icc_team or ix.roles.lead_of):
        city = FormField("city", _("City"), kind="select", options=((own.slug, own.name),), initial=own.slug)
    else:
        city = FormField("city", _("City"), initial=own.name if own else None, max_length=200,
                         placeholder=_("the city's name"))
    return Form("practice.add", _("New good practice"), (
        FormField("title", _("Title"), max_length=LIMITS["title"]),
        city,
        FormField("topic", _("Topics"), kind="multi_select", options=topic_options()),
        FormField("period", _("Period"), required=False, max_length=LIMITS["period"],
                  placeholder=_("2019-2022, or since 2015")),
        FormField("purpose", _("Purpose"), kind="long_text", max_length=LIMITS["purpose"]),
        FormField("rationale", _("Stimulus/Rationale"), kind="long_text", required=False,
                  max_length=LIMITS["rationale"]),
        FormField("process", _("Process"), kind="long_text", required=False, max_length=LIMITS["process"]),
        FormField("link", _("Link"), required=False, max_length=LIMITS["link"], placeholder="https://…"),
        FormField("contact", _("Contact"), required=False, max_length=LIMITS["contact"]),
    ), _("Submit"))


def _form_values(values: Mapping[str, str | list[str]]) -> dict[str, object]:
    """A form's answers as the inline command's arguments: an empty optional field is absent."""
    raw: dict[str, object] = {}
    for name in FIELD_PARAMS:
        value = values.get(name)
        if value is None or value == "" or value == []:
            continue
        raw[name] = value
    return raw


async def on_form(ix: Interaction, event: FormSubmitted) -> FormResult | None:
    if event.form_id != "practice.add":
        return None
    from bot.core import refusal
    from bot.permissions import Access

    if not ix.allows(Access.COORDINATOR):
        await ix.reply(refusal(Access.COORDINATOR))
        return FormResult()
    try:
        practice = await service.add_practice(ix, _form_values(event.values))
    except PracticeInputError as error:
        return FormResult(errors={name: ix.t(problem) for name, problem in error.errors.items()})
    await ix.reply(added_answer(practice))
    return FormResult()


# ---- search, list, show ---------------------------------------------------------------------------

_FILTER_KEYS = ("topic", "city", "network")


def _split_query(ctx: CommandContext) -> tuple[str, dict[str, str]]:
    """`accueil migrants topic=x` → the words and the options typed after them."""
    words = ctx.text_arg("words")
    options = {key: ctx.text_arg(key) for key in _FILTER_KEYS if ctx.arg(key)}
    try:
        tokens = tokenize(words)
    except GrammarError:
        return words, options
    kept = []
    for token in tokens:
        if token.key in _FILTER_KEYS and token.key not in options:
            options[token.key] = token.value
        else:
            kept.append(token.value if token.key is None else f"{token.key} {token.value}")
    return " ".join(kept), options


async def _filters(ctx: CommandContext, options: Mapping[str, str]) -> queries.Filters:
    topic = topic_named(options["topic"]).slug if options.get("topic") else None
    async with ctx.bot.db.session() as session:
        city = await city_named(session, options["city"]) if options.get("city") else None
        network = await network_named(session, options["network"]) if options.get("network") else None
    return queries.Filters(topic=topic, city_id=city.id if city else None, network_id=network.id if network else None,
                           drafts_of=ctx.person_id, all_drafts=ctx.roles.icc_team)


async def search(ctx: CommandContext) -> None:
    words, options = _split_query(ctx)
    filters = await _filters(ctx, options)
    outcome = await service.search(ctx, words, filters)
    if not outcome.practices:
        await ctx.reply(_("No practice matches “{words}”. Try other words, or fewer.", words=words[:100]))
        return
    lines: list[Message | str] = [
        _("Practices matching “{words}”:", words=words[:100]) if outcome.every_word
        else _("No practice has all of “{words}”; these have some of the words:", words=words[:100])]
    if outcome.english_words:
        lines.append(_("(also searched in English: {words})", words=" ".join(outcome.english_words)))
    lines += await result_lines(ctx, outcome.practices, outcome.topics, outcome.cities)
    if outcome.many:
        lines.append(_("Many practices match, and only some of them were compared for this list: add words, or "
                       "topic=, city= or network=, to narrow the search."))
    lines.append(_("`/icc practice show <id>` shows one."))
    await ctx.reply(join_lines(lines))


async def result_lines(ix: Interaction, practices: list[Practice], topics: Mapping[int, list[str]],
                       cities: Mapping[int, City]) -> list[Message | str]:
    """One entry per practice: its id, title, city, topics and status, then a one-line summary, in the
    reader's language where it can be had (the original, the English version, or a translation)."""
    texts = await in_reader_language(ix, practices, ("title", "purpose"))
    lines: list[Message | str] = []
    for practice in practices:
        assert practice.id is not None
        title, purpose = texts[practice.id]
        city = cities.get(practice.city_id)
        lines.append(_("**#{id}** {title} · {city} · {topics} · {status}", id=practice.id, title=title,
                       city=city.name if city else "?",
                       topics=", ".join(topic_name(t) for t in topics.get(practice.id, [])),
                       status=status_label(practice.status)))
        lines.append(f"    {_summary(purpose)}")
    return lines


def _english_or_original(practice: Practice, name: str) -> str:
    english = getattr(practice, f"{name}_en", None)
    return english if english is not None and practice.en_state != EN_ORIGINAL else getattr(practice, name)


async def in_reader_language(ix: Interaction, practices: list[Practice], names: tuple[str, ...],
                             language: str | None = None) -> dict[int, list[str]]:
    """Fields of several practices in the reader's language: the original when it is theirs, the
    English version for English readers, else one translation request for all of them (from the
    English version when it exists), falling back to English, then to the original."""
    language = language or reader_language(ix)
    found: dict[int, list[str]] = {}
    wanted: list[tuple[int, int, str]] = []
    for practice in practices:
        assert practice.id is not None
        if base_language(practice.language) == language:
            found[practice.id] = [getattr(practice, name) for name in names]
            continue
        found[practice.id] = [_english_or_original(practice, name) for name in names]
        if language != "en":
            wanted += [(practice.id, index, value) for index, value in enumerate(found[practice.id]) if value]
    translator = ix.bot.service(Translator)  # type: ignore[type-abstract]
    if wanted and translator.enabled:
        results = await translator.translate([value for _id, _index, value in wanted], language)
        for (practice_id, index, _value), result in zip(wanted, results, strict=True):
            if result.translated:
                found[practice_id][index] = result.text
    return found


async def list_practices(ctx: CommandContext) -> None:
    options = {key: ctx.text_arg(key) for key in _FILTER_KEYS if ctx.arg(key)}
    base = await _filters(ctx, options)
    status = ctx.text_arg("status") or None
    if status == DRAFT and not ctx.roles.icc_team:
        filters = queries.Filters(topic=base.topic, city_id=base.city_id, network_id=base.network_id,
                                  statuses=(DRAFT,), author_id=ctx.person_id)
    else:
        filters = queries.Filters(topic=base.topic, city_id=base.city_id, network_id=base.network_id,
                                  statuses=(status,) if status else None, drafts_of=ctx.person_id,
                                  all_drafts=ctx.roles.icc_team,
                                  author_id=ctx.person_id if ctx.text_arg("mine") == "yes" else None)
    async with ctx.bot.db.session() as session:
        total = await queries.count_practices(session, filters)
        practices = await queries.list_practices(session, filters, limit=15)
        ids = [p.id for p in practices if p.id is not None]
        topics = await queries.topics_of(session, ids)
        cities = await queries.city_names(session, [p.city_id for p in practices])
    if not practices:
        await ctx.reply(_("No practice yet. Add one with `/icc practice add`."))
        return
    lines: list[Message | str] = [_n("{count} practice, newest first:", "{count} practices, newest first:", total)]
    lines += await result_lines(ctx, practices, topics, cities)
    if total > len(practices):
        lines.append(_("… and {count} more: narrow the list with topic=, city= or status=.",
                       count=total - len(practices)))
    await ctx.reply(join_lines(lines))


async def show(ctx: CommandContext) -> None:
    practice = await service.practice_for(ctx, _id(ctx))
    wanted = ctx.text_arg("lang").lower()
    await ctx.reply(await practice_text(ctx, practice, wanted))


async def practice_text(ix: Interaction, practice: Practice, wanted: str = "") -> Message:
    """The whole practice in the template's order, in the language asked for (`original`, `en`, a
    code) or by default the reader's; says which version it is and how to see the other."""
    assert practice.id is not None
    async with ix.bot.db.session() as session:
        city = await session.get(City, practice.city_id)
        network = await registry.network_of(session, city) if city else None
        topics = (await queries.topics_of(session, [practice.id]))[practice.id]
    names = ("title", "period", "purpose", "rationale", "process")
    original_language = base_language(practice.language)
    if wanted and wanted not in ("original", "en") and parse_language(wanted) is None:
        raise UsageError(_("`lang` is original, en, or a language code such as fr."))
    target = (original_language if wanted == "original" else "en" if wanted == "en"
              else base_language(parse_language(wanted) or "") if wanted else reader_language(ix))
    version: Message
    if target == original_language:
        values = [getattr(practice, name) for name in names]
        version = _("Original, in {language}.", language=language_name(original_language, ix.locale))
    elif target == "en":
        if practice.en_state == EN_PENDING:
            values = [_english_or_original(practice, name) for name in names]
            version = _("The English version is not made yet (translation pending); this is the original, in "
                        "{language}.", language=language_name(original_language, ix.locale))
        else:
            values = [_english_or_original(practice, name) for name in names]
            version = (_("English version, corrected by the ICC team.") if practice.en_state == EN_CORRECTED
                       else _("English version, machine-translated."))
    else:
        values = (await in_reader_language(ix, [practice], names, language=target))[practice.id]
        translated = values != [_english_or_original(practice, name) for name in names]
        version = (_("Machine translation into {language}.", language=language_name(target, ix.locale))
                   if translated else _("English version (no translation into {language} right now).",
                                        language=language_name(target, ix.locale)))
        if practice.en_state == EN_PENDING and not translated:
            version = _("The English version is not made yet (translation pending); this is the original, in "
                        "{language}.", language=language_name(original_language, ix.locale))
    title, period, purpose, rationale, process = values
    place = f"{city.name} ({city.country})" if city else "?"
    lines: list[Message | str] = [
        f"**#{practice.id} · {title}**",
        _("{place} · {network} · period: {period}", place=place, network=network.name if network else "—",
          period=period or "—"),
        _("Topics: {topics} · status: {status}", topics=", ".join(topic_name(t) for t in topics),
          status=status_label(practice.status)),
        _("**Purpose**"), purpose or "—", _("**Stimulus/Rationale**"), rationale or "—",
        _("**Process**"), process or "—"]
    if practice.link:
        lines.append(_("Link: {link}", link=practice.link))
    if practice.contact:
        lines.append(_("Contact: {contact}", contact=practice.contact))
    if practice.author_name:
        lines.append(_("Added by {name}.", name=practice.author_name))
    if practice.status == DRAFT and practice.review_note:
        lines.append(_("Note from the ICC team: {note}", note=practice.review_note))
    other = "en" if target == original_language else "original"
    lines.append(join_lines([version, _("Other version: `/icc practice show {id} lang={lang}`", id=practice.id,
                                        lang=other)]) if original_language != "en" else version)
    return join_lines(lines)


# ---- edit, submit, review, publish, delete --------------------------------------------------------


async def edit(ctx: CommandContext) -> None:
    assert ctx.args is not None
    raw = {name: ctx.args.get(name) for name in FIELD_PARAMS if name in ctx.args}
    try:
        outcome = await service.edit_practice(ctx, _id(ctx), raw, english=ctx.text_arg("lang") == "en")
    except PracticeInputError as error:
        await ctx.reply(input_errors(error))
        return
    practice = outcome.practice
    if not outcome.changed:
        await ctx.reply(_("Practice #{id} already says that: nothing changed.", id=practice.id))
        return
    changed = ", ".join(outcome.changed)
    if ctx.text_arg("lang") == "en":
        await ctx.reply(_("English version of #{id} corrected: {fields}.", id=practice.id, fields=changed))
    elif outcome.back_to_review:
        await ctx.reply(_("Practice #{id} changed: {fields}. It goes back to the ICC team for review before it is "
                          "published again.", id=practice.id, fields=changed))
    else:
        await ctx.reply(_("Practice #{id} changed: {fields}.", id=practice.id, fields=changed))


async def submit(ctx: CommandContext) -> None:
    practice = await service.submit(ctx, _id(ctx))
    await ctx.reply(added_answer(practice))


async def publish(ctx: CommandContext) -> None:
    practice = await service.publish(ctx, _id(ctx))
    await ctx.reply(_("Practice #{id} is published.", id=practice.id))
    await _tell_author(ctx, practice, _("Your practice #{id} “{title}” is published. Thank you!", id=practice.id,
                                        title=practice.title))


async def _tell_author(ix: Interaction, practice: Practice, text: Message) -> None:
    """A direct message to the practice's author, when they are on a running platform."""
    if practice.author_id is None or practice.author_id == ix.person_id:
        return
    from bot.events import PersonRef
    from bot.i18n import resolve_locale
    from storage.models import Person

    async with ix.bot.db.session() as session:
        author = await session.get(Person, practice.author_id)
    if author is None or author.platform not in ix.bot.adapters.by_platform:
        return
    try:
        await ix.bot.send_dm(PersonRef(author.platform, author.workspace, author.user_id), text,
                             resolve_locale([author.language, author.platform_locale]))
    except Exception:  # a closed DM must not undo the publication
        import logging

        logging.getLogger(__name__).warning("could not tell the author of practice %s", practice.id)


async def review(ctx: CommandContext) -> None:
    if ctx.arg("id") is None:
        if ctx.arg("note"):
            raise UsageError(_("Name the practice the note is for: `/icc practice review <id> note=\"…\"`."),
                             ctx.spec)
        async with ctx.bot.db.session() as session:
            filters = queries.Filters(statuses=(SUBMITTED,))
            total = await queries.count_practices(session, filters)
            practices = await queries.list_practices(session, filters, limit=15)
            ids = [p.id for p in practices if p.id is not None]
            topics = await queries.topics_of(session, ids)
            cities = await queries.city_names(session, [p.city_id for p in practices])
        if not practices:
            await ctx.reply(_("No submission is waiting for review."))
            return
        lines: list[Message | str] = [_n("{count} submission waiting for review:",
                                         "{count} submissions waiting for review:", total)]
        lines += await result_lines(ctx, practices, topics, cities)
        lines.append(_("`/icc practice review <id>` shows one with its English version."))
        await ctx.reply(join_lines(lines))
        return
    practice_id = _id(ctx)
    if ctx.arg("note"):
        practice = await service.send_back(ctx, practice_id, ctx.text_arg("note"))
        await ctx.reply(_("Practice #{id} is back with its author as a draft, with your note.", id=practice_id))
        await _tell_author(ctx, practice, _("The ICC team has a note on your practice #{id} “{title}”: {note}\n"
                                            "Change it with `/icc practice edit {id} …`, then submit it again "
                                            "with `/icc practice submit {id}`.", id=practice_id,
                                            title=practice.title, note=practice.review_note))
        return
    practice = await service.practice_for(ctx, practice_id)
    original = await practice_text(ctx, practice, "original")
    parts: list[Message | str] = [original]
    if base_language(practice.language) != "en":
        parts += ["———", await practice_text(ctx, practice, "en")]
    buttons = () if practice.status == PUBLISHED else (
        Button(_("Publish"), "practice.publish", str(practice_id), style="primary"),)
    await ctx.reply(join_lines(parts), buttons=buttons)


async def delete(ctx: CommandContext) -> None:
    practice = await service.practice_for(ctx, _id(ctx))
    await ctx.reply(_("Delete practice #{id} “{title}”? This cannot be undone.", id=practice.id,
                      title=practice.title),
                    buttons=(Button(_("Delete"), "practice.delete", str(practice.id), style="danger"),))


async def on_button(ix: Interaction, event: ButtonPressed) -> None:
    from bot.core import refusal
    from bot.permissions import Access

    practice_id = parse_id(event.value)
    if practice_id is None:
        return
    if not ix.roles.icc_team:
        await ix.reply(refusal(Access.ICC_TEAM))
        return
    try:
        if event.action_id == "practice.delete":
            practice = await service.delete(ix, practice_id)
            await ix.reply(_("Practice #{id} “{title}” is deleted.", id=practice_id, title=practice.title))
        elif event.action_id == "practice.publish":
            practice = await service.publish(ix, practice_id)
            await ix.reply(_("Practice #{id} is published.", id=practice_id))
            await _tell_author(ix, practice, _("Your practice #{id} “{title}” is published. Thank you!",
                                               id=practice_id, title=practice.title))
    except UsageError as error:
        await ix.reply(error.message)


# ---- export ---------------------------------------------------------------------------------------


async def export(ctx: CommandContext) -> None:
    """The export as a file in a direct message (the console saves it and names the path); on a
    platform that cannot take files, the Markdown export as messages."""
    from bot.events import PersonRef

    fmt = ctx.text_arg("format") or "md"
    lang = ctx.text_arg("lang") or "en"
    status = ctx.text_arg("status") or "published"
    statuses = STATUSES if status == "all" else (status,)
    filters = queries.Filters(statuses=statuses, all_drafts=True)
    async with ctx.bot.db.session() as session:
        count = await queries.count_practices(session, filters)
    if count == 0:
        await ctx.reply(_("No practice to export with status `{status}`.", status=status))
        return
    if count > CHAT_EXPORT_LIMIT:
        await ctx.reply(_("{count} practices are too many for a chat message. On the server: `icc-bot practices "
                          "export --format {format} --output practices.{format}`.", count=count, format=fmt))
        return
    adapter = ctx.bot.adapter(ctx.person.platform)
    if not adapter.supports_files:
        fmt = "md"
    buffer = io.StringIO()
    written = await export_practices(ctx.bot.db, filters, fmt, lang, buffer)
    stamp = ctx.bot.clock.now().strftime("%Y-%m-%d")
    name = f"icc-practices-{stamp}.{fmt}"
    me = PersonRef(ctx.person.platform, ctx.person.workspace, ctx.person.user_id)
    note = _n("Export of {count} practice ({format}, texts: {lang}).",
              "Export of {count} practices ({format}, texts: {lang}).", written, format=fmt, lang=lang)
    if adapter.supports_files:
        await ctx.bot.send_dm(me, note, ctx.locale,
                              files=(OutgoingFile(name, buffer.getvalue().encode("utf-8"), MEDIA_TYPES[fmt]),))
    else:
        await ctx.bot.send_dm(me, join_lines([note, _("This platform takes no files here: the Markdown follows.")]),
                              ctx.locale)
        for part in _parts(buffer.getvalue(), adapter.max_message_chars):
            await ctx.bot.send_dm(me, part, ctx.locale)
    await ctx.reply(_("The export is in your direct messages."))


def _parts(text: str, limit: int) -> list[str]:
    from bot.text import split_text

    return split_text(text, limit)

