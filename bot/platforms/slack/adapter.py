"""The Slack adapter: slack-bolt's AsyncApp in Socket Mode or HTTP mode, several workspaces.

Inbound, every listener turns a payload into a core event and hands it to the core:
- events (messages, edits, deletions, reactions) go to `bot.receive` and are awaited, so in both
  modes the acknowledgement leaves only once the core has stored them (`process_before_response`:
  bolt acknowledges after the listener returns). When the core could not store one
  (`NotStored`), the listener raises: in HTTP mode Slack gets a 503 and delivers the event again
  (`x-slack-retry-num`, up to three times); in Socket Mode the envelope is not acknowledged and
  Slack redelivers it. A redelivered `event_id` already stored is handled once;
- slash commands, buttons and shortcuts are acknowledged at once and run in the background,
  answering through `response_url`; a command that opens a modal opens it first (a
  `trigger_id` lives 3 seconds) and acknowledges after;
- a modal submission waits for the core's verdict (within Slack's 3 seconds) so field errors
  show in the modal (`response_action: errors`).

Outbound, the core's operations become Web API calls with the workspace's own token: relays
under the author's name and picture (`chat:write.customize`), mrkdwn escaped so nothing pings,
429 → `DeliveryError(retry_after=…)`, a gone channel or revoked token → permanent.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.commands import UsageError
from bot.core import NotStored
from bot.events import (
    ButtonPressed,
    ChannelRef,
    CommandInvoked,
    FormResult,
    FormSubmitted,
    PersonRef,
    TranslateRequested,
)
from bot.home import home_page
from bot.outbound import Adapter, Button, DeliveryError, Form, Outgoing, PlatformStartError
from bot.platforms.slack import views
from bot.platforms.slack.inbound import PLATFORM, Directory, Inbound, api_error
from bot.platforms.slack.markup import TEXT_LIMIT, mrkdwn_chunks
from bot.text import split_text

if TYPE_CHECKING:
    from bot.core import Bot
    from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
TRANSLATE_SHORTCUT = "icc_translate"
"""Callback id of the "Translate" message shortcut (the manifest declares the same)."""
COMMAND = "/icc"
_ANY = re.compile(".*")
Ack = Callable[..., Awaitable[Any]]
ACK_BUDGET = 2.5
"""Seconds we may spend before acknowledging (Slack gives up at 3)."""
SLACK_RETRIES = 3
"""Slack delivers an event that was not acknowledged again three times, then drops it."""

# Errors after which retrying the same call cannot succeed.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "channel_is_archived", "invalid_auth",
    "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission", "missing_scope",
    "restricted_action", "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
    "team_access_not_granted", "ekm_access_denied", "msg_too_long", "invalid_blocks", "no_text",
    "cannot_reply_to_message", "user_not_found", "user_disabled", "cannot_dm_bot", "message_not_found",
    "cant_update_message", "cant_delete_message", "edit_window_closed", "org_login_required",
    "team_not_found", "invalid_arguments", "user_not_in_channel",
})


@dataclass
class Workspace:
    """One installation of the app: a team and the bot's identity and client there."""

    team_id: str
    name: str
    bot_user_id: str
    bot_id: str
    client: AsyncWebClient = field(repr=False)
    token: str = field(repr=False)
    scopes: frozenset[str] = frozenset()


