"""The bot: storage, clock, commands, listeners, scheduler and adapters wired together.

Adapters hand what people write in channels (messages, thread replies, edits, deletions,
reactions) to `await bot.receive(event)`: it returns once the event is durably stored (delivery
goes on in the background) and raises `NotStored` when it could not be, so the adapter does not
acknowledge it and the platform delivers it again (or the adapter keeps it and retries).
Commands, forms and buttons go to `await bot.handle(event)`, which never raises and answers
failures politely. Extensions (the modules in
`bot/handlers/` and `bot/jobs/`) each expose `setup(bot)` and register commands, listeners,
form and button handlers, jobs and services there.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from bot.clock import Clock
from bot.commands import CommandRegistry, UsageError
from bot.context import CommandContext, Interaction
from bot.events import (
    Author,
    ButtonPressed,
    ChannelRef,
    CommandInvoked,
    Event,
    FormResult,
    FormSubmitted,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PersonRef,
    ReactionAdded,
)
from bot.i18n import Message, Text, _, render, resolve_locale
from bot.outbound import Adapter, AdapterSet, Outgoing, Responder
from bot.people import roles_of
from bot.permissions import Access
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.text import split_text
from storage.db import Database
from storage.models import Channel
from storage.queries import registry

log = logging.getLogger(__name__)

T = TypeVar("T")
Listener = Callable[[Any], Awaitable[None]]
FormHandler = Callable[[Interaction, FormSubmitted], Awaitable[FormResult | None]]
ButtonHandler = Callable[[Interaction, ButtonPressed], Awaitable[None]]

# Each area of the bot, loaded in this order. A module here exposes `setup(bot)`.
EXTENSIONS: tuple[str, ...] = (
    "bot.completion",
    "bot.handlers.help",
    "bot.handlers.lang",
    "bot.handlers.group",
    "bot.handlers.city",
    "bot.handlers.role",
    "bot.translation.extension",
    "bot.handlers.translate",
    "bot.relay.extension",
    "bot.handlers.deadline",
    "bot.jobs.reminders",
    "bot.jobs.campaign_days",
    "bot.jobs.digest",
    "bot.handlers.practice",
    "bot.home",
    "bot.handlers.broadcast",
    "bot.handlers.match",
    "bot.handlers.report",
)


Receivable = MessagePosted | MessageEdited | MessageDeleted | ReactionAdded
"""What people write in channels: stored before the platform is told it arrived."""


class NotStored(Exception):
    """An incoming event could not be stored: it must not be acknowledged, or it is lost.

    `transient` says whether waiting may help (the database or the network failed) or not (a
    bug: retrying the same event fails the same way)."""

    def __init__(self, what: str, cause: BaseException) -> None:
        # The cause's first line only: SQLAlchemy adds the statement and its parameters (people's text).
        reason = (str(cause).strip().splitlines() or [""])[0][:300]
        super().__init__(f"{what} was not stored ({type(cause).__name__}{': ' + reason if reason else ''})")
        self.what = what
        self.cause = cause

    @property
    def transient(self) -> bool:
        return isinstance(self.cause, SQLAlchemyError | OSError | TimeoutError)


def describe(event: Receivable) -> str:
    """`message 1700000000.0001 in slack:T1/C1`, for log lines."""
    kind = {MessagePosted: "message", MessageEdited: "edit of message", MessageDeleted: "deletion of message",
            ReactionAdded: "reaction to message"}[type(event)]
    if isinstance(event, MessagePosted) and event.thread_id:
        kind = "thread reply"
    return f"{kind} {event.message_id} in {event.channel}"


# Outgoing fields that belong under a split message's last part only.
LAST_PART_ONLY = frozenset({"buttons", "footnote", "original", "files"})


class Bot:
    def __init__(self, settings: Settings, db: Database, clock: Clock) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.commands = CommandRegistry()
        self.adapters = AdapterSet()
        self.scheduler = Scheduler(clock)
        self._listeners: dict[type, list[Listener]] = {}
        self._forms: dict[str, FormHandler] = {}
        self._buttons: dict[str, ButtonHandler] = {}
        self._services: dict[type, object] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle_checks: list[Callable[[], Awaitable[bool]]] = []
        self._stop_hooks: list[Callable[[], Awaitable[None]]] = []

    # ---- extension points --------------------------------------------------------------------

    def load_extensions(self, names: Iterable[str] = EXTENSIONS) -> None:
        for name in names:
            importlib.import_module(name).setup(self)

    def on(self, event_type: type, listener: Listener) -> None:
        self._listeners.setdefault(event_type, []).append(listener)

    def on_form(self, form_prefix: str, handler: FormHandler) -> None:
        """Submissions of forms whose id starts with `form_prefix` (e.g. `practice.`)."""
        self._forms[form_prefix] = handler

    def on_button(self, action_prefix: str, handler: ButtonHandler) -> None:
        """Presses of buttons whose action id starts with `action_prefix` (e.g. `deadline.`)."""
        self._buttons[action_prefix] = handler

    def provide(self, kind: type[T], service: T) -> None:
        self._services[kind] = service

    def service(self, kind: type[T]) -> T:
        service = self._services.get(kind)
        if service is None:
            raise LookupError(f"no {kind.__name__} service is running")
        return service  # type: ignore[return-value]

    def maybe_service(self, kind: type[T]) -> T | None:
        return self._services.get(kind)  # type: ignore[return-value]

    def add_idle_check(self, check: Callable[[], Awaitable[bool]]) -> None:
        """`check()` answers True when its part of the bot has nothing left to do right now."""
        self._idle_checks.append(check)

    def on_stop(self, hook: Callable[[], Awaitable[None]]) -> None:
        self._stop_hooks.append(hook)

    def add_adapter(self, adapter: Adapter) -> None:
        self.adapters.add(adapter)

    def adapter(self, platform: str) -> Adapter:
        adapter = self.adapters.get(platform)
        if adapter is None:
            raise LookupError(f"platform {platform} is not running")
        return adapter

    # ---- life cycle ----------------------------------------------------------------------------

    async def start(self, *, run_scheduler: bool = True) -> None:
        for adapter in self.adapters:
            await adapter.start(self)
        if run_scheduler:
            self.scheduler.start()
        freeze_startup_objects()

    async def stop(self) -> None:
        await self.scheduler.stop()
        for hook in reversed(self._stop_hooks):
            try:
                await hook()
            except Exception:
                log.exception("stop hook failed")
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for adapter in self.adapters:
            try:
                await adapter.stop()
            except Exception:
                log.exception("adapter %s did not stop cleanly", adapter.platform)

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str = "") -> asyncio.Task[Any]:
        """Run `work` in the background, kept track of (errors logged, waited for by `wait_idle`)."""
        task = asyncio.get_running_loop().create_task(work, name=name or None)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until no background work runs and every part reports nothing due now."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            while self._tasks:
                await asyncio.wait(list(self._tasks), timeout=max(deadline - loop.time(), 0.01))
                if loop.time() > deadline:
                    raise TimeoutError("the bot did not settle")
            checks = [await check() for check in self._idle_checks]
            if all(checks) and not self._tasks:
                return
            if loop.time() > deadline:
                raise TimeoutError("the bot did not settle")
            await asyncio.sleep(0.005)

    # ---- incoming events ---------------------------------------------------------------------------

    async def receive(self, event: Receivable) -> None:
        """Take in what someone wrote in a channel. Returns once every listener has it — for a
        message, edit or deletion in a linked channel, once it and its deliveries are committed
        (the relay posts the copies in the background). Raises `NotStored` when that failed: the
        adapter then must not acknowledge the event. A repeat of an event stored before returns
        quietly (the relay claims each event id once)."""
        for listener in self._listeners.get(type(event), []):
            try:
                await listener(event)
            except Exception as error:
                raise NotStored(describe(event), error) from error

    async def handle(self, event: Event) -> FormResult | None:
        """The entry for commands, forms and buttons. Never raises: failures are logged and
        answered politely. (Messages, edits, deletions and reactions go to `receive`.)"""
        try:
            if isinstance(event, CommandInvoked):
                await self._run_command(event)
                return None
            if isinstance(event, FormSubmitted):
                return await self._run_form(event)
            if isinstance(event, ButtonPressed):
                await self._run_button(event)
                return None
            for listener in self._listeners.get(type(event), []):
                await listener(event)
        except Exception:
            log.exception("handling %s failed", type(event).__name__)
            responder = getattr(event, "responder", None)
            if responder is not None:
                await self._apologise(responder, getattr(event, "platform_locale", None))
        return None

    async def interaction(self, author: Author, channel: ChannelRef | None, *,
                          platform_locale: str | None = None, responder: Responder | None = None,
                          can_open_form: bool = False) -> Interaction:
        """Who is acting, where, with which rights and in which language (one database visit)."""
        ref = author.person
        async with self.db.session() as session:
            person = await registry.upsert_person(
                session, ref.platform, ref.workspace, ref.user, display_name=author.display_name,
                avatar_url=author.avatar_url, platform_locale=platform_locale or author.locale,
                timezone=author.timezone, now=self.clock.now())
            channel_row = None
            if channel is not None:
                channel_row = await registry.get_channel(session, channel.platform, channel.workspace,
                                                         channel.channel)
            roles = await roles_of(session, person, self.settings.admins)
        locale = resolve_locale([person.language, platform_locale or person.platform_locale,
                                 channel_row.language if channel_row else None])
        return Interaction(self, person, channel_row, roles, locale, responder, can_open_form)

    async def _run_command(self, event: CommandInvoked) -> None:
        ix = await self.interaction(event.author, event.channel, platform_locale=event.platform_locale,
                                    responder=event.responder, can_open_form=event.can_open_form)
        try:
            invocation = self.commands.resolve(event.text)
        except UsageError as error:
            await ix.reply(self.usage_answer(error, event.text))
            return
        spec = invocation.spec
        context = CommandContext(ix.bot, ix.person, ix.channel, ix.roles, ix.locale, ix.responder,
                                 ix.can_open_form, spec=spec, args=invocation.args, event=event)
        group_id = await self._group_concerned(context)
        city_id = await self._city_concerned(context)
        # An AUTHOR command is about one record, whose author only its handler can know: the
        # handler checks `ctx.allows(Access.AUTHOR, owner_person_id=…)` itself.
        if spec.access is not Access.AUTHOR and not context.allows(spec.access, group_id=group_id,
                                                                    city_id=city_id):
            await context.reply(refusal(spec.access))
            return
        try:
            await spec.handler(context)
        except UsageError as error:
            # A handler's own refusal (unknown city, bad value) is clearer without the usage lines,
            # unless it says the command was malformed.
            await context.reply(self.usage_answer(error, event.text) if error.spec else error.message)

    def usage_answer(self, error: UsageError, text: str) -> Message:
        if error.spec is not None:
            return _("{problem}\nUsage: `{usage}`", problem=error.message, usage=error.spec.usage)
        area = text.split()[0].lower() if text.split() else ""
        specs = self.commands.in_area(area)
        if specs:
            usages = "\n".join(f"`{spec.usage}`" for spec in specs)
            return _("{problem}\nUsage:\n{usages}", problem=error.message, usages=usages)
        areas = ", ".join(f"`/icc {name}`" for name in self.commands.areas())
        return _("{problem}\nCommands: {areas}.\n`/icc help <area>` explains each.", problem=error.message,
                 areas=areas)

    async def _group_concerned(self, context: CommandContext) -> int | None:
        spec, args = context.spec, context.args
        assert spec is not None and args is not None
        if spec.group_param and args.get(spec.group_param):
            async with self.db.session() as session:
                group = await registry.find_group(session, str(args.get(spec.group_param)))
            return group.id if group else None
        return context.channel.group_id if context.channel else None

    async def _city_concerned(self, context: CommandContext) -> int | None:
        spec, args = context.spec, context.args
        assert spec is not None and args is not None
        if spec.city_param and args.get(spec.city_param):
            async with self.db.session() as session:
                city = await registry.find_city(session, str(args.get(spec.city_param)))
            return city.id if city else -1  # an unknown city is nobody's: only the ICC team passes
        return context.person.city_id

    async def _run_form(self, event: FormSubmitted) -> FormResult | None:
        handler = self._match(self._forms, event.form_id)
        if handler is None:
            log.warning("no handler for form %s", event.form_id)
            return None
        ix = await self.interaction(event.author, event.channel, platform_locale=event.platform_locale,
                                    responder=event.responder)
        result = await handler(ix, event)
        if result is not None:
            # Field errors go back to the platform's form as text in the person's language.
            result.errors = {name: render(message, ix.locale) if isinstance(message, Message) else str(message)
                             for name, message in result.errors.items()}
        return result

    async def _run_button(self, event: ButtonPressed) -> None:
        handler = self._match(self._buttons, event.action_id)
        if handler is None:
            log.warning("no handler for button %s", event.action_id)
            return
        ix = await self.interaction(event.author, event.channel, platform_locale=event.platform_locale,
                                    responder=event.responder)
        await handler(ix, event)

    @staticmethod
    def _match(handlers: dict[str, T], key: str) -> T | None:
        best = max((prefix for prefix in handlers if key.startswith(prefix)), key=len, default=None)
        return handlers[best] if best is not None else None

    async def _apologise(self, responder: Responder, platform_locale: str | None) -> None:
        try:
            locale = resolve_locale([platform_locale])
            await responder.reply(render(_("Sorry, something went wrong on my side. The ICC team can "
                                           "find the details in the bot's log."), locale))
        except Exception:
            log.exception("could not even apologise")

    # ---- outgoing helpers for handlers and jobs -----------------------------------------------

    async def post(self, channel: ChannelRef, text: Text, locale: str, **options: Any) -> list[str]:
        """Render `text` in `locale`, split it to the platform's limit and post it. Returns the ids."""
        adapter = self.adapter(channel.platform)
        parts = split_text(render(text, locale), adapter.max_message_chars)
        options = _rendered_buttons(options, locale)
        ids = []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            # Buttons, the footnote, the original and files go once, under the last part.
            message = Outgoing(part, **(options if last else {k: v for k, v in options.items()
                                                              if k not in LAST_PART_ONLY}))
            ids.append(await adapter.post(channel, message))
        return ids

    async def send_dm(self, person: PersonRef, text: Text, locale: str, **options: Any) -> str:
        adapter = self.adapter(person.platform)
        return await adapter.send_dm(person, Outgoing(render(text, locale), **_rendered_buttons(options, locale)))


