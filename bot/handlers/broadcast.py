"""`/icc broadcast …`: the ICC team's announcements to the network, with a preview to confirm, a
delivery report, cancel and edit. The work is done by `bot.broadcasts.Broadcasts`; this module
turns commands, the compose form and the preview's buttons into calls to it."""

from __future__ import annotations

from datetime import timedelta

from bot.broadcasts.service import CONFIRM, DISCARD, KIND, MAX_TEXT, Answer, Broadcasts, FinishJob, InputError
from bot.commands import Param, UsageError
from bot.context import CommandContext, Interaction
from bot.core import Bot, refusal
from bot.events import ButtonPressed, FormResult, FormSubmitted
from bot.i18n import _
from bot.outbound import Form, FormField
from bot.permissions import Access
from bot.relay.outbox import Outbox

FORM_ID = "broadcast.compose"
FORM_TEXT_LIMIT = 3000
"""Slack's longest text input (Discord's is 4000); longer broadcasts are typed inline."""
AUDIENCE_HELP = _("who gets it: all (every group channel), group:<g>, network:<n> (its cities' own channels), "
                  "lang:<code>, cities:<a>,<b>")


def setup(bot: Bot) -> None:
    service = Broadcasts(bot, bot.service(Outbox))
    bot.provide(Broadcasts, service)
    bot.service(Outbox).register(KIND, service.delivery.deliver, on_failure=service.delivery.on_failure,
                                 on_done=service.delivery.on_done)
    bot.on_stop(service.delivery.stop)
    bot.scheduler.add(FinishJob(service.delivery), every=timedelta(minutes=1))
    command = bot.commands.command
    broadcast_id = Param("id", _("the broadcast's number"), positional=True, required=True, kind="integer",
                         complete="broadcast")
    command("broadcast", None,
            summary=_("Announce something to the network, translated per channel; a preview comes first."),
            usage="/icc broadcast [to=all|group:<g>|network:<n>|lang:<code>|cities:<a>,<b>] "
                  "[at=YYYY-MM-DDTHH:MM] <text>",
            alias="send", form=True,
            params=(Param("to", AUDIENCE_HELP),
                    Param("at", _("when, in your time zone, like 2027-01-12T09:00 (now when left out)")),
                    Param("text", _("the announcement"), positional=True, rest=True)))(send)
    command("broadcast", "status", summary=_("Show where a broadcast was delivered, failed or is pending."),
            usage="/icc broadcast status <id>", params=(broadcast_id,))(status)
    command("broadcast", "cancel", summary=_("Cancel a scheduled broadcast (or stop one being sent)."),
            usage="/icc broadcast cancel <id>", params=(broadcast_id,))(cancel)
    command("broadcast", "edit", summary=_("Change a broadcast's text; copies already posted are edited."),
            usage="/icc broadcast edit <id> <text>",
            params=(broadcast_id, Param("text", _("the new text"), positional=True, required=True, rest=True)))(edit)
    command("broadcast", "list", summary=_("List the latest broadcasts."), usage="/icc broadcast list")(list_recent)
    bot.on_button("broadcast.", on_button)
    bot.on_form("broadcast.", on_form)


def service_of(ix: Interaction) -> Broadcasts:
    return ix.bot.service(Broadcasts)


def broadcast_id(ctx: CommandContext) -> int:
    value = ctx.arg("id")
    assert isinstance(value, int)
    return value


async def answer(ix: Interaction, reply: Answer) -> None:
    await ix.reply(reply.text, buttons=reply.buttons)


async def send(ctx: CommandContext) -> None:
    assert ctx.args is not None
    if ctx.args.empty and ctx.can_open_form:
        await ctx.open_form(compose_form())
        return
    service = service_of(ctx)
    try:
        preview = await service.prepare(ctx, to=ctx.text_arg("to"), at=ctx.text_arg("at"), text=ctx.text_arg("text"))
    except InputError as error:
        raise UsageError(error.message, ctx.spec if error.field == "text" else None) from None
    await answer(ctx, service.preview_answer(preview, ctx.locale))


def compose_form() -> Form:
    return Form(FORM_ID, _("Broadcast"), (
        FormField("to", _("To"), required=False, max_length=1000,
                  placeholder=_("all, group:<group>, network:<network>, lang:<code> or cities:<a>,<b>")),
        FormField("at", _("When (your time zone; empty: now)"), required=False, max_length=40,
                  placeholder=_("2027-01-12T09:00")),
        FormField("text", _("Announcement"), kind="long_text", max_length=min(FORM_TEXT_LIMIT, MAX_TEXT)),
    ), _("Preview"))


async def on_form(ix: Interaction, event: FormSubmitted) -> FormResult | None:
    if event.form_id != FORM_ID:
        return None
    if not ix.allows(Access.ICC_TEAM):
        await ix.reply(refusal(Access.ICC_TEAM))
        return FormResult()

    def value(name: str) -> str:
        raw = event.values.get(name)
        return raw if isinstance(raw, str) else ""

    service = service_of(ix)
    try:
        preview = await service.prepare(ix, to=value("to"), at=value("at"), text=value("text"))
    except InputError as error:
        return FormResult(errors={error.field: ix.t(error.message)})
    await answer(ix, service.preview_answer(preview, ix.locale))
    return FormResult()


async def on_button(ix: Interaction, event: ButtonPressed) -> None:
    if event.action_id not in (CONFIRM, DISCARD):
        return
    if not ix.allows(Access.ICC_TEAM):
        await ix.reply(refusal(Access.ICC_TEAM))
        return
    try:
        number = int(event.value)
    except ValueError:
        return
    service = service_of(ix)
    if event.action_id == CONFIRM:
        await answer(ix, await service.confirm(ix, number))
    else:
        await answer(ix, await service.discard(ix, number))


async def status(ctx: CommandContext) -> None:
    await ctx.reply(await service_of(ctx).status(broadcast_id(ctx), ctx.locale))


async def cancel(ctx: CommandContext) -> None:
    await answer(ctx, await service_of(ctx).cancel(ctx, broadcast_id(ctx)))


async def edit(ctx: CommandContext) -> None:
    try:
        reply = await service_of(ctx).edit(ctx, broadcast_id(ctx), ctx.text_arg("text"))
    except InputError as error:
        raise UsageError(error.message, ctx.spec) from None
    await answer(ctx, reply)


async def list_recent(ctx: CommandContext) -> None:
    await ctx.reply(await service_of(ctx).recent(ctx.locale))
