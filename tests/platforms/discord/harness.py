"""A bot on the real discord.py adapter, talking to FakeDiscord, with gateway events injected
through the library's own parser. Two servers with channels linked to the demo network's
groups; Ana coordinates Lyon, Ivo is in the ICC team (ICC_ADMINS), Lucía leads anti-rumours."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import select

from bot.app import create_bot
from bot.clock import ManualClock
from bot.core import Bot
from bot.permissions import Role
from bot.platforms.console import ConsoleAdapter
from bot.platforms.discord.adapter import DiscordAdapter
from bot.settings import Settings
from storage.models import Channel, Group, Person
from storage.queries import registry
from tests.fakes import discord_gateway as gw
from tests.fakes.fake_discord import FakeDiscord
from tests.harness import START

GUILD = "2000000000000000001"
GUILD_B = "2100000000000000001"
RUMOURS = "2000000000000000010"  # anti-rumours, English
WELCOME = "2000000000000000020"  # welcoming-newcomers, English
LOBBY = "2000000000000000030"  # not linked
RUMEURS = "2100000000000000010"  # anti-rumours, French, on the second server

ANA = gw.user("3000000000000000001", "ana", avatar="a1", global_name="Ana Souza")
IVO = gw.user("3000000000000000002", "ivo", avatar="b2", global_name="Ivo Team")
LUCIA = gw.user("3000000000000000003", "lucia", avatar="c3", global_name="Lucía García")
CLYDE = gw.user("3000000000000000004", "clyde", avatar=None, global_name="Clyde Barrow")
OTHER_BOT = gw.user("3000000000000000099", "otherbot", bot=True, global_name="Other Bot")
PEOPLE = (ANA, IVO, LUCIA, CLYDE)


class DiscordHarness:
    def __init__(self, fake: FakeDiscord, bot: Bot, adapter: DiscordAdapter, clock: ManualClock) -> None:
        self.fake = fake
        self.bot = bot
        self.adapter = adapter
        self.clock = clock
        self.console: ConsoleAdapter | None = None
        self.console_output = io.StringIO()

    @classmethod
    async def start(cls, fake: FakeDiscord, database_url: str, *, prepare: Callable[[Bot], None] | None = None,
                    defer_after: float | None = None, start: datetime = START, seed: bool = True,
                    console: bool = False, **setting_values: Any) -> DiscordHarness:
        """`console=True` also runs the console platform, with the demo network's console channels."""
        values: dict[str, Any] = {"icc_admins": f"discord:{IVO['id']}", "discord_token": fake.token,
                                  **setting_values}
        settings = Settings(_env_file=None, database_url=database_url, **values)
        clock = ManualClock(start)
        bot = await create_bot(settings, database_url=database_url, clock=clock, migrate=False)
        if prepare is not None:
            prepare(bot)
        adapter = DiscordAdapter(settings, connect_gateway=False, defer_after=defer_after)
        bot.add_adapter(adapter)
        harness = cls(fake, bot, adapter, clock)
        if console:
            harness.console = ConsoleAdapter(harness.console_output)
            async with bot.db.session() as session:
                people = await session.exec(select(Person).where(Person.platform == "console"))
                harness.console.names.update({p.user_id: p.display_name for p in people})
            bot.add_adapter(harness.console)
        try:
            if seed:
                await harness._seed()
            await bot.start(run_scheduler=False)
        except BaseException:
            await harness.stop()
            raise
        for guild in harness.guilds():
            fake.add_guild(guild)
            await gw.inject(adapter.client, "GUILD_CREATE", guild)
        return harness

    @staticmethod
    def guilds() -> list[dict[str, Any]]:
        members = [gw.member(person) for person in PEOPLE]
        first = gw.guild_create(GUILD, "ICC network", members=members, channels=[
            gw.text_channel(RUMOURS, "anti-rumours", GUILD), gw.text_channel(WELCOME, "welcoming", GUILD),
            gw.text_channel(LOBBY, "lobby", GUILD)])
        second = gw.guild_create(GUILD_B, "Réseau français", members=members, preferred_locale="fr",
                                 channels=[gw.text_channel(RUMEURS, "anti-rumeurs", GUILD_B)])
        return [first, second]

    async def _seed(self) -> None:
        """Link the Discord channels to the demo groups; Lucía leads anti-rumours, Ana coordinates Lyon."""
        now = self.clock.now()
        async with self.bot.db.session() as session:
            groups = {g.slug: g for g in await session.exec(select(Group))}
            for guild, channel, name, language, group in (
                    (GUILD, RUMOURS, "anti-rumours", "en", "anti-rumours"),
                    (GUILD, WELCOME, "welcoming", "en", "welcoming-newcomers"),
                    (GUILD_B, RUMEURS, "anti-rumeurs", "fr", "anti-rumours")):
                session.add(Channel(platform="discord", workspace=guild, channel_id=channel, name=name,
                                    language=language, group_id=groups[group].id, linked_at=now))
            lucia = await registry.upsert_person(session, "discord", GUILD, LUCIA["id"],
                                                 display_name="Lucía García", now=now)
            assert lucia.id is not None
            await registry.grant_role(session, lucia.id, Role.GROUP_LEAD, group_id=groups["anti-rumours"].id,
                                      granted_by_id=None, now=now)
            ana = await registry.upsert_person(session, "discord", GUILD, ANA["id"], display_name="Ana Souza",
                                               now=now)
            lyon = await registry.find_city(session, "Lyon")
            assert lyon is not None
            ana.city_id = lyon.id
            session.add(ana)

    async def stop(self) -> None:
        await self.bot.stop()
        await self.bot.db.dispose()

    # ---- gateway events -----------------------------------------------------------------------

    async def inject(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        await gw.inject(self.adapter.client, event, payload, fake=self.fake if event == "INTERACTION_CREATE" else None)
        await self.bot.wait_idle()
        return payload

    async def command(self, path: list[str], options: list[dict[str, Any]] | None = None, *,
                      user: dict[str, Any] = ANA, channel: str = RUMOURS, guild: str | None = GUILD,
                      locale: str = "en-US", resolved: dict[str, Any] | None = None,
                      focused: bool = False) -> dict[str, Any]:
        """`/icc <path…>` with options, as Discord sends it (a chat input, or autocomplete)."""
        node: list[dict[str, Any]] = list(options or [])
        if len(path) == 2:
            node = [gw.sub_command_group(path[0], [gw.sub_command(path[1], node)])]
        elif len(path) == 1:
            node = [gw.sub_command(path[0], node)]
        build = gw.autocomplete if focused else gw.slash_command
        extra: dict[str, Any] = {"resolved": resolved} if resolved else {}
        payload = build("icc", node, guild_id=guild, channel_id=channel, user=user, locale=locale, **extra)
        return await self.inject("INTERACTION_CREATE", payload)

    def answer(self, payload: dict[str, Any]) -> dict[str, Any]:
        callback = self.fake.callback(payload["id"])
        assert callback is not None, "the interaction got no answer"
        return callback

    def said(self, payload: dict[str, Any]) -> str:
        """Everything the bot answered to an interaction: the response, then any follow-ups."""
        callback = self.answer(payload)
        texts = []
        if callback["type"] == 4:
            texts.append(callback["data"].get("content") or "")
        original = self.fake.originals.get(payload["token"])
        if callback["type"] == 5 and original is not None:
            texts.append(original.get("content") or "")
        for followup in self.fake.followups.get(payload["token"], []):
            if followup is not original:
                texts.append(followup.get("content") or "")
        return "\n".join(texts)

    async def console_says(self, line: str) -> list[str]:
        """A console line (`@marie #rumeurs-fr Bonjour`); the console's output it caused."""
        assert self.console is not None
        start = len(self.console_output.getvalue())
        await self.console.feed(line)
        await self.bot.wait_idle()
        return self.console_output.getvalue()[start:].splitlines()

    async def say(self, channel: str, text: str, *, user: dict[str, Any] = ANA, guild: str = GUILD,
                  **options: Any) -> dict[str, Any]:
        payload = gw.message_create(channel, text, author=user, guild_id=guild, **options)
        return await self.inject("MESSAGE_CREATE", payload)
