"""`/icc deadline …`: the ICC team sets deadlines; cities mark them done or snooze their
reminders (also with the buttons under each reminder); the ICC team sees who has answered.

On Slack and Discord `/icc deadline add` (and `edit <id>`) with nothing else opens a form.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, timedelta

from babel.lists import format_list
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import Param, UsageError
from bot.context import CommandContext, Interaction
from bot.core import Bot, refusal
from bot.deadlines import actions
from bot.deadlines.audience import audience_label, resolve_audience
from bot.deadlines.closing import close_reminders
from bot.deadlines.fields import FIELDS, MAX_DESCRIPTION, MAX_TITLE, DeadlineFields, FieldError, parse_fields
from bot.deadlines.home import deadlines_part
from bot.deadlines.planning import SNOOZES, local_date, parse_plan
from bot.deadlines.recurrence import follow_up_answers
from bot.deadlines.render import (
    DONE_ACTION,
    SNOOZE_ACTION,
    babel_locale,
    format_day,
    name_list,
    relative_day,
    when_label,
)
from bot.deadlines.status import load_status, status_csv, status_message
from bot.events import ButtonPressed, FormResult, FormSubmitted
from bot.home import DEADLINES_ORDER, home_parts
from bot.i18n import Message, Text, _, _n, join_lines
from bot.lookups import city_named
from bot.outbound import Form, FormField, Outgoing
from bot.permissions import Access
from storage.models import Channel, City, Deadline, DeadlineCity, Person
from storage.queries import deadlines as queries

log = logging.getLogger(__name__)

ADD_FORM = "deadline.add"
RECENT_DAYS = 60
SHORT_LIST = 12
"""Cities named in an answer before `(+N)`."""
"""`/icc deadline list` shows deadlines due up to this many days ago that cities still owe."""
EDIT_FORM = "deadline.edit"


def _field_params() -> tuple[Param, ...]:
    return (Param("title", _("what is due, at most {max} characters", max=MAX_TITLE)),
            Param("due", _("the due date, YYYY-MM-DD")),
            Param("audience", _("all, network:<network>, group:<group> or cities:<city>,<city>")),
            Param("description", _("what to send and how, at most {max} characters", max=MAX_DESCRIPTION)),
            Param("link", _("a link to the form or the page")),
            Param("repeat", _("yearly, every-<n>-months, or none")),
            Param("plan", _("reminder days from the due date, such as -14,-7,-1,0,3,7")),
            Param("time", _("local time of the reminders, such as 09:30")))


def setup(bot: Bot) -> None:
    command = bot.commands.command
    deadline_id = Param("id", _("the deadline's number"), positional=True, required=True, kind="integer",
                        complete="deadline")
    city = Param("city", _("the city (ICC team: any city)"), complete="city")
    command("deadline", "add", summary=_("Set a deadline for all cities, a network, a group or a list of cities."),
            usage='/icc deadline add title="…" due=YYYY-MM-DD [audience=all|network:<n>|group:<g>|cities:<a>,<b>] '
                  '[description="…"] [link=…] [repeat=yearly|every-<n>-months] [plan=-14,-7,-1,0,3,7] [time=09:30]',
            params=_field_params(), form=True)(add)
    command("deadline", "edit", summary=_("Change a deadline; a new due date or plan plans its reminders afresh."),
            usage="/icc deadline edit <id> [title=…] [due=…] [audience=…] [description=…] [link=…] [repeat=…] "
                  "[plan=…] [time=…]",
            params=(deadline_id, *_field_params()), form=True)(edit)
    command("deadline", "cancel", summary=_("Cancel a deadline: no more reminders."),
            usage="/icc deadline cancel <id>", params=(deadline_id,))(cancel)
    command("deadline", "list", summary=_("List the open deadlines (`all`: also past and cancelled ones)."),
            usage="/icc deadline list [all]",
            params=(Param("which", _("`all` to include past and cancelled deadlines"), positional=True,
                          choices=("all",)),))(list_deadlines)
    command("deadline", "show", summary=_("Show a deadline."), usage="/icc deadline show <id>",
            params=(deadline_id,))(show)
    command("deadline", "done", summary=_("Say that your city has answered: no more reminders for it."),
            usage="/icc deadline done <id> [city=<city>]", city_param="city", params=(deadline_id, city))(done)
    command("deadline", "reopen", summary=_("Undo `done`: your city is reminded again."),
            usage="/icc deadline reopen <id> [city=<city>]", city_param="city", params=(deadline_id, city))(reopen)
    command("deadline", "snooze", summary=_("Put off your city's next reminder by a day, three days or a week."),
            usage="/icc deadline snooze <id> 1d|3d|1w [city=<city>]", city_param="city",
            params=(deadline_id, Param("duration", _("1d, 3d or 1w"), positional=True, required=True,
                                       choices=tuple(SNOOZES)), city))(snooze)
    command("deadline", "status", summary=_("Who has answered a deadline and who has not, per network."),
            usage="/icc deadline status <id> [format=text|csv]",
            params=(deadline_id, Param("format", _("text or csv"), choices=("text", "csv"))))(status)
    bot.on_button("deadline.", on_button)
    home_parts(bot).add(deadlines_part, order=DEADLINES_ORDER)
    bot.on_form(ADD_FORM, on_add_form)
    bot.on_form(EDIT_FORM, on_edit_form)


# ---- helpers ------------------------------------------------------------------------------------


def _today(bot: Bot) -> date:
    return local_date(bot.clock.now(), bot.settings.icc_timezone)


def _fields(ctx: CommandContext) -> dict[str, str | None]:
    return {name: (ctx.text_arg(name) if ctx.arg(name) is not None else None) for name in FIELDS}


def _id(ctx: CommandContext) -> int:
    value = ctx.arg("id")
    assert isinstance(value, int)  # an integer parameter: the binder converted it
    return value


def _check(bot: Bot, values: Mapping[str, str | None]) -> DeadlineFields:
    try:
        return parse_fields(values, today=_today(bot))
    except FieldError as error:
        raise UsageError(error.message) from None


async def _deadline(session: AsyncSession, deadline_id: int) -> Deadline:
    deadline = await queries.get_deadline(session, deadline_id)
    if deadline is None:
        raise UsageError(_("There is no deadline #{id}. `/icc deadline list` shows them.", id=deadline_id))
    return deadline


def plan_label(deadline: Deadline, locale: str) -> Message:
    steps = parse_plan(deadline.plan)
    parts: list[Text] = []
    before = [str(-step) for step in steps if step < 0]
    after = [str(step) for step in steps if step > 0]
    if before:
        parts.append(_("the day before") if before == ["1"] else
                     _("{days} days before", days=format_list(before, locale=babel_locale(locale))))
    if 0 in steps:
        parts.append(_("on the due date"))
    if after:
        parts.append(_("the day after") if after == ["1"] else
                     _("{days} days after", days=format_list(after, locale=babel_locale(locale))))
    steps_text = Message(", ".join(f"{{p{index}}}" for index in range(len(parts))),
                         {f"p{index}": part for index, part in enumerate(parts)})
    return _("{steps}, at {time} local time on working days", steps=steps_text, time=deadline.remind_at)


def repeat_label(repeat: str | None) -> Message:
    if repeat is None:
        return _("does not repeat")
    if repeat == "yearly":
        return _("every year")
    months = int(repeat.split("-")[1])
    return _n("every month", "every {count} months", months)


async def _unreachable(session: AsyncSession, city_ids: list[int]) -> list[City]:
    """Cities with no channel of their own and no coordinator: no reminder can reach them."""
    if not city_ids:
        return []
    with_channel = select(Channel.city_id).where(col(Channel.city_id).in_(city_ids))
    with_people = select(Person.city_id).where(col(Person.city_id).in_(city_ids))
    result = await session.exec(select(City).where(col(City.id).in_(city_ids), col(City.id).not_in(with_channel),
                                                   col(City.id).not_in(with_people)).order_by(col(City.name)))
    return list(result)


# ---- add, edit, cancel --------------------------------------------------------------------------


async def add(ctx: CommandContext) -> None:
    assert ctx.args is not None
    if ctx.args.empty and ctx.can_open_form:
        await ctx.open_form(deadline_form(ADD_FORM))
        return
    for name in ("title", "due"):
        if not ctx.arg(name):
            raise UsageError(_("`{name}` is missing.", name=name), ctx.spec)
    fields = _check(ctx.bot, _fields(ctx))
    await ctx.reply(await _create(ctx, fields))


async def _create(ix: Interaction, fields: DeadlineFields) -> Message:
    now = ix.bot.clock.now()
    async with ix.bot.db.session() as session:
        audience = await resolve_audience(session, fields.audience or "all")
        if not audience.cities:
            raise UsageError(_("No city is loaded yet: an administrator runs `icc-bot seed` first."))
        deadline = await actions.create_deadline(session, fields, audience, now=now, created_by_id=ix.person_id)
        assert deadline.id is not None
        zones = {city.id: city.timezone for city in audience.cities}
        # The first day a city is reminded, in its own calendar.
        first = min((local_date(row.due_at, zones[row.city_id]) for row in
                     await queries.reminders_of(session, deadline.id) if row.state == "pending"), default=None)
        unreachable = await _unreachable(session, [city.id for city in audience.cities if city.id is not None])
    lines: list[Text] = [
        _("Deadline #{id} created: **{title}**, due {date}, for {audience}.", id=deadline.id, title=deadline.title,
          date=format_day(deadline.due_date, ix.locale), audience=audience_label(audience.spec, len(audience.cities))),
        _("Reminders: {plan}.", plan=plan_label(deadline, ix.locale)),
    ]
    if deadline.repeat:
        lines.append(_("It repeats {when}: the next occurrence is created when this one is over.",
                       when=repeat_label(deadline.repeat)))
    if first is not None:
        lines.append(_("The first reminders go out on {date}.", date=format_day(first, ix.locale)))
    if unreachable:
        lines.append(_n("⚠️ {count} city has no channel and no coordinator yet, so no reminder can reach it: {names}.",
                        "⚠️ {count} cities have no channel and no coordinator yet, so no reminder can reach them: "
                        "{names}.", len(unreachable), names=name_list([city.name for city in unreachable], SHORT_LIST)))
    return join_lines(lines)


async def edit(ctx: CommandContext) -> None:
    deadline_id = _id(ctx)
    values = _fields(ctx)
    if all(value is None for value in values.values()):
        if ctx.can_open_form:
            async with ctx.bot.db.session() as session:
                deadline = await _deadline(session, deadline_id)
            await ctx.open_form(deadline_form(EDIT_FORM, deadline))
            return
        raise UsageError(_("Say what to change, for example `due=2027-03-31`."), ctx.spec)
    await ctx.reply(await _edit(ctx, deadline_id, _check(ctx.bot, values)))


async def _edit(ix: Interaction, deadline_id: int, fields: DeadlineFields) -> Message:
    async with ix.bot.db.session() as session:
        deadline = await _deadline(session, deadline_id)
        if deadline.state == "cancelled":
            raise UsageError(_("Deadline #{id} is cancelled; create a new one instead.", id=deadline_id))
        result = await actions.edit_deadline(session, deadline, fields, now=ix.bot.clock.now())
    if not result.changed:
        return _("Nothing changed: #{id} already reads like that.", id=deadline_id)
    lines: list[Text] = [_("Deadline #{id} updated: {fields}.", id=deadline_id, fields=", ".join(result.changed))]
    if result.added:
        lines.append(_("Added to the audience: {names}.", names=name_list(result.added, SHORT_LIST)))
    if result.removed:
        lines.append(_("No longer asked: {names}.", names=name_list(result.removed, SHORT_LIST)))
    if fields.replans:
        lines.append(_("Reminders are planned afresh for the cities that have not answered: {plan}.",
                       plan=plan_label(deadline, ix.locale)))
    return join_lines(lines)


async def cancel(ctx: CommandContext) -> None:
    deadline_id = _id(ctx)
    async with ctx.bot.db.session() as session:
        deadline = await _deadline(session, deadline_id)
        if deadline.state == "cancelled":
            raise UsageError(_("Deadline #{id} is already cancelled.", id=deadline_id))
        dropped = await actions.cancel_deadline(session, deadline, now=ctx.bot.clock.now(), person_id=ctx.person_id)
    lines: list[Text] = [_n("Deadline #{id} **{title}** cancelled: {count} reminder will not go out.",
                            "Deadline #{id} **{title}** cancelled: {count} reminders will not go out.", dropped,
                            id=deadline_id, title=deadline.title)]
    if deadline.repeat:
        lines.append(_("It was recurring: no further occurrence will be created."))
    await ctx.reply(join_lines(lines))


# ---- list, show, status -----------------------------------------------------------------------------


async def list_deadlines(ctx: CommandContext) -> None:
    every = ctx.arg("which") == "all"
    own_city = ctx.person.city_id if not ctx.roles.icc_team else None
    async with ctx.bot.db.session() as session:
        today = _today(ctx.bot)
        deadlines = await queries.list_deadlines(
            session, due_since=None if every else today - timedelta(days=RECENT_DAYS), include_cancelled=every,
            city_id=own_city)
        ids = [d.id for d in deadlines if d.id is not None]
        counts = await queries.answer_counts(session, ids)
        if not every:  # past its due date, a deadline stays listed while a city has not answered
            deadlines = [d for d in deadlines if d.due_date >= today
                         or counts.get(d.id or 0, (0, 0))[0] < counts.get(d.id or 0, (0, 0))[1]]
        mine = await queries.entries_of_city(session, own_city, ids) if own_city else {}
    if not deadlines:
        await ctx.reply(_("No open deadlines. The ICC team sets them with `/icc deadline add`."))
        return
    lines: list[Text] = [_("Deadlines:") if every else _("Open deadlines:")]
    for deadline in deadlines:
        done, total = counts.get(deadline.id or 0, (0, 0))
        line = _("• #{id} **{title}**: due {date} · {audience} · {done}/{total} answered", id=deadline.id,
                 title=deadline.title, date=format_day(deadline.due_date, ctx.locale),
                 audience=audience_label(deadline.audience), done=done, total=total)
        if deadline.state == "cancelled":
            line = _("{line} · cancelled", line=line)
        entry = mine.get(deadline.id or 0)
        if entry is not None:
            line = _("{line} · your city: {state}", line=line,
                     state=_("✅ answered") if entry.done_at else _("⏳ not yet"))
        lines.append(line)
    await ctx.reply(join_lines(lines))


async def show(ctx: CommandContext) -> None:
    deadline_id = _id(ctx)
    async with ctx.bot.db.session() as session:
        deadline = await _deadline(session, deadline_id)
        done, total = (await queries.answer_counts(session, [deadline_id])).get(deadline_id, (0, 0))
        following = await queries.successor_of(session, deadline_id)
        city = await session.get(City, ctx.person.city_id) if ctx.person.city_id else None
        entry = await queries.audience_entry(session, deadline_id, city.id) if city and city.id else None
        upcoming = [row.due_at for row in await queries.pending_of(session, deadline_id, city.id)] \
            if entry and city and city.id else []
        done_by = await session.get(Person, entry.done_by_id) if entry and entry.done_by_id else None
    days = (deadline.due_date - _today(ctx.bot)).days
    lines: list[Text] = [
        f"**#{deadline.id} {deadline.title}**",
        _("Due {date} ({when}).", date=format_day(deadline.due_date, ctx.locale),
          when=relative_day(days)),
        _("For {audience}: {done} of {total} answered.", audience=audience_label(deadline.audience, total),
          done=done, total=total),
        _("Reminders: {plan}.", plan=plan_label(deadline, ctx.locale)),
        _("Repeats: {repeat}.", repeat=repeat_label(deadline.repeat)),
    ]
    if following is not None:
        lines.append(_("Next occurrence: #{id}, due {date}.", id=following.id,
                       date=format_day(following.due_date, ctx.locale)))
    if deadline.description:
        lines.append(deadline.description)
    if deadline.link:
        lines.append(f"🔗 {deadline.link}")
    if deadline.state == "cancelled":
        lines.append(_("Cancelled: no reminders go out."))
    if entry is not None and city is not None:
        if entry.done_at is not None:
            lines.append(_("{city} answered on {date} ({who}).", city=city.name,
                           date=format_day(local_date(entry.done_at, city.timezone), ctx.locale),
                           who=done_by.display_name if done_by else "?"))
        elif upcoming:
            lines.append(_("{city} has not answered yet. Next reminder: {when}.", city=city.name,
                           when=when_label(upcoming[0], city.timezone, ctx.locale)))
        else:
            lines.append(_("{city} has not answered yet.", city=city.name))
    await ctx.reply(join_lines(lines))


async def status(ctx: CommandContext) -> None:
    deadline_id = _id(ctx)
    async with ctx.bot.db.session() as session:
        deadline = await _deadline(session, deadline_id)
        statuses = await load_status(session, deadline)
    if ctx.arg("format") == "csv":
        # The core has no file attachments yet: the CSV comes as a code block to copy
        # (`icc-bot deadlines status <id> --csv > file.csv` writes a file).
        table = status_csv(deadline, statuses)
        await ctx.reply(_("Status of #{id} as CSV ({count} cities):\n```csv\n{csv}```", id=deadline_id,
                          count=len(statuses), csv=table))
        return
    await ctx.reply(status_message(deadline, statuses, ctx.locale))


# ---- done, snooze, reopen: commands and buttons -------------------------------------------------


async def _city_of(ix: Interaction, session: AsyncSession, name: str) -> City:
    if name:
        return await city_named(session, name)
    city = await session.get(City, ix.person.city_id) if ix.person.city_id else None
    if city is None:
        raise UsageError(_("Name the city: `city=<city>`."))
    return city


async def _mark_done(ix: Interaction, deadline_id: int, city: City, pressed: ButtonPressed | None = None) -> Message:
    now = ix.bot.clock.now()
    async with ix.bot.db.session() as session:
        deadline = await _deadline(session, deadline_id)
        if deadline.state == "cancelled":
            raise UsageError(_("Deadline #{id} is cancelled: there is nothing to answer.", id=deadline_id))
        entry = await _entry(session, deadline, city)
        already = entry.done_at is not None
        if already:
            who = await session.get(Person, entry.done_by_id) if entry.done_by_id else None
        else:
            entry = await actions.mark_done(session, deadline, city, now=now, person_id=ix.person_id)
    if already:
        assert entry.done_at is not None
        return _("{city} had already answered **{title}** ({date}, {who}).", city=city.name, title=deadline.title,
                 date=format_day(local_date(entry.done_at, city.timezone), ix.locale),
                 who=who.display_name if who else "?")
    await follow_up_answers(ix.bot, deadline_id, now)
    assert city.id is not None
    note = _("✅ Done: marked by {name}.", name=ix.person.display_name)
    closed = await close_reminders(ix.bot, deadline_id, city.id, note)
    if pressed is not None and pressed.message_id not in closed:
        await _close_reminder(ix, pressed, note)  # one whose message id was not on record
    return _("✅ {city} has answered **{title}**. No more reminders for it.", city=city.name, title=deadline.title)


async def _entry(session: AsyncSession, deadline: Deadline, city: City) -> DeadlineCity:
    try:
        return await actions.entry_for(session, deadline, city)
    except actions.NotInAudience:
        raise UsageError(_("{city} is not asked for deadline #{id}.", city=city.name, id=deadline.id)) from None


async def _snooze(ix: Interaction, deadline_id: int, city: City, choice: str) -> Message:
    async with ix.bot.db.session() as session:
        deadline = await _deadline(session, deadline_id)
        entry = await _entry(session, deadline, city)
        if entry.done_at is not None:
            raise UsageError(_("{city} has already answered **{title}**: no reminder is left.", city=city.name,
                               title=deadline.title))
        until = await actions.snooze(session, deadline, city, SNOOZES[choice], now=ix.bot.clock.now())
    if until is None:
        return _("No reminder is left to snooze for {city} on #{id}.", city=city.name, id=deadline_id)
    return _("💤 Snoozed: the next reminder of **{title}** for {city} comes on {when}.", title=deadline.title,
             city=city.name, when=when_label(until, city.timezone, ix.locale))


async def done(ctx: CommandContext) -> None:
    async with ctx.bot.db.session() as session:
        city = await _city_of(ctx, session, ctx.text_arg("city"))
    await ctx.reply(await _mark_done(ctx, _id(ctx), city))


async def snooze(ctx: CommandContext) -> None:
    async with ctx.bot.db.session() as session:
        city = await _city_of(ctx, session, ctx.text_arg("city"))
    await ctx.reply(await _snooze(ctx, _id(ctx), city, ctx.text_arg("duration")))


async def reopen(ctx: CommandContext) -> None:
    deadline_id = _id(ctx)
    async with ctx.bot.db.session() as session:
        city = await _city_of(ctx, session, ctx.text_arg("city"))
        deadline = await _deadline(session, deadline_id)
        entry = await _entry(session, deadline, city)
        if entry.done_at is None:
            raise UsageError(_("{city} has not answered #{id} yet: there is nothing to reopen.", city=city.name,
                               id=deadline_id))
        upcoming = await actions.reopen(session, deadline, city, now=ctx.bot.clock.now())
    if upcoming:
        await ctx.reply(_("{city} is asked again for **{title}**. Next reminder: {when}.", city=city.name,
                          title=deadline.title, when=when_label(upcoming[0], city.timezone, ctx.locale)))
    else:
        await ctx.reply(_("{city} is asked again for **{title}**, but no reminder of its plan is left.",
                          city=city.name, title=deadline.title))


async def on_button(ix: Interaction, event: ButtonPressed) -> None:
    deadline_text, _sep, city_text = event.value.partition(":")
    if not (deadline_text.isdigit() and city_text.isdigit()):
        log.warning("deadline button with a value it cannot read: %r", event.value)
        await ix.reply(_("This button no longer works. Use `/icc deadline list`."))
        return
    deadline_id, city_id = int(deadline_text), int(city_text)
    async with ix.bot.db.session() as session:
        city = await session.get(City, city_id)
    if city is None:
        await ix.reply(_("This button no longer works. Use `/icc deadline list`."))
        return
    if not ix.allows(Access.CITY_COORDINATOR, city_id=city_id):
        await ix.reply(_("Only a coordinator of {city} or the ICC team can answer this reminder. If you coordinate "
                         "{city}, register first with `/icc city register {city}`.", city=city.name))
        return
    try:
        if event.action_id == DONE_ACTION:
            answer = await _mark_done(ix, deadline_id, city, event)
        elif event.action_id.startswith(SNOOZE_ACTION) and event.action_id[len(SNOOZE_ACTION):] in SNOOZES:
            answer = await _snooze(ix, deadline_id, city, event.action_id[len(SNOOZE_ACTION):])
        else:
            log.warning("unknown deadline button %s", event.action_id)
            return
    except UsageError as error:
        answer = error.message
    await ix.reply(answer)


async def _close_reminder(ix: Interaction, event: ButtonPressed, note: Message) -> None:
    """The reminder whose Done was pressed loses its buttons and says who answered (when
    `close_reminders` did not know it)."""
    if event.channel is None or event.message_id is None:
        return
    adapter = ix.bot.adapters.get(event.channel.platform)
    if adapter is None:
        return
    try:
        text = await adapter.fetch_message_text(event.channel, event.message_id)
        if text is not None:
            await adapter.edit(event.channel, event.message_id, Outgoing(f"{text}\n{ix.t(note)}", kind="reminder"))
    except Exception:  # the answer stands even if the old message cannot be edited
        log.warning("could not update reminder message %s", event.message_id, exc_info=True)


# ---- forms (Slack, Discord) -----------------------------------------------------------------------


def deadline_form(form_id: str, deadline: Deadline | None = None) -> Form:
    """At most five fields (a Discord modal's limit); the rest inline or with `edit`."""
    return Form(
        form_id, _("New deadline") if deadline is None else _("Edit deadline #{id}", id=deadline.id),
        (FormField("title", _("Title"), max_length=MAX_TITLE, initial=deadline.title if deadline else None),
         FormField("due", _("Due date (YYYY-MM-DD)"), max_length=10, placeholder="2027-03-31",
                   initial=deadline.due_date.isoformat() if deadline else None),
         FormField("audience", _("Audience"), placeholder="all, network:reci, group:anti-rumours, cities:Lyon,Oslo",
                   initial=deadline.audience if deadline else "all"),
         FormField("repeat", _("Repeats"), required=False, placeholder="yearly, every-2-months",
                   initial=deadline.repeat or "none" if deadline else None),
         FormField("description", _("Description"), kind="long_text", required=False, max_length=MAX_DESCRIPTION,
                   initial=deadline.description if deadline else None)),
        _("Save"), context=str(deadline.id) if deadline else "")


def _form_values(event: FormSubmitted) -> dict[str, str | None]:
    values = {name: (value if isinstance(value, str) else ",".join(value)) for name, value in event.values.items()}
    return {name: values.get(name) for name in FIELDS}


async def _form(ix: Interaction, event: FormSubmitted, editing: int | None) -> FormResult:
    if not ix.allows(Access.ICC_TEAM):
        await ix.reply(refusal(Access.ICC_TEAM))
        return FormResult()
    values = _form_values(event)
    try:
        fields = parse_fields(values, today=_today(ix.bot))
        if editing is None and not (fields.title and fields.due):
            missing = "title" if not fields.title else "due"
            return FormResult({missing: ix.t(_("`{name}` is missing.", name=missing))})
        answer = await (_create(ix, fields) if editing is None else _edit(ix, editing, fields))
    except FieldError as error:
        return FormResult({error.field: ix.t(error.message)})
    except UsageError as error:  # an unknown audience, a cancelled deadline
        return FormResult({"audience" if editing is None else "title": ix.t(error.message)})
    await ix.reply(answer)
    return FormResult()


async def on_add_form(ix: Interaction, event: FormSubmitted) -> FormResult | None:
    return await _form(ix, event, None)


async def on_edit_form(ix: Interaction, event: FormSubmitted) -> FormResult | None:
    if not event.context.isdigit():
        return FormResult({"title": ix.t(_("This form no longer works. Use `/icc deadline edit <id>`."))})
    return await _form(ix, event, int(event.context))
