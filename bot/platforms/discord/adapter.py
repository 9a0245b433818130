"""The Discord platform: a discord.py client, its app commands and the outbound operations.

Relays (`Outgoing.post_as`) go through the channel's webhook under the author's name and
picture; everything else is posted by the bot. Every post carries `AllowedMentions.none()`.
discord.py honours rate limits itself (it waits `retry_after`); when it gives up, or a wait
would be longer than a minute, the post fails with `DeliveryError(retry_after=…)` so the core
retries later without holding up other channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.http import Route

from bot.commands import CommandSpec
from bot.core import Bot
from bot.events import ButtonPressed, ChannelRef, CommandInvoked, PersonRef, TranslateRequested
from bot.i18n import _, render, resolve_locale
from bot.outbound import Adapter, DeliveryError, Outgoing, PlatformStartError
from bot.platforms.discord.commands import TRANSLATE_MENU, CatalogTranslator, TreeBuilder, described, invocation_text
from bot.platforms.discord.forms import MODAL_PREFIX, FormFlow
from bot.platforms.discord.inbound import PLATFORM, BoundedMap, Inbound
from bot.platforms.discord.invite import gateway_intents
from bot.platforms.discord.markup import Mentions, spoiler, subtext, to_discord, to_neutral
from bot.platforms.discord.responder import NO_PINGS, InteractionResponder
from bot.platforms.discord.views import FORM_ACTION, IccButton, buttons_view
from bot.platforms.discord.webhooks import Webhooks, safe_name
from bot.settings import Settings
from bot.text import split_text
from storage.queries import discord as stored
from storage.queries import registry

log = logging.getLogger(__name__)

MAX_CHARS = 2000
EMBED_TEXT = 4096
EMBED_TOTAL = 6000
INLINE_ORIGINAL = 300
MAX_RATE_LIMIT_WAIT = 60.0
# Discord error codes after which retrying cannot help.
UNKNOWN_WEBHOOK = 10015
UNKNOWN_MESSAGE = 10008
THREAD_EXISTS = 160004
GONE_CODES = {10003, 10004, 50001, 50013, 50007}  # unknown channel/guild, missing access/permissions, DMs closed

APOLOGY = _("Sorry, something went wrong on my side. The ICC team can find the details in the bot's log.")


class IccClient(discord.Client):
    """The client, with its gateway events routed to the adapter."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        # The bot has no voice: no warnings about voice libraries in the operator's log.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(**options)
        self.adapter = adapter

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.inbound.on_message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.adapter.inbound.on_raw_message_edit(payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.adapter.inbound.on_raw_message_delete(payload)

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        await self.adapter.inbound.on_raw_bulk_message_delete(payload)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.inbound.on_raw_reaction_add(payload)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        await self.adapter.inbound.on_thread_create(thread)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.adapter.on_interaction(interaction)


class DiscordAdapter(Adapter):
    platform = PLATFORM
    max_message_chars = MAX_CHARS
    # Discord allows 5 messages per 5 seconds in a channel.
    post_rate_per_second = 1.0
    post_burst = 5
    supports_files = True

    def __init__(self, settings: Settings, *, connect_gateway: bool = True, defer_after: float | None = 2.0,
                 ready_timeout: float = 60.0) -> None:
        self.settings = settings
        self.connect_gateway = connect_gateway
        self.defer_after = defer_after
        """Seconds before an unanswered interaction is deferred (Discord's limit is 3)."""
        self.ready_timeout = ready_timeout
        self.bot: Bot | None = None
        self.client = IccClient(self, intents=gateway_intents(), max_ratelimit_timeout=MAX_RATE_LIMIT_WAIT,
                                allowed_mentions=NO_PINGS)
        self.tree: app_commands.CommandTree[IccClient] = app_commands.CommandTree(self.client)
        self.tree.on_error = self._command_error  # type: ignore[method-assign]
        self.inbound = Inbound(self)
        self.webhooks = Webhooks(self)
        self.forms = FormFlow(self)
        self.thread_posts: BoundedMap[int] = BoundedMap()
        """Our posts that live in a thread (message id → thread id), also kept in the database."""
        self._gateway: asyncio.Task[None] | None = None
        self._previous_base: str | None = None

    # ---- life cycle ----------------------------------------------------------------------------

    async def start(self, bot: Bot) -> None:
        self.bot = bot
        if self.settings.discord_api_url:
            self._previous_base = Route.BASE
            Route.BASE = self.settings.discord_api_url.rstrip("/")
        token = self.settings.discord_token.get_secret_value() if self.settings.discord_token else ""
        try:
            await self.client.login(token)
        except discord.LoginFailure:
            raise PlatformStartError("Discord refused DISCORD_TOKEN (401 Unauthorized): copy the bot's token again "
                                     "from the Developer Portal (your application → Bot → Reset Token)") from None
        except discord.HTTPException as error:
            raise PlatformStartError(f"Discord answered {error.status} when the bot logged in; "
                                     "try again in a few minutes") from None
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise PlatformStartError(f"cannot reach Discord at {Route.BASE} ({type(error).__name__}); "
                                     "check the network or DISCORD_API_URL") from None
        self.client.add_dynamic_items(IccButton)
        self._build_commands(bot)
        await self.tree.set_translator(CatalogTranslator())
        await self.sync_commands()
        self.inbound.start(bot)  # before the gateway's first event
        if self.connect_gateway:
            await self._connect()
        log.info("discord: logged in as %s (application %s)", self.client.user, self.client.application_id)

    async def stop(self) -> None:
        if self._gateway is not None:
            self._gateway.cancel()
            await asyncio.gather(self._gateway, return_exceptions=True)
            self._gateway = None
        await self.client.close()
        if self._previous_base is not None:
            Route.BASE = self._previous_base
            self._previous_base = None
        self.bot = None

    async def _connect(self) -> None:
        """Open the gateway and wait until Discord says the bot is ready, so a refusal (missing
        intent) stops `icc-bot run` with one line instead of failing later in the background."""
        self._gateway = asyncio.get_running_loop().create_task(self.client.connect(reconnect=True),
                                                                  name="discord-gateway")
        ready = asyncio.get_running_loop().create_task(self.client.wait_until_ready())
        done, _pending = await asyncio.wait({self._gateway, ready}, timeout=self.ready_timeout,
                                            return_when=asyncio.FIRST_COMPLETED)
        if self._gateway in done:
            ready.cancel()
            error = self._gateway.exception()
            self._gateway = None
            if isinstance(error, discord.PrivilegedIntentsRequired):
                raise PlatformStartError("Discord refused the gateway: enable MESSAGE CONTENT INTENT in the "
                                         "Developer Portal (your application → Bot → Privileged Gateway Intents)")
            raise PlatformStartError(f"the Discord gateway closed at start ({type(error).__name__})")
        if ready not in done:
            ready.cancel()
            log.warning("discord: the gateway is not ready after %.0f s; still trying", self.ready_timeout)
        self._gateway.add_done_callback(self._gateway_ended)

    @staticmethod
    def _gateway_ended(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("discord: the gateway stopped: %s", type(task.exception()).__name__)

    # ---- commands ------------------------------------------------------------------------------

    def _build_commands(self, bot: Bot) -> None:
        self.tree.clear_commands(guild=None)
        self.tree.add_command(TreeBuilder(self, bot.commands, self.command_invoked).build())

        async def translate(interaction: discord.Interaction, message: discord.Message) -> None:
            await self.translate_requested(interaction, message)

        self.tree.add_command(app_commands.ContextMenu(
            name=described(TRANSLATE_MENU), callback=translate,
            allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True),
            allowed_installs=app_commands.AppInstallationType(guild=True)))

    async def sync_commands(self) -> None:
        """Development (`DISCORD_GUILD_IDS` set): the commands of those servers, updated at once.
        Production: the global commands, which Discord spreads to every server within minutes."""
        guilds = self.settings.discord_guilds
        try:
            if guilds:
                for guild_id in guilds:
                    guild = discord.Object(guild_id)
                    self.tree.copy_global_to(guild=guild)
                    await self.tree.sync(guild=guild)
                log.info("discord: commands registered in %d server(s)", len(guilds))
            else:
                await self.tree.sync()
                log.info("discord: commands registered globally")
        except discord.Forbidden:
            log.error("discord: cannot register the /icc commands; invite the bot with the "
                      "applications.commands scope (icc-bot check prints the link)")
        except discord.HTTPException as error:
            log.error("discord: registering the /icc commands failed (%s)", error.status)

    async def _command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        log.error("discord command failed", exc_info=error)
        if not interaction.response.is_done():
            locale = resolve_locale([str(interaction.locale)])
            text = render(APOLOGY, locale)
            with contextlib.suppress(discord.HTTPException):
                await interaction.response.send_message(text, ephemeral=True)

    def _responder(self, interaction: discord.Interaction) -> InteractionResponder:
        responder = InteractionResponder(self, interaction, locale=resolve_locale([str(interaction.locale)]))
        responder.start()
        return responder

    async def _answering(self, interaction: discord.Interaction,
                         work: Callable[[InteractionResponder], Awaitable[None]]) -> None:
        """Run `work` for an interaction; whatever happens, the interaction gets an answer."""
        responder = self._responder(interaction)
        try:
            await work(responder)
        except Exception:
            log.exception("discord interaction %s failed", interaction.id)
            with contextlib.suppress(Exception):
                await responder.reply(render(APOLOGY, responder.locale))
        finally:
            await responder.finish()

    async def command_invoked(self, interaction: discord.Interaction, spec: CommandSpec, words: str,
                              given: dict[str, Any]) -> None:
        async def work(responder: InteractionResponder) -> None:
            assert self.bot is not None
            values: dict[str, str] = {}
            people: list[discord.abc.User] = []
            mentions = self._guild_mentions(interaction.guild)
            for name, value in given.items():
                if isinstance(value, (discord.User, discord.Member)):
                    values[name] = f"<@{value.id}>"
                    people.append(value)
                elif isinstance(value, str):
                    values[name] = to_neutral(value, mentions)
                else:
                    values[name] = str(value)
            text = invocation_text(words.split(), spec, values)
            author = await self.inbound.interaction_author(interaction)
            if people:
                await self._remember_people(interaction.guild_id, people)
            await self.bot.handle(CommandInvoked(self.inbound.interaction_channel(interaction), author, text,
                                                 responder, platform_locale=str(interaction.locale),
                                                 can_open_form=True, event_id=str(interaction.id)))

        await self._answering(interaction, work)

    def _guild_mentions(self, guild: discord.Guild | None) -> Mentions:
        if guild is None:
            return Mentions()

        def user(user_id: int) -> str | None:
            member = guild.get_member(user_id)
            return member.display_name if member else None

        def role(role_id: int) -> str | None:
            found = guild.get_role(role_id)
            return found.name if found else None

        def channel(channel_id: int) -> str | None:
            found = guild.get_channel_or_thread(channel_id)
            return found.name if found else None

        return Mentions(lookup_user=user, lookup_role=role, lookup_channel=channel)

    async def _remember_people(self, guild_id: int | None, people: Sequence[discord.abc.User]) -> None:
        """People named in a command (`/icc role grant @Ana`) are known by name from then on."""
        assert self.bot is not None
        workspaces = {user.id: await self.inbound.workspace_of(user.id, guild_id) for user in people}
        async with self.bot.db.session() as session:
            for user in people:
                workspace = workspaces[user.id]
                await registry.upsert_person(session, PLATFORM, workspace, str(user.id),
                                             display_name=user.display_name, avatar_url=user.display_avatar.url,
                                             now=self.bot.clock.now())

    async def translate_requested(self, interaction: discord.Interaction, message: discord.Message) -> None:
        text = self.inbound.text_of(message)

        async def work(responder: InteractionResponder) -> None:
            assert self.bot is not None
            author = await self.inbound.interaction_author(interaction)
            where = await self.inbound.place(interaction.guild_id, message.channel.id)
            channel = where[0] if where else ChannelRef(PLATFORM, "dm", str(message.channel.id))
            await self.bot.handle(TranslateRequested(channel, str(message.id), text, author, responder,
                                                     platform_locale=str(interaction.locale)))

        await self._answering(interaction, work)

    # ---- buttons and forms ------------------------------------------------------------------------

    async def button_pressed(self, interaction: discord.Interaction, action_id: str, value: str) -> None:
        if action_id.startswith(FORM_ACTION):
            await self.forms.button(interaction, value)
            return

        async def work(responder: InteractionResponder) -> None:
            assert self.bot is not None
            author = await self.inbound.interaction_author(interaction)
            message_id = str(interaction.message.id) if interaction.message else None
            await self.bot.handle(ButtonPressed(action_id, value, author, responder,
                                                self.inbound.interaction_channel(interaction), message_id,
                                                platform_locale=str(interaction.locale)))

        await self._answering(interaction, work)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type != discord.InteractionType.modal_submit or not isinstance(interaction.data, dict):
            return
        custom_id = str(interaction.data.get("custom_id", ""))
        if custom_id.startswith(MODAL_PREFIX):
            await self.forms.submitted(interaction, custom_id)

    # ---- outbound --------------------------------------------------------------------------------

    async def prepare(self, channels: Sequence[ChannelRef]) -> None:
        """The channels' webhooks (broadcasts are posted through them), read in one query."""
        await self.webhooks.preload([channel.channel for channel in channels])

    def render_outgoing(self, message: Outgoing) -> tuple[str, list[discord.Embed]]:
        """Text, footnote and original as Discord shows them: the footnote as a small grey line,
        a short original as a spoiler on that line, a longer one as a spoiler in an embed."""
        content = to_discord(message.text)
        original = to_discord(message.original) if message.original else None
        inline = original is not None and "\n" not in original and len(original) <= INLINE_ORIGINAL
        footnote = to_discord(message.footnote) if message.footnote else None
        small = " · ".join(part for part in (footnote, spoiler(original) if inline and original else None) if part)
        embeds: list[discord.Embed] = []
        if small:
            line = subtext(small)
            if len(content) + 1 + len(line) <= MAX_CHARS:
                content = f"{content}\n{line}" if content else line
            else:
                embeds.append(discord.Embed(description=small[:EMBED_TEXT]))
        if original is not None and not inline:
            budget = EMBED_TOTAL - sum(len(embed.description or "") for embed in embeds)
            for index in range(0, len(original), EMBED_TEXT - 8):
                chunk = spoiler(original[index:index + EMBED_TEXT - 8])
                if len(chunk) > budget or len(embeds) >= 10:
                    break
                embeds.append(discord.Embed(description=chunk))
                budget -= len(chunk)
        return content or ("…" if not embeds else ""), embeds

    async def post(self, channel: ChannelRef, message: Outgoing) -> str:
        try:
            return await self._post(channel, message)
        except Exception as error:
            raise delivery_error(error, channel) from error

    async def _post(self, channel: ChannelRef, message: Outgoing) -> str:
        location, reply_to = await self._placement(channel, message.thread_id)
        content, embeds = self.render_outgoing(message)
        parts = split_text(content, MAX_CHARS) if len(content) > MAX_CHARS else [content]
        view = buttons_view(message.buttons)
        webhook = await self.webhooks.get(channel) if message.post_as else None
        if message.post_as and webhook is None:
            # No webhook allowed here: the bot posts, naming the author.
            parts[0] = f"**{to_discord(message.post_as.name)}**: {parts[0]}"
            parts = [piece for part in parts for piece in split_text(part, MAX_CHARS)]
        ids: list[str] = []
        for index, part in enumerate(parts):
            extras = self._extras(message, embeds, view) if index == len(parts) - 1 else {}
            if webhook is not None and message.post_as is not None:
                ids.append(await self._webhook_send(channel, webhook, location, part, message, extras))
                webhook = self.webhooks.known(channel.channel) or webhook
            else:
                if index == 0 and _delivery_key(message):
                    # Discord drops a second message with the same nonce: a retried post is not doubled.
                    extras["nonce"] = _delivery_key(message)
                ids.append(await self._bot_send(channel, location, part, reply_to if index == 0 else None, extras))
        if location != channel.channel:
            await self._remember_thread_posts(ids, location, channel,
                                              str(webhook.id) if webhook is not None else None)
        return ids[0]

    @staticmethod
    def _extras(message: Outgoing, embeds: list[discord.Embed], view: discord.ui.View | None) -> dict[str, Any]:
        """What goes with the last part of a message: embeds, buttons, files."""
        extras: dict[str, Any] = {}
        if embeds:
            extras["embeds"] = embeds
        if view is not None:
            extras["view"] = view
        files = message.files
        if files:
            extras["files"] = [discord.File(io.BytesIO(attached.content), filename=attached.name)
                               for attached in files]
        return extras

    async def _webhook_send(self, channel: ChannelRef, webhook: discord.Webhook, location: str, content: str,
                            message: Outgoing, extras: dict[str, Any]) -> str:
        assert message.post_as is not None
        options: dict[str, Any] = {"username": safe_name(message.post_as.name), "allowed_mentions": NO_PINGS,
                                   "wait": True, **extras}
        if message.post_as.avatar_url:
            options["avatar_url"] = message.post_as.avatar_url
        if location != channel.channel:
            options["thread"] = discord.Object(int(location))
        try:
            sent = await webhook.send(content, **options)
        except discord.NotFound as error:
            if error.code != UNKNOWN_WEBHOOK:
                raise
            await self.webhooks.forget(channel, webhook)
            fresh = await self.webhooks.get(channel)
            if fresh is None:
                raise
            sent = await fresh.send(content, **options)
        return str(sent.id)

    async def _bot_send(self, channel: ChannelRef, location: str, content: str, reply_to: str | None,
                        extras: dict[str, Any]) -> str:
        target = self.client.get_partial_messageable(int(location), guild_id=int(channel.workspace))
        options: dict[str, Any] = {"allowed_mentions": NO_PINGS, **extras}
        if reply_to is not None:
            options["reference"] = discord.MessageReference(message_id=int(reply_to), channel_id=int(location),
                                                            fail_if_not_exists=False)
        sent = await target.send(content, **options)
        return str(sent.id)

    async def _placement(self, channel: ChannelRef, thread_id: str | None) -> tuple[str, str | None]:
        """Where a post with `thread_id` goes: (channel or thread id, message to reply to).

        `thread_id` is a Discord thread, or a message: then the post goes into the thread started
        from that message (started now if need be), or, when the message is itself inside a thread,
        into that thread as a reply."""
        if not thread_id:
            return channel.channel, None
        if not thread_id.isdigit():
            log.warning("thread %r is not a Discord id: posting in %s itself", thread_id[:40], channel)
            return channel.channel, None
        lives_in = self.inbound.thread_of_message.get(int(thread_id)) or self.thread_posts.get(int(thread_id))
        if lives_in is not None and str(lives_in) != thread_id:
            return str(lives_in), thread_id
        if int(thread_id) in self.inbound.parent_of_thread:
            return thread_id, None
        parent = self.client.get_partial_messageable(int(channel.channel), guild_id=int(channel.workspace))
        try:
            starter = await parent.fetch_message(int(thread_id))
            name = " ".join(to_neutral(starter.content).split())[:80] or "💬"
            thread = await starter.create_thread(name=name, auto_archive_duration=1440)
            self.inbound.learn_thread(thread)
            return str(thread.id), None
        except discord.HTTPException as error:
            if error.code == THREAD_EXISTS:
                self.inbound.parent_of_thread.remember(int(thread_id), int(channel.channel))
                return thread_id, None
            if isinstance(error, discord.NotFound):
                # Not a message of this channel: perhaps a thread of it that is not cached.
                if await self.inbound.parent_of(int(channel.workspace), int(thread_id)) is not None:
                    return thread_id, None
                return channel.channel, None
            log.warning("cannot start a thread on %s in %s (%s): replying instead", thread_id, channel, error.status)
            return channel.channel, thread_id

    async def _remember_thread_posts(self, ids: Sequence[str], thread_id: str, channel: ChannelRef,
                                     webhook_id: str | None) -> None:
        assert self.bot is not None
        async with self.bot.db.session() as session:
            for message_id in ids:
                self.thread_posts.remember(int(message_id), int(thread_id))
                await stored.remember_thread_post(session, message_id, thread_id, channel.channel, webhook_id,
                                                  self.bot.clock.now())

    async def _location(self, channel: ChannelRef, message_id: str) -> tuple[str, bool | None]:
        """(channel or thread id, posted through the webhook?) of one of our posts."""
        thread = self.thread_posts.get(int(message_id))
        if thread is not None:
            return str(thread), None
        assert self.bot is not None
        async with self.bot.db.session() as session:
            record = await stored.thread_post(session, message_id)
        if record is not None:
            self.thread_posts.remember(int(message_id), int(record.thread_id))
            return record.thread_id, record.webhook_id is not None
        return channel.channel, None

    async def edit(self, channel: ChannelRef, message_id: str, message: Outgoing) -> None:
        try:
            await self._edit(channel, message_id, message)
        except Exception as error:
            raise delivery_error(error, channel) from error

    async def _edit(self, channel: ChannelRef, message_id: str, message: Outgoing) -> None:
        location, via_webhook = await self._location(channel, message_id)
        content, embeds = self.render_outgoing(message)
        parts = split_text(content, MAX_CHARS) if len(content) > MAX_CHARS else [content]
        if len(parts) > 1:
            log.warning("edit of %s is longer than one Discord message: the rest is posted after it", message_id)
        options: dict[str, Any] = {"content": parts[0], "allowed_mentions": NO_PINGS,
                                   "embeds": embeds if len(parts) == 1 else []}
        # The edited message has exactly the buttons given: none clears the old ones
        # (discord.py sends `components: []` for `view=None`), as when a reminder is answered.
        options["view"] = buttons_view(message.buttons) if len(parts) == 1 else None
        done = False
        if message.post_as is not None or via_webhook:
            webhook = await self.webhooks.get(channel)
            if webhook is not None:
                if location != channel.channel:
                    options["thread"] = discord.Object(int(location))
                try:
                    await webhook.edit_message(int(message_id), **options)
                    done = True
                except discord.NotFound as error:
                    if error.code != UNKNOWN_MESSAGE:
                        raise
        if not done:
            options.pop("thread", None)
            target = self.client.get_partial_messageable(int(location), guild_id=int(channel.workspace))
            await target.get_partial_message(int(message_id)).edit(**options)
        for part in parts[1:]:
            await self._post(channel, Outgoing(part, post_as=message.post_as, thread_id=message.thread_id,
                                               kind=message.kind))

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        try:
            await self._delete(channel, message_id)
        except Exception as error:
            raise delivery_error(error, channel) from error

    async def _delete(self, channel: ChannelRef, message_id: str) -> None:
        location, _via_webhook = await self._location(channel, message_id)
        webhook = self.webhooks.known(channel.channel) or await self._remembered_webhook(channel)
        if webhook is not None:
            thread = discord.Object(int(location)) if location != channel.channel else discord.utils.MISSING
            try:
                await webhook.delete_message(int(message_id), thread=thread)
                return
            except discord.NotFound:
                pass  # not the webhook's: the bot's own post, or already gone
        target = self.client.get_partial_messageable(int(location), guild_id=int(channel.workspace))
        try:
            await target.get_partial_message(int(message_id)).delete()
        except discord.NotFound:
            log.info("message %s in %s was already deleted", message_id, channel)

    async def _remembered_webhook(self, channel: ChannelRef) -> discord.Webhook | None:
        assert self.bot is not None
        async with self.bot.db.session() as session:
            row = await stored.webhook_for(session, channel.channel)
        return discord.Webhook.partial(int(row.webhook_id), row.token, client=self.client) if row else None

    async def send_dm(self, person: PersonRef, message: Outgoing) -> str:
        try:
            user = discord.Object(int(person.user))
            dm = await self.client.create_dm(user)
            content, embeds = self.render_outgoing(message)
            parts = split_text(content, MAX_CHARS) if len(content) > MAX_CHARS else [content]
            view = buttons_view(message.buttons)
            ids = []
            for index, part in enumerate(parts):
                extras = self._extras(message, embeds, view) if index == len(parts) - 1 else {}
                if index == 0 and _delivery_key(message):
                    extras["nonce"] = _delivery_key(message)
                sent = await dm.send(part, allowed_mentions=NO_PINGS, **extras)
                ids.append(str(sent.id))
            return ids[0]
        except Exception as error:
            raise delivery_error(error, None) from error

    async def post_ephemeral(self, channel: ChannelRef, person: PersonRef, text: str) -> None:
        """Discord has no messages only one person sees outside interactions: a DM, naming the channel."""
        await self.send_dm(person, Outgoing(text, footnote=self.channel_label(channel)))

    async def fetch_message_text(self, channel: ChannelRef, message_id: str) -> str | None:
        lives_in = self.inbound.thread_of_message.get(int(message_id))
        places = [str(lives_in)] if lives_in else []
        places.append(channel.channel)
        for place in places:
            target = self.client.get_partial_messageable(int(place), guild_id=int(channel.workspace))
            try:
                found = await target.fetch_message(int(message_id))
            except discord.NotFound:
                continue
            except discord.HTTPException as error:
                log.warning("cannot read message %s in %s (%s)", message_id, channel, error.status)
                return None
            return self.inbound.text_of(found)
        return None

    def channel_label(self, channel: ChannelRef) -> str:
        return f"<#{channel.channel}>"


def _delivery_key(message: Outgoing) -> str | None:
    """`Outgoing.delivery_key` (the relay's outbox): the same for every retry of one post."""
    key = message.delivery_key
    return str(key)[:25] if key else None


def delivery_error(error: Exception, channel: ChannelRef | None) -> DeliveryError:
    """What a failed Discord call means for the core: when to retry, or that retrying is useless."""
    where = str(channel) if channel else "a DM"
    if isinstance(error, DeliveryError):
        return error
    if isinstance(error, discord.RateLimited):
        return DeliveryError(f"Discord rate limit in {where}", retry_after=error.retry_after)
    if isinstance(error, discord.HTTPException):
        reason = f"Discord {error.status} (code {error.code}) in {where}: {error.text[:200]}"
        if error.status == 429:
            return DeliveryError(reason, retry_after=_retry_after(error))
        if error.status >= 500:
            return DeliveryError(reason)
        # 400 (our payload), 403 (no access), 404 (channel gone): the same request will fail again.
        return DeliveryError(reason, permanent=error.status in (400, 401, 403, 404) or error.code in GONE_CODES)
    if isinstance(error, (aiohttp.ClientError, OSError, asyncio.TimeoutError, json.JSONDecodeError)):
        return DeliveryError(f"Discord unreachable from {where}: {type(error).__name__}")
    if isinstance(error, ValueError):
        # An id that is not a Discord snowflake: the same request can never succeed.
        return DeliveryError(f"not a Discord id for {where}: {error}", permanent=True)
    log.exception("unexpected error talking to Discord about %s", where, exc_info=error)
    return DeliveryError(f"unexpected {type(error).__name__} for {where}")


def _retry_after(error: discord.HTTPException) -> float:
    response = error.response
    for header in ("Retry-After", "X-RateLimit-Reset-After"):
        value = response.headers.get(header) if response is not None else None
        if value:
            try:
                return float(value)
            except ValueError:
                continue
    return 5.0