class SlackAdapter(Adapter):
    platform = PLATFORM
    # The core splits at this length; below Slack's 40,000 so that escaping `&`, `<` and `>` (which
    # lengthens the text) still fits in one message's `text` in all but pathological cases.
    max_message_chars = 36_000
    post_rate_per_second = 1.0  # Slack: about one message a second per channel, short bursts allowed
    post_burst = 3
    supports_files = True  # uploaded the v2 way (files:write), shared in the message's channel or thread

    def __init__(self, bot_tokens: Sequence[str], *, app_token: str | None = None,
                 signing_secret: str | None = None, api_url: str | None = None, port: int = 3000,
                 host: str = "0.0.0.0", listen: bool = True, timeout: float = 15.0) -> None:
        if not bot_tokens:
            raise PlatformStartError("Slack: SLACK_BOT_TOKEN is not set")
        self.bot_tokens = list(bot_tokens)
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/") + "/"
        self.port = port
        self.host = host
        self.listen = listen
        """False in tests: nothing listens; requests go through `dispatch` instead."""
        self.timeout = timeout
        self.mode = "socket" if app_token else "http"
        self.workspaces: dict[str, Workspace] = {}
        self.bot: Bot | None = None
        self.app: AsyncApp | None = None
        self.directory = Directory(self.client_for)
        self.inbound = Inbound(self.directory, self.is_own)
        self.bound_port: int | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._gate = asyncio.Semaphore(4)
        self._dm_channels: dict[tuple[str, str], str] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackAdapter:
        secret = settings.slack_signing_secret
        app_token = settings.slack_app_token
        return cls(settings.slack_bot_tokens,
                   app_token=app_token.get_secret_value() if app_token else None,
                   signing_secret=secret.get_secret_value() if secret else None,
                   api_url=settings.slack_api_url, port=settings.port)

    # ---- life cycle -----------------------------------------------------------------------------

    async def start(self, bot: Bot) -> None:
        self.bot = bot
        # Events wait their turn into the core: SQLite takes one writer at a time, and writers
        # racing for its lock wait in growing sleeps (seconds at the tail, past Slack's 3 s); in
        # turn, each is stored in milliseconds. PostgreSQL takes a few at once. (benchmarks/slack_ack.py)
        self._gate = asyncio.Semaphore(1 if bot.db.engine.dialect.name == "sqlite" else 4)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        try:
            for number, token in enumerate(self.bot_tokens, 1):
                workspace = await self._authenticate(token, number)
                self.workspaces[workspace.team_id] = workspace
            self.app = self._build_app()
            if self.listen:
                if self.mode == "socket":
                    await self._start_socket_mode()
                else:
                    await self._start_http()
        except BaseException:
            await self.stop()
            raise
        names = ", ".join(f"{w.name} ({w.team_id})" for w in self.workspaces.values())
        where = "Socket Mode" if self.mode == "socket" else f"HTTP mode on port {self.bound_port or self.port}"
        log.info("Slack: connected to %s, %s", names, where if self.listen else "not listening")

    async def stop(self) -> None:
        if self._socket is not None:
            socket, self._socket = self._socket, None
            try:
                await socket.close_async()
            except Exception:
                log.exception("Slack Socket Mode did not close cleanly")
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _client(self, token: str | None) -> AsyncWebClient:
        return AsyncWebClient(token=token, base_url=self.api_url, timeout=int(self.timeout), session=self._session)

    async def _authenticate(self, token: str, number: int) -> Workspace:
        which = "SLACK_BOT_TOKEN" if len(self.bot_tokens) == 1 else f"bot token {number} of SLACK_BOT_TOKEN"
        client = self._client(token)
        try:
            response = await client.auth_test()
        except SlackApiError as error:
            reason = api_error(error)
            raise PlatformStartError(f"Slack refused {which} ({reason}): check the token in the app's "
                                     "OAuth & Permissions page") from None
        except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
            raise PlatformStartError(f"Slack is unreachable at {self.api_url} ({type(error).__name__}): "
                                     "check the network or SLACK_API_URL") from None
        scopes = frozenset(filter(None, (response.headers.get("x-oauth-scopes") or
                                         response.headers.get("X-OAuth-Scopes") or "").split(",")))
        workspace = Workspace(str(response["team_id"]), str(response.get("team") or response["team_id"]),
                              str(response["user_id"]), str(response.get("bot_id") or ""), client, token, scopes)
        missing = {"chat:write", "chat:write.customize", "users:read"} - scopes if scopes else set()
        if missing:
            log.warning("Slack workspace %s lacks the scopes %s: reinstall the app from deploy/slack/manifest.yaml",
                        workspace.name, ", ".join(sorted(missing)))
        return workspace

    async def _start_http(self) -> None:
        assert self.app is not None
        web_app = web.Application()
        web_app.router.add_post("/slack/events", self._http_events)
        web_app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError as error:
            raise PlatformStartError(f"Slack HTTP mode cannot listen on port {self.port} "
                                     f"({error.strerror or type(error).__name__}): set PORT") from None
        address = self._runner.addresses[0]
        self.bound_port = int(address[1])

    async def _http_events(self, request: web.Request) -> web.Response:
        assert self.app is not None
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "platform": PLATFORM, "workspaces": len(self.workspaces)})

    async def _start_socket_mode(self) -> None:
        assert self.app is not None and self.app_token is not None
        handler = AsyncSocketModeHandler(self.app, self.app_token, web_client=self._client(None),
                                         logger=logging.getLogger("bot.platforms.slack.socket"))
        self._socket = handler
        try:
            opened = await handler.client.web_client.apps_connections_open(app_token=self.app_token)
        except SlackApiError as error:
            raise PlatformStartError(f"Slack refused SLACK_APP_TOKEN ({api_error(error)}): it must be "
                                     "an app-level token with connections:write") from None
        except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
            raise PlatformStartError(f"Slack is unreachable at {self.api_url} ({type(error).__name__})") from None
        handler.client.wss_uri = opened["url"]
        try:
            await asyncio.wait_for(handler.connect_async(), self.timeout)
        except TimeoutError:
            raise PlatformStartError("Slack Socket Mode: the WebSocket connection did not open in time") from None

    # ---- bolt wiring -----------------------------------------------------------------------------

    def _build_app(self) -> AsyncApp:
        async def authorize(enterprise_id: str | None, team_id: str | None,
                            user_id: str | None) -> AuthorizeResult | None:
            return self._authorize(enterprise_id, team_id, user_id)

        app = AsyncApp(
            client=self._client(None),
            signing_secret=self.signing_secret or "",
            authorize=authorize,
            process_before_response=True,
            request_verification_enabled=self.signing_secret is not None,
            logger=logging.getLogger("bot.platforms.slack.bolt"),
        )
        app.error(self._on_listener_error)
        on = _listener
        app.event("message")(on(self._on_message))
        app.event("reaction_added")(on(self._on_reaction))
        app.event("app_home_opened")(on(self._on_home_opened))
        app.event("tokens_revoked")(on(self._on_tokens_revoked))
        app.event("app_uninstalled")(on(self._on_tokens_revoked))
        app.event(_ANY)(on(self._ack_only))  # anything else subscribed later: acknowledged, not retried
        app.command(COMMAND)(on(self._on_command))
        app.shortcut(TRANSLATE_SHORTCUT)(on(self._on_translate_shortcut))
        app.view_submission(_ANY)(on(self._on_view_submission))
        app.view_closed(_ANY)(on(self._ack_only))
        app.block_action(_ANY)(on(self._on_block_action))
        return app

    async def dispatch(self, request: Any) -> Any:
        """Hand one request (an `AsyncBoltRequest`) to bolt, as the HTTP server or Socket Mode would."""
        assert self.app is not None, "start the adapter first"
        return await self.app.async_dispatch(request)

    def _authorize(self, enterprise_id: str | None, team_id: str | None,
                   user_id: str | None) -> AuthorizeResult | None:
        workspace = self.workspaces.get(team_id or "")
        if workspace is None and team_id is None and len(self.workspaces) == 1:
            workspace = next(iter(self.workspaces.values()))
        if workspace is None:
            log.warning("Slack: a request from workspace %s, where no bot token is configured", team_id)
            return None
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=workspace.team_id, team=workspace.name,
                               bot_user_id=workspace.bot_user_id, bot_id=workspace.bot_id,
                               bot_token=workspace.token, bot_scopes=sorted(workspace.scopes), user_id=user_id)

    def client_for(self, team_id: str) -> AsyncWebClient | None:
        workspace = self.workspaces.get(team_id)
        return workspace.client if workspace else None

    def is_own(self, team_id: str, message: Mapping[str, Any]) -> bool:
        workspace = self.workspaces.get(team_id)
        own_bots = {w.bot_id for w in self.workspaces.values()}
        own_users = {w.bot_user_id for w in self.workspaces.values()}
        if workspace is not None:
            own_bots.add(workspace.bot_id)
        return bool(message.get("bot_id") in own_bots or message.get("user") in own_users)

    def _workspace(self, team_id: str) -> Workspace:
        workspace = self.workspaces.get(team_id)
        if workspace is None:
            raise DeliveryError(f"slack: no bot token for workspace {team_id}", permanent=True)
        return workspace

    def _first_delivery(self, body: Mapping[str, Any]) -> bool:
        """False for an event already handled (Slack's retries carry the same `event_id`)."""
        if self._handled_before(body):
            return False
        self._remember(body)
        return True

    def _handled_before(self, body: Mapping[str, Any]) -> bool:
        event_id = body.get("event_id")
        if event_id and event_id in self._seen:
            log.info("Slack redelivered event %s (retry); already handled", event_id)
            return True
        return False

    def _remember(self, body: Mapping[str, Any]) -> None:
        """Only once handled: an event that was not stored must be taken again when Slack retries it.
        (A retry that comes while the first delivery is still being stored is stopped by the
        core's claim on the event id.)"""
        event_id = body.get("event_id")
        if not event_id:
            return
        self._seen[event_id] = None
        while len(self._seen) > 20_000:
            self._seen.popitem(last=False)

    async def _on_listener_error(self, error: Exception, body: dict[str, Any], request: Any) -> BoltResponse | None:
        """An event the core could not store: a 503 (HTTP mode), or no acknowledgement (Socket Mode,
        where bolt acknowledges only a 200), so that Slack delivers it again. Anything else is logged
        as bolt would, with bolt's 500."""
        if not isinstance(error, NotStored):
            log.error("Slack: a listener failed", exc_info=error)
            return None
        headers = getattr(request, "headers", None) or {}
        retry = _header(headers, "x-slack-retry-num") or 0  # bolt copies Socket Mode's retry_attempt here
        if int(retry) >= SLACK_RETRIES:
            log.error("Slack: the %s, and this was Slack's last retry (event %s): it is lost",
                      error, body.get("event_id"), exc_info=None if error.transient else error)
        else:
            log.warning("Slack: the %s; not acknowledged, so Slack delivers event %s again", error,
                        body.get("event_id"), exc_info=None if error.transient else error)
        return BoltResponse(status=503, body="")

    # ---- events ----------------------------------------------------------------------------------

    async def _on_message(self, ack: Ack, body: dict[str, Any], context: Any) -> None:
        event = body["event"]
        if self._handled_before(body):
            return
        core_event = await self.inbound.message(_team(body, context), event, body.get("event_id"))
        if core_event is not None:
            assert self.bot is not None
            async with self._gate:
                await self.bot.receive(core_event)  # NotStored → `_on_listener_error`: no ack
        self._remember(body)

    async def _on_reaction(self, ack: Ack, body: dict[str, Any], context: Any) -> None:
        event = body["event"]
        if self._handled_before(body):
            return
        core_event = self.inbound.reaction(_team(body, context), event, body.get("event_id"))
        if core_event is not None:
            assert self.bot is not None
            async with self._gate:
                await self.bot.receive(core_event)
        self._remember(body)

    async def _on_home_opened(self, ack: Ack, body: dict[str, Any], context: Any) -> None:
        event = body["event"]
        if event.get("tab", "home") != "home" or not self._first_delivery(body):
            return
        assert self.bot is not None
        self.bot.spawn(self.publish_home(_team(body, context), event["user"]), name="slack-home")

    async def _on_tokens_revoked(self, ack: Ack, body: dict[str, Any], context: Any) -> None:
        team = _team(body, context)
        if self.workspaces.pop(team, None) is not None:
            log.warning("Slack: the app was uninstalled from workspace %s or its token revoked", team)

    async def _ack_only(self, ack: Ack, body: dict[str, Any], context: Any) -> None:
        await ack()

    async def publish_home(self, team_id: str, user_id: str) -> None:
        """Render the person's App Home from the core's home page and publish it."""
        assert self.bot is not None
        workspace = self._workspace(team_id)
        author = await self.directory.author(team_id, user_id)
        home = await home_page(self.bot, author)
        view = views.home_view(home.title, [(s.title, s.lines, s.buttons) for s in home.sections])
        try:
            await workspace.client.views_publish(user_id=user_id, view=view)
        except SlackApiError as error:
            log.warning("Slack: could not publish the Home of %s: %s", user_id, api_error(error))

    # ---- commands and interactions ---------------------------------------------------------------

    async def _on_command(self, ack: Ack, body: dict[str, Any], context: Any) -> None:
        assert self.bot is not None
        team = _team(body, context)
        channel_id = body.get("channel_id") or ""
        channel = ChannelRef(PLATFORM, team, channel_id) if channel_id[:1] in ("C", "G") else None
        responder = SlackResponder(self, team, body.get("user_id", ""), channel_id or None,
                                   response_url=body.get("response_url"), trigger_id=body.get("trigger_id"))
        text = body.get("text") or ""
        run = self._run_command(team, body, channel, responder, text)
        if self._opens_form(text):
            # Open the modal while the trigger is fresh, then acknowledge (at the latest in 2.5 s).
            task = self.bot.spawn(run, name="slack-command")
            await asyncio.wait({task}, timeout=ACK_BUDGET)
            await ack()
        else:
            await ack()
            self.bot.spawn(run, name="slack-command")

    def _opens_form(self, text: str) -> bool:
        assert self.bot is not None
        try:
            invocation = self.bot.commands.resolve(text)
        except UsageError:
            return False
        return invocation.spec.form and invocation.args.empty

    async def _run_command(self, team: str, body: dict[str, Any], channel: ChannelRef | None,
                           responder: SlackResponder, text: str) -> None:
        assert self.bot is not None
        author = await self.directory.author(team, body.get("user_id", ""), hint=body)
        neutral = await self.directory.neutral(team, text, keep_user_mentions=True)
        await self.bot.handle(CommandInvoked(channel, author, neutral, responder, platform_locale=author.locale,
                                             can_open_form=True, event_id=body.get("trigger_id")))

    async def _on_translate_shortcut(self, ack: Ack, body: dict[str, Any],
                                     context: Any) -> None:
        await ack()
        assert self.bot is not None
        team = _team(body, context)
        channel_id = (body.get("channel") or {}).get("id", "")
        message = body.get("message") or {}
        user_id = (body.get("user") or {}).get("id", "")
        responder = SlackResponder(self, team, user_id, channel_id, response_url=body.get("response_url"),
                                   trigger_id=body.get("trigger_id"))

        async def run() -> None:
            assert self.bot is not None
            author = await self.directory.author(team, user_id)
            text = await self.directory.neutral(team, message.get("text") or "")
            await self.bot.handle(TranslateRequested(ChannelRef(PLATFORM, team, channel_id), str(message.get("ts")),
                                                     text, author, responder, platform_locale=author.locale))

        self.bot.spawn(run(), name="slack-translate")

    async def _on_view_submission(self, ack: Ack, body: dict[str, Any], context: Any) -> None:
        assert self.bot is not None
        view = body.get("view") or {}
        team = _team(body, context)
        user_id = (body.get("user") or {}).get("id", "")
        form_context, channel_id = views.view_context(view)
        responder = SlackResponder(self, team, user_id, channel_id, trigger_id=body.get("trigger_id"))

        async def run() -> FormResult | None:
            assert self.bot is not None
            author = await self.directory.author(team, user_id)
            channel = ChannelRef(PLATFORM, team, channel_id) if channel_id and channel_id[:1] in "CG" else None
            return await self.bot.handle(FormSubmitted(view.get("callback_id", ""), views.form_values(view), author,
                                                       responder, channel, form_context,
                                                       platform_locale=author.locale))

        task = self.bot.spawn(run(), name="slack-form")
        done, _pending = await asyncio.wait({task}, timeout=ACK_BUDGET)
        if not done:
            # Slack closes the modal now; the form goes on, and problems found late come as a message.
            await ack()
            self.bot.spawn(_late_errors(task, responder), name="slack-form-late")
            return
        result = task.result() if not task.cancelled() and task.exception() is None else None
        if result is not None and result.errors:
            await ack(response_action="errors", errors=views.field_errors(result.errors, view))
        else:
            await ack()

    async def _on_block_action(self, ack: Ack, body: dict[str, Any],
                               context: Any) -> None:
        await ack()
        assert self.bot is not None
        team = _team(body, context)
        user_id = (body.get("user") or {}).get("id", "")
        container = body.get("container") or {}
        channel_id = (body.get("channel") or {}).get("id") or container.get("channel_id")
        in_home = (body.get("view") or {}).get("type") == "home"
        responder = SlackResponder(self, team, user_id, channel_id, response_url=body.get("response_url"),
                                   trigger_id=body.get("trigger_id"))
        for action in body.get("actions") or []:
            if action.get("type") != "button":
                continue  # selects inside modals report their changes; the submission carries them
            event_action = views.core_action_id(action.get("action_id", ""))

            async def run(action_id: str = event_action, value: str = action.get("value") or "") -> None:
                assert self.bot is not None
                author = await self.directory.author(team, user_id)
                channel = ChannelRef(PLATFORM, team, channel_id) if channel_id and channel_id[:1] in "CG" else None
                await self.bot.handle(ButtonPressed(action_id, value, author, responder, channel,
                                                    container.get("message_ts"), platform_locale=author.locale))
                if in_home:
                    await self.publish_home(team, user_id)

            self.bot.spawn(run(), name="slack-button")

    # ---- outbound operations ----------------------------------------------------------------------

    async def post(self, channel: ChannelRef, message: Outgoing) -> str:
        workspace = self._workspace(channel.workspace)
        layouts, original_fits = views.message_layouts(message.text, footnote=message.footnote,
                                                       original=message.original, buttons=message.buttons)
        identity = _identity(message)
        thread = self.inbound.thread_parent(channel, message.thread_id) if message.thread_id else None
        first: str | None = None
        for layout in layouts:
            response = await self._call(workspace.client.chat_postMessage, channel=channel.channel, text=layout.text,
                                        blocks=layout.blocks, thread_ts=thread, **identity)
            first = first or str(response["ts"])
        assert first is not None
        if message.original and not original_fits:
            # Too long for small print under the copy: the original goes in the copy's thread.
            for part in mrkdwn_chunks(message.original, TEXT_LIMIT - 100):
                await self._call(workspace.client.chat_postMessage, channel=channel.channel, text=part,
                                 thread_ts=thread or first, **identity)
        files = message.files
        if files:
            uploads = [{"content": file.content, "filename": file.name, "title": file.name} for file in files]
            await self._call(workspace.client.files_upload_v2, file_uploads=uploads, channel=channel.channel,
                             thread_ts=thread)
        return first

    async def edit(self, channel: ChannelRef, message_id: str, message: Outgoing) -> None:
        workspace = self._workspace(channel.workspace)
        layouts, _fits = views.message_layouts(message.text, footnote=message.footnote, original=message.original,
                                               buttons=message.buttons)
        layout = layouts[0]  # one message can only become one message
        await self._call(workspace.client.chat_update, channel=channel.channel, ts=message_id, text=layout.text,
                         blocks=layout.blocks if layout.blocks is not None else [])

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        workspace = self._workspace(channel.workspace)
        try:
            await self._call(workspace.client.chat_delete, channel=channel.channel, ts=message_id)
        except DeliveryError as error:
            if error.reason != "slack: message_not_found":  # already gone: what we wanted
                raise

    async def send_dm(self, person: PersonRef, message: Outgoing) -> str:
        channel_id = await self._dm_channel(person)
        return await self.post(ChannelRef(PLATFORM, person.workspace, channel_id), message)

    async def _dm_channel(self, person: PersonRef) -> str:
        key = (person.workspace, person.user)
        if key not in self._dm_channels:
            workspace = self._workspace(person.workspace)
            response = await self._call(workspace.client.conversations_open, users=person.user)
            self._dm_channels[key] = str(response["channel"]["id"])
        return self._dm_channels[key]

    async def post_ephemeral(self, channel: ChannelRef, person: PersonRef, text: str) -> None:
        workspace = self._workspace(channel.workspace)
        for part in split_text(text, TEXT_LIMIT) if text else []:
            layouts, _fits = views.message_layouts(part)
            for layout in layouts:
                await self._call(workspace.client.chat_postEphemeral, channel=channel.channel, user=person.user,
                                 text=layout.text, blocks=layout.blocks)

    async def fetch_message_text(self, channel: ChannelRef, message_id: str) -> str | None:
        workspace = self.workspaces.get(channel.workspace)
        if workspace is None:
            return None
        try:
            history = await workspace.client.conversations_history(channel=channel.channel, latest=message_id,
                                                                   inclusive=True, limit=1)
            found = [m for m in history.get("messages") or [] if m.get("ts") == message_id]
            if not found:  # a reply in a thread is not in the channel's history
                replies = await workspace.client.conversations_replies(channel=channel.channel, ts=message_id,
                                                                       limit=1, inclusive=True)
                found = [m for m in replies.get("messages") or [] if m.get("ts") == message_id]
        except (SlackApiError, SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
            log.info("Slack: cannot read message %s in %s: %s", message_id, channel, type(error).__name__)
            return None
        if not found:
            return None
        return await self.directory.neutral(channel.workspace, found[0].get("text") or "")

    def channel_label(self, channel: ChannelRef) -> str:
        return f"<#{channel.channel}>"

    async def _call(self, method: Callable[..., Awaitable[Any]], **arguments: Any) -> Any:
        """A Web API call; failures become DeliveryError (never with the token in it)."""
        arguments = {key: value for key, value in arguments.items() if value is not None}
        try:
            return await method(**arguments)
        except SlackApiError as error:
            response = error.response
            reason = api_error(error)
            if response.status_code == 429 or reason == "ratelimited":
                retry_after = _header(response.headers, "Retry-After")
                raise DeliveryError("slack: ratelimited", retry_after=float(retry_after or 1)) from None
            raise DeliveryError(f"slack: {reason}", permanent=reason in PERMANENT_ERRORS) from None
        except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
            raise DeliveryError(f"slack: {type(error).__name__}") from None


class SlackResponder:
    """Answers the one person behind a command, button, shortcut or form submission."""

    def __init__(self, adapter: SlackAdapter, team_id: str, user_id: str, channel_id: str | None, *,
                 response_url: str | None = None, trigger_id: str | None = None) -> None:
        self.adapter = adapter
        self.team_id = team_id
        self.user_id = user_id
        self.channel_id = channel_id
        self.response_url = response_url
        self.trigger_id = trigger_id

    @property
    def _in_channel(self) -> bool:
        return bool(self.channel_id and self.channel_id[:1] in ("C", "G"))

    async def reply(self, text: str, *, ephemeral: bool = True, buttons: Sequence[Button] = ()) -> None:
        parts = split_text(text, TEXT_LIMIT) if text else [""]
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            message = Outgoing(part, buttons=tuple(buttons) if last else ())
            if not ephemeral and self._in_channel:
                await self._public(message)
            else:
                await self._private(message)

    async def _public(self, message: Outgoing) -> None:
        assert self.channel_id is not None
        try:
            await self.adapter.post(ChannelRef(PLATFORM, self.team_id, self.channel_id), message)
            return
        except DeliveryError as error:
            if not self.response_url:
                raise
            log.info("Slack: posting the answer in %s failed (%s); answering through the command",
                     self.channel_id, error.reason)
        await self._respond(message, response_type="in_channel")

    async def _private(self, message: Outgoing) -> None:
        if self.response_url and await self._respond(message, response_type="ephemeral"):
            return
        person = PersonRef(PLATFORM, self.team_id, self.user_id)
        if self._in_channel:
            assert self.channel_id is not None
            try:
                workspace = self.adapter._workspace(self.team_id)
                for layout in views.message_layouts(message.text, buttons=message.buttons)[0]:
                    await self.adapter._call(workspace.client.chat_postEphemeral, channel=self.channel_id,
                                             user=self.user_id, text=layout.text, blocks=layout.blocks)
                return
            except DeliveryError as error:
                log.info("Slack: ephemeral answer in %s failed (%s); sending it by DM", self.channel_id, error.reason)
        await self.adapter.send_dm(person, message)

    async def _respond(self, message: Outgoing, *, response_type: str) -> bool:
        assert self.response_url is not None
        layouts, _fits = views.message_layouts(message.text, buttons=message.buttons)
        webhook = AsyncWebhookClient(self.response_url, timeout=int(self.adapter.timeout),
                                     session=self.adapter._session)
        for layout in layouts:
            try:
                response = await webhook.send(text=layout.text, blocks=layout.blocks, response_type=response_type,
                                              replace_original=False)
            except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
                log.info("Slack: response_url failed (%s)", type(error).__name__)
                return False
            if response.status_code != 200:
                log.info("Slack: response_url answered %s %s", response.status_code, response.body[:100])
                return False
        return True

    async def open_form(self, form: Form) -> None:
        if not self.trigger_id:
            raise RuntimeError("this Slack interaction cannot open a form (no trigger_id)")
        workspace = self.adapter._workspace(self.team_id)
        view = views.modal(form, channel_id=self.channel_id)
        await self.adapter._call(workspace.client.views_open, trigger_id=self.trigger_id, view=view)


async def _late_errors(task: asyncio.Task[FormResult | None], responder: SlackResponder) -> None:
    result = await task
    if result is not None and result.errors:
        await responder.reply("\n".join(f"• {message}" for message in result.errors.values()))


def _listener(method: Callable[[Ack, dict[str, Any], Any], Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """A bolt listener for a bound method (bolt passes arguments by the parameter names it sees)."""

    async def listener(ack: Ack, body: dict[str, Any], context: Any) -> None:
        await method(ack, body, context)

    return listener


def _team(body: Mapping[str, Any], context: Any) -> str:
    team = None
    if context is not None:
        team = getattr(context, "team_id", None)
    if not team:
        team = body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    return str(team or "")


def _identity(message: Outgoing) -> dict[str, Any]:
    if message.post_as is None:
        return {}
    identity: dict[str, Any] = {"username": message.post_as.name[:80] or "?"}
    if message.post_as.avatar_url:
        identity["icon_url"] = message.post_as.avatar_url
    return identity


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


__all__ = ["TRANSLATE_SHORTCUT", "SlackAdapter", "SlackResponder", "Workspace"]
