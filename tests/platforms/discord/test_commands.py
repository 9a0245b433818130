"""The `/icc` app-command tree: generated from the core's registry, synced, routed to the core
parser, answered ephemerally (or in the channel when meant for it), autocompleted."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import select

from bot.app import create_bot
from bot.clock import ManualClock
from bot.commands import CommandSpec, Param
from bot.context import CommandContext
from bot.core import Bot
from bot.i18n import _
from bot.permissions import RULES, Access
from bot.platforms.discord.commands import invocation_text, quote, spec_words
from bot.settings import Settings
from storage.models import Channel, Person, RoleGrant
from tests.fakes import discord_gateway as gw
from tests.fakes.fake_discord import FakeDiscord
from tests.platforms.discord.harness import (
    ANA,
    CLYDE,
    GUILD,
    GUILD_B,
    IVO,
    LOBBY,
    LUCIA,
    RUMEURS,
    RUMOURS,
    DiscordHarness,
)

EPHEMERAL = 64


def icc_command(fake: FakeDiscord, guild: str | None = None) -> dict[str, Any]:
    return next(command for command in fake.commands[guild] if command["name"] == "icc")


def option_named(options: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(option for option in options if option["name"] == name)


async def test_tree_mirrors_the_registry_with_typed_options(discord_bot: DiscordHarness) -> None:
    icc = icc_command(discord_bot.fake)
    areas = {option["name"]: option for option in icc["options"]}
    assert set(areas) == set(discord_bot.bot.commands.areas())
    assert areas["help"]["type"] == 1  # an area with only its default form is a sub-command
    assert areas["group"]["type"] == 2  # others are sub-command groups
    group_verbs = {option["name"] for option in areas["group"]["options"]}
    assert group_verbs == {spec.verb for spec in discord_bot.bot.commands.in_area("group")}
    assert {option["name"] for option in areas["lang"]["options"]} == {"channel", "me"}  # alias of the default

    link = option_named(areas["group"]["options"], "link")
    name, lang = option_named(link["options"], "name"), option_named(link["options"], "lang")
    assert name["type"] == 3 and name["required"] and name["autocomplete"]
    assert lang["type"] == 3 and not lang.get("required") and lang["autocomplete"]
    create = option_named(areas["group"]["options"], "create")
    kind = option_named(create["options"], "kind")
    assert [choice["value"] for choice in kind["choices"]] == ["thematic", "regional"]
    grant = option_named(areas["role"]["options"], "grant")
    assert option_named(grant["options"], "person")["type"] == 6  # a user option
    assert option_named(grant["options"], "role")["choices"]

    def walk(node: dict[str, Any]) -> list[dict[str, Any]]:
        return [node] + [found for child in node.get("options", []) for found in walk(child)]

    for node in walk(icc):
        assert 1 <= len(node.get("description", "")) <= 100, node["name"]
        assert len(node["name"]) <= 32 and node["name"] == node["name"].lower()
    # French descriptions from the catalogs, for people whose Discord speaks French.
    assert link["description_localizations"]["fr"].startswith("Relier ce canal à un groupe")
    assert name["description_localizations"]["fr"] == "le groupe"
    menu = next(command for command in discord_bot.fake.commands[None] if command["type"] == 3)
    assert menu["name"] == "Translate" and menu["name_localizations"]["fr"] == "Traduire"


async def test_commands_sync_per_server_when_guild_ids_are_set(fake_discord: FakeDiscord, sqlite_demo_url: str) -> None:
    harness = await DiscordHarness.start(fake_discord, sqlite_demo_url, discord_guild_ids=f"{GUILD}")
    try:
        assert not fake_discord.recorded("PUT /applications/{application_id}/commands")
        assert fake_discord.recorded("PUT /applications/{application_id}/guilds/{guild_id}/commands")
        assert icc_command(fake_discord, GUILD)["options"]
        answer = await harness.command(["group", "list"])
        assert "anti-rumours" in harness.said(answer)
    finally:
        await harness.stop()


async def test_a_nested_command_reaches_the_core_and_answers_ephemerally(discord_bot: DiscordHarness) -> None:
    asked = await discord_bot.command(["group", "members"], [gw.option("name", "anti-rumours")])
    answer = discord_bot.answer(asked)
    assert answer["type"] == 4 and answer["data"]["flags"] == EPHEMERAL
    assert answer["data"]["allowed_mentions"] == {"parse": []}
    assert "Lyon" in answer["data"]["content"]  # a member city of the demo group
    assert discord_bot.fake.messages(RUMOURS) == []  # nobody else saw it


async def test_an_answer_for_the_channel_is_public(discord_bot: DiscordHarness) -> None:
    asked = await discord_bot.command(["group", "link"], [gw.option("name", "welcoming-newcomers"),
                                                          gw.option("lang", "pt-BR")], user=IVO, channel=LOBBY)
    answer = discord_bot.answer(asked)
    assert answer["type"] == 4 and not answer["data"].get("flags")
    assert "welcoming-newcomers" in answer["data"]["content"]
    assert [m["content"] for m in discord_bot.fake.messages(LOBBY)] == [answer["data"]["content"]]
    async with discord_bot.bot.db.session() as session:
        linked = (await session.exec(select(Channel).where(Channel.channel_id == LOBBY))).one()
    assert (linked.platform, linked.workspace, linked.language) == ("discord", GUILD, "pt-BR")


async def test_refusals_are_in_the_askers_language(discord_bot: DiscordHarness) -> None:
    asked = await discord_bot.command(["group", "create"], [gw.option("name", "Sport")], user=ANA, locale="fr")
    answer = discord_bot.answer(asked)
    assert answer["data"]["flags"] == EPHEMERAL
    assert answer["data"]["content"] == "Seule l'équipe ICC peut faire cela."


async def test_a_malformed_value_gets_usage_and_changes_nothing(discord_bot: DiscordHarness) -> None:
    asked = await discord_bot.command(["lang", "channel"], [gw.option("code", "klingon")], user=LUCIA)
    assert "`klingon` is not a language code" in discord_bot.said(asked)
    async with discord_bot.bot.db.session() as session:
        channel = (await session.exec(select(Channel).where(Channel.channel_id == RUMOURS))).one()
    assert channel.language == "en"


async def test_a_person_option_is_a_mention_and_the_person_is_known_by_name(discord_bot: DiscordHarness) -> None:
    resolved = {"users": {CLYDE["id"]: CLYDE}, "members": {CLYDE["id"]: {k: v for k, v in gw.member(CLYDE).items()
                                                                          if k != "user"}}}
    asked = await discord_bot.command(
        ["role", "grant"], [gw.option("person", CLYDE["id"], type=6), gw.option("role", "group-lead"),
                            gw.option("group", "anti-rumours")], user=IVO, resolved=resolved)
    assert discord_bot.said(asked) == "Clyde Barrow is now group lead (anti-rumours)."
    async with discord_bot.bot.db.session() as session:
        person = (await session.exec(select(Person).where(Person.user_id == CLYDE["id"]))).one()
        grants = list(await session.exec(select(RoleGrant).where(RoleGrant.person_id == person.id)))
    assert person.display_name == "Clyde Barrow" and person.workspace == GUILD
    assert [grant.role for grant in grants] == ["group-lead"]


@pytest.mark.parametrize(("path", "option", "typed", "locale", "expected"), [
    (["group", "link"], "name", "anti", "en-US", ["anti-rumours"]),
    (["city", "show"], "city", "lyo", "en-US", ["Lyon"]),
    (["city", "show"], "city", "", "en-US", ["Lyon"]),  # nothing typed: Ana's own city first
    (["group", "create"], "topic", "welcom", "en-US", ["welcoming-newcomers"]),
    (["lang", "channel"], "code", "ukr", "fr", ["uk"]),
    (["lang", "channel"], "code", "allem", "fr", ["de"]),  # French name: allemand
    (["city", "list"], "network", "rec", "en-US", ["reci"]),
])
async def test_autocomplete_offers_choices_from_the_core(discord_bot: DiscordHarness, path: list[str], option: str,
                                                        typed: str, locale: str, expected: list[str]) -> None:
    asked = await discord_bot.command(path, [gw.option(option, typed, focused=True)], locale=locale, focused=True)
    answer = discord_bot.answer(asked)
    assert answer["type"] == 8
    choices = answer["data"]["choices"]
    assert 1 <= len(choices) <= 25
    assert [choice["value"] for choice in choices[:len(expected)]] == expected
    assert all(len(choice["name"]) <= 100 for choice in choices)


async def test_language_choices_are_named_in_the_askers_language(discord_bot: DiscordHarness) -> None:
    asked = await discord_bot.command(["lang", "me"], [gw.option("code", "uk", focused=True)], locale="fr",
                                      focused=True)
    assert discord_bot.answer(asked)["data"]["choices"][0] == {"name": "ukrainien (uk)", "value": "uk"}


# ---- every command's options, written back as text, parse to the same arguments -------------------


def sample(param: Param) -> tuple[str, Any]:
    """A value as Discord would hand it over, and what the core should bind."""
    if param.choices:
        return param.choices[-1], param.choices[-1]
    if param.kind == "person":
        return f"<@{ANA['id']}>", f"<@{ANA['id']}>"
    if param.kind == "integer":
        return "42", 42
    if param.rest:
        text = 'She said "hi" — l\'école «ok» key=value'
        return text, text
    return "Città del Dialogo 'x'", "Città del Dialogo 'x'"


async def test_every_command_round_trips_through_the_core_parser(sqlite_demo_url: str) -> None:
    bot = await create_bot(Settings(_env_file=None, database_url=sqlite_demo_url), database_url=sqlite_demo_url,
                           clock=ManualClock(), migrate=False)
    try:
        specs = [spec for spec in bot.commands if spec.params]
        assert specs
        for spec in specs:
            for optional in (True, False):
                chosen = [p for p in spec.params if p.required or optional]
                values = {p.name: sample(p)[0] for p in chosen}
                text = invocation_text(spec_words(bot.commands, spec), spec, values)
                invocation = bot.commands.resolve(text)
                assert invocation.spec is spec, text
                expected = {p.name: sample(p)[1] for p in chosen}
                bound = {k: v for k, v in invocation.args.values.items() if v != ""}
                assert bound == expected, text
    finally:
        await bot.db.dispose()


def test_quotes_adapt_to_the_value() -> None:
    assert quote("plain") == '"plain"'
    assert quote('say "hi"') == "'say \"hi\"'"
    assert quote("""it's "x" """) == """«it's "x" »"""


# ---- slow handlers: deferred before Discord's 3 seconds, then completed ----------------------------


def slow_commands(bot: Bot) -> None:
    async def slow(ctx: CommandContext) -> None:
        await asyncio.sleep(0.3)
        await ctx.reply("Slow but here.", ephemeral=ctx.text_arg("where") != "channel")

    bot.commands.add(CommandSpec("test", "slow", _("A slow test command."), "/icc test slow [where=channel]", slow,
                                 params=(Param("where", _("where to answer"), choices=("channel", "me")),)))


@pytest.fixture
def test_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(RULES, ("test", "slow"), Access.ANYONE)


@pytest.mark.usefixtures("test_rules")
@pytest.mark.parametrize("where", ["me", "channel"])
async def test_a_slow_command_is_deferred_then_answered(fake_discord: FakeDiscord, sqlite_demo_url: str,
                                                       where: str) -> None:
    harness = await DiscordHarness.start(fake_discord, sqlite_demo_url, prepare=slow_commands, defer_after=0.05)
    try:
        asked = await harness.command(["test", "slow"], [gw.option("where", where)])
        assert harness.answer(asked)["type"] == 5  # "thinking…", within the deadline
        original = fake_discord.originals[asked["token"]]
        if where == "me":
            assert original["content"] == "Slow but here." and original["flags"] == EPHEMERAL
            assert fake_discord.messages(RUMOURS) == []
        else:
            assert original["content"] == "✅"
            assert [m["content"] for m in fake_discord.messages(RUMOURS)] == ["Slow but here."]
    finally:
        await harness.stop()


async def test_several_servers_link_channels_into_one_group(discord_bot: DiscordHarness) -> None:
    asked = await discord_bot.command(["lang", "channel"], [gw.option("code", "fr"), gw.option("formality", "more")],
                                      user=LUCIA, guild=GUILD_B, channel=RUMEURS, locale="fr")
    assert discord_bot.said(asked) == "La langue de ce canal est maintenant : français (fr)."
    members = await discord_bot.command(["group", "members"], [gw.option("name", "anti-rumours")])
    listed = discord_bot.said(members)
    assert f"• discord <#{RUMOURS}>: English (en)" in listed and f"• discord <#{RUMEURS}>: French (fr)" in listed
    async with discord_bot.bot.db.session() as session:
        channel = (await session.exec(select(Channel).where(Channel.channel_id == RUMEURS))).one()
    assert (channel.workspace, channel.formality) == (GUILD_B, "more")


async def test_a_command_in_a_thread_concerns_the_threads_channel(discord_bot: DiscordHarness) -> None:
    thread = gw.thread_channel("2000000000000000444", "talk", RUMOURS, GUILD)
    payload = gw.slash_command("icc", [gw.sub_command_group("group", [gw.sub_command("unlink")])], guild_id=GUILD,
                               channel_id=thread["id"], user=LUCIA)
    payload["channel"] = {**thread, "permissions": gw.EVERYONE_PERMISSIONS}
    await discord_bot.inject("INTERACTION_CREATE", payload)
    assert discord_bot.said(payload) == "This channel is no longer part of `anti-rumours`."
    async with discord_bot.bot.db.session() as session:
        channel = (await session.exec(select(Channel).where(Channel.channel_id == RUMOURS))).one()
    assert channel.group_id is None