def _rendered_buttons(options: dict[str, Any], locale: str) -> dict[str, Any]:
    """Button labels given as messages are rendered in the reader's language, like the text."""
    if options.get("buttons"):
        return {**options, "buttons": tuple(button.rendered(locale) for button in options["buttons"])}
    return options


def channel_ref(channel: Channel) -> ChannelRef:
    return ChannelRef(channel.platform, channel.workspace, channel.channel_id)


def channel_label(bot: Bot, channel: Channel) -> str:
    """A stored channel as its platform names it, or `#name` when that platform is not running."""
    adapter = bot.adapters.get(channel.platform)
    if adapter is None:
        return f"#{channel.name or channel.channel_id}"
    return adapter.channel_label(channel_ref(channel))


def refusal(access: Access) -> Message:
    messages = {
        Access.ICC_TEAM: _("Only the ICC team can do that."),
        Access.GROUP_LEAD: _("Only a lead of this group or the ICC team can do that."),
        Access.COORDINATOR: _("Only a city coordinator can do that. Register your city first with "
                              "`/icc city register <city>`."),
        Access.CITY_COORDINATOR: _("Only a coordinator of that city or the ICC team can do that."),
        Access.AUTHOR: _("Only its author or the ICC team can do that."),
    }
    return messages.get(access, _("You are not allowed to do that."))


def freeze_startup_objects() -> None:
    """Once started, what is loaded (modules, locale data, the ORM's metadata, the platforms'
    clients: some 200,000 objects) lives as long as the process. A full garbage collection walks
    every such object, ~80 ms in which nothing is delivered (a broadcast's burst of posts, a
    message's copies included); frozen, they are out of its way and it only looks at what came
    since. Garbage is collected first so that none of it is frozen. Also called once something
    loaded later for good (the language model) is there."""
    gc.collect()
    gc.freeze()
