"""Self-tests: the real discord.py client against FakeDiscord and injected gateway events."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.fakes import discord_gateway as gw
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.pacing import ChannelPacing

GUILD = "2000000000000000001"
CHAN = "2000000000000000010"
OTHER = "2000000000000000020"
ALICE = gw.user("3000000000000000001", "alice", avatar="abcdef")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        with server.routed():
            yield server


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    intents = discord.Intents.default()
    intents.message_content = True
    bot = discord.Client(intents=intents)
    await bot.login(fake.token)
    guild = gw.guild_create(
        GUILD,
        "ICC",
        channels=[gw.text_channel(CHAN, "anti-rumours", GUILD), gw.text_channel(OTHER, "relay", GUILD)],
        members=[gw.member(ALICE)],
    )
    fake.add_guild(guild)
    await gw.inject(bot, "GUILD_CREATE", guild)
    yield bot
    await bot.close()


async def test_login_calls_and_identity(fake: FakeDiscord, client: discord.Client) -> None:
    assert [r.name for r in fake.requests[:2]] == ["GET /users/@me", "GET /oauth2/applications/@me"]
    assert client.user is not None and str(client.user.id) == fake.application_id
    assert str(client.application_id) == fake.application_id
    assert fake.requests[0].headers["Authorization"] == f"Bot {fake.token}"
    guild = client.get_guild(int(GUILD))
    assert guild is not None and guild.me is not None
    assert guild.me.guild_permissions.manage_webhooks


async def test_bad_token_is_login_failure(fake: FakeDiscord) -> None:
    bot = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await bot.login("wrong")
    await bot.close()


async def test_messages_edits_reactions_threads_dm(fake: FakeDiscord, client: discord.Client) -> None:
    channel = client.get_channel(int(CHAN))
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("hello")
    assert [m["content"] for m in fake.messages(CHAN)] == ["hello"]
    edited = await sent.edit(content="hello (edited)")
    assert edited.edited_at is not None and fake.messages(CHAN)[0]["content"] == "hello (edited)"
    await sent.add_reaction("🇫🇷")
    assert fake.recorded("PUT */reactions/*")[0].path.endswith("/reactions/🇫🇷/@me")
    thread = await sent.create_thread(name="Translations")
    assert thread.id == sent.id and thread.parent_id == int(CHAN)
    await sent.delete()
    assert fake.messages(CHAN) == []
    with pytest.raises(discord.HTTPException) as err:
        await channel.send("x" * 2001)
    assert err.value.code == 50035
    report = await channel.send("report", file=discord.File(io.BytesIO(b"%PDF"), filename="report.pdf"))
    assert report.attachments[0].filename == "report.pdf"
    assert fake.recorded("POST /channels/*/messages")[-1].body["content"] == "report"  # multipart payload_json
    dm = await client.create_dm(discord.Object(int(ALICE["id"])))  # type: ignore[arg-type]
    await dm.send("your reminder")
    assert fake.messages(str(dm.id))[0]["content"] == "your reminder"
    fake.remove_channel(OTHER)
    with pytest.raises(discord.NotFound):
        await client.http.send_message(int(OTHER), params=discord.http.handle_message_parameters("x"))


async def test_webhook_send_records_allowed_mentions(fake: FakeDiscord, client: discord.Client) -> None:
    channel = client.get_channel(int(OTHER))
    assert isinstance(channel, discord.TextChannel)
    hook = await channel.create_webhook(name="ICC relay")
    assert [w.id for w in await channel.webhooks()] == [hook.id]
    msg = await hook.send(
        "@everyone <@3000000000000000001> bonjour",
        username="Alice (Lyon)",
        avatar_url="https://cdn.example/alice.png",
        allowed_mentions=discord.AllowedMentions.none(),
        wait=True,
    )
    post = fake.webhook_posts()[0]
    assert post.body["allowed_mentions"] == {"parse": []}
    assert post.body["username"] == "Alice (Lyon)" and post.query["wait"] == "1"
    assert msg.webhook_id == hook.id and msg.author.name == "Alice (Lyon)"
    assert fake.pings[str(msg.id)] == {"everyone": False, "users": [], "roles": []}
    await hook.edit_message(msg.id, content="bonjour (edited)")
    assert fake.messages(OTHER)[0]["content"] == "bonjour (edited)"
    await hook.delete_message(msg.id)
    assert fake.messages(OTHER) == []
    with pytest.raises(discord.HTTPException):
        await hook.send("x", username="Clyde")
    thread_msg = await hook.send("in thread", thread=discord.Object(42), wait=True)
    assert fake.webhook_posts()[-1].query["thread_id"] == "42" and thread_msg.channel.id == 42


async def test_429_is_honoured_and_503_raises(fake: FakeDiscord, client: discord.Client) -> None:
    channel = client.get_channel(int(CHAN))
    assert isinstance(channel, discord.TextChannel)
    fake.fail_next("POST /channels/{channel_id}/messages", 429, retry_after=0.1)
    await channel.send("after rate limit")
    first, second = fake.recorded("POST /channels/*/messages")
    assert (first.status, second.status) == (429, 200)
    assert second.time - first.time >= 0.1

    hook = await channel.create_webhook(name="relay")
    fake.fail_next("POST /webhooks/*", 429, retry_after=0.05)
    await hook.send("relayed", wait=True)
    assert [r.status for r in fake.webhook_posts()] == [429, 200]

    fake.fail_next("POST /channels/*/messages", 503)
    with pytest.raises(discord.DiscordServerError):
        await channel.send("down")


async def test_channel_pacing_is_waited_out_by_discord_py(fake: FakeDiscord, client: discord.Client) -> None:
    channel = client.get_channel(int(CHAN))
    assert isinstance(channel, discord.TextChannel)
    fake.set_channel_pacing(ChannelPacing(interval=0.3, tolerance=0.0))
    await channel.send("first")
    await channel.send("second")  # too soon: 429 with the time left, which discord.py sleeps
    first, refused, second = fake.recorded("POST /channels/*/messages")
    assert (first.status, refused.status, second.status) == (200, 429, 200)
    assert second.time - first.time >= 0.29

    hook = await channel.create_webhook(name="relay")
    await hook.send("relayed", wait=True)  # the channel's pace counts webhook posts too
    assert [r.status for r in fake.webhook_posts()] == [429, 200]
    assert [m["content"] for m in fake.messages(CHAN)] == ["first", "second", "relayed"]


def _tree(client: discord.Client, seen: list[Any]) -> app_commands.CommandTree[discord.Client]:
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    icc = app_commands.Group(name="icc", description="ICC")
    group = app_commands.Group(name="group", description="groups", parent=icc)

    @group.command(name="link", description="link")
    async def link(interaction: discord.Interaction, name: str, lang: str = "en") -> None:
        seen.append((name, lang, str(interaction.locale)))
        await interaction.response.send_message(f"linked {name}", ephemeral=True)

    @link.autocomplete("name")
    async def link_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in ("anti-rumours", "business") if n.startswith(current)]

    class Practice(discord.ui.Modal, title="Add practice"):
        practice_title: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Title", custom_id="title")

        async def on_submit(self, interaction: discord.Interaction) -> None:
            seen.append(self.practice_title.value)
            await interaction.response.send_message("saved")

    @icc.command(name="practice", description="add a practice")
    async def practice(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Practice(custom_id="practice-modal"))

    @app_commands.context_menu(name="Translate")
    async def translate(interaction: discord.Interaction, message: discord.Message) -> None:
        seen.append(message.content)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(f"[EN] {message.content}", ephemeral=True)

    @tree.command(name="ping", description="ping")
    async def ping(interaction: discord.Interaction) -> None:
        seen.append(("ping", type(interaction.channel).__name__))
        await interaction.response.send_message("pong")

    tree.add_command(icc, guild=discord.Object(int(GUILD)))
    tree.add_command(translate)
    return tree


async def test_interactions_routed_and_answered(fake: FakeDiscord, client: discord.Client) -> None:
    seen: list[Any] = []
    tree = _tree(client, seen)
    synced = await tree.sync(guild=discord.Object(int(GUILD)))
    assert synced[0].name == "icc" and synced[0].id
    assert fake.recorded("PUT /applications/{application_id}/guilds/{guild_id}/commands")

    where = {"guild_id": GUILD, "channel_id": CHAN, "user": ALICE, "locale": "fr"}
    options = [gw.sub_command_group("group", [gw.sub_command("link", [gw.option("name", "anti-rumours")])])]
    cmd = gw.slash_command("icc", options, command_guild_id=GUILD, **where)
    await gw.inject(client, "INTERACTION_CREATE", cmd, fake=fake)
    assert seen == [("anti-rumours", "en", "fr")]
    answer = fake.callback(cmd["id"])
    assert answer is not None and answer["type"] == 4 and answer["data"]["flags"] == 64
    assert fake.recorded("POST /interactions/*")[0].query == {"with_response": "1"}
    assert fake.messages(CHAN) == []  # ephemeral

    focus = [gw.sub_command_group("group", [gw.sub_command("link", [gw.option("name", "an", focused=True)])])]
    auto = gw.autocomplete("icc", focus, command_guild_id=GUILD, **where)
    await gw.inject(client, "INTERACTION_CREATE", auto, fake=fake)
    choices = fake.callback(auto["id"])
    assert choices == {**choices, "type": 8, "data": {"choices": [{"name": "anti-rumours", "value": "anti-rumours"}]}}

    open_modal = gw.slash_command("icc", [gw.sub_command("practice")], command_guild_id=GUILD, **where)
    await gw.inject(client, "INTERACTION_CREATE", open_modal, fake=fake)
    modal = fake.callback(open_modal["id"])
    assert modal is not None and modal["type"] == 9 and modal["data"]["custom_id"] == "practice-modal"
    submit = gw.modal_submit("practice-modal", {"title": "Anti-rumour café"}, **where)
    await gw.inject(client, "INTERACTION_CREATE", submit, fake=fake)
    assert seen[-1] == "Anti-rumour café"
    assert [m["content"] for m in fake.messages(CHAN)] == ["saved"]

    target = gw.message(CHAN, "hola a todos", author=ALICE, guild_id=GUILD)
    menu = gw.message_command("Translate", target, **where)
    await gw.inject(client, "INTERACTION_CREATE", menu, fake=fake)
    assert seen[-1] == "hola a todos"
    assert fake.callback(menu["id"]) == {**fake.callback(menu["id"]), "type": 5}  # type: ignore[dict-item]
    # The first follow-up after a defer becomes the deferred ("thinking") message.
    assert fake.originals[menu["token"]]["content"] == "[EN] hola a todos"
    assert fake.originals[menu["token"]]["flags"] == 64


async def test_interaction_in_dm_and_uncached_channel(fake: FakeDiscord, client: discord.Client) -> None:
    seen: list[Any] = []
    _tree(client, seen)
    dm = gw.slash_command("ping", guild_id=None, channel_id="2000000000000000777", user=ALICE)
    await gw.inject(client, "INTERACTION_CREATE", dm, fake=fake)
    uncached = gw.slash_command("ping", guild_id=GUILD, channel_id="2000000000000000888", user=ALICE)
    await gw.inject(client, "INTERACTION_CREATE", uncached, fake=fake)
    assert seen == [("ping", "DMChannel"), ("ping", "TextChannel")]
    assert [fake.callback(i["id"])["data"]["content"] for i in (dm, uncached)] == ["pong", "pong"]  # type: ignore[index]


async def test_button_click_reaches_persistent_view(fake: FakeDiscord, client: discord.Client) -> None:
    clicked: list[str] = []

    class Reminder(discord.ui.View):
        def __init__(self) -> None:
            super().__init__(timeout=None)

        @discord.ui.button(label="Done", custom_id="deadline:7:done")
        async def done(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
            clicked.append(button.custom_id or "")
            await interaction.response.edit_message(content="Done ✔", view=None)

    client.add_view(Reminder())
    shown = gw.message(CHAN, "Annual survey due", author=fake.bot_user, guild_id=GUILD)
    click = gw.button_click("deadline:7:done", shown, guild_id=GUILD, channel_id=CHAN, user=ALICE)
    await gw.inject(client, "INTERACTION_CREATE", click, fake=fake)
    assert clicked == ["deadline:7:done"]
    answer = fake.callback(click["id"])
    assert answer is not None and answer["type"] == 7 and answer["data"]["content"] == "Done ✔"


async def test_gateway_message_events(client: discord.Client) -> None:
    events: list[tuple[str, Any]] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        events.append(("create", message))

    @client.event
    async def on_message_edit(before: discord.Message, after: discord.Message) -> None:
        events.append(("edit", after.content))

    @client.event
    async def on_raw_message_delete(payload: discord.RawMessageDeleteEvent) -> None:
        events.append(("delete", payload.message_id))

    @client.event
    async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
        events.append(("reaction", str(payload.emoji)))

    msg = gw.message_create(CHAN, "hola", author=ALICE, guild_id=GUILD)
    await gw.inject(client, "MESSAGE_CREATE", msg)
    created = events[0][1]
    assert created.content == "hola" and created.channel.name == "anti-rumours"
    assert created.author.display_avatar.key == "abcdef" and isinstance(created.author, discord.Member)

    relay = gw.message_create(
        CHAN, "relayed", author=gw.webhook_author("77", "Bob (Oslo)"), guild_id=GUILD, webhook_id="77"
    )
    await gw.inject(client, "MESSAGE_CREATE", relay)
    assert events[1][1].webhook_id == 77 and events[1][1].author.bot

    await gw.inject(client, "MESSAGE_UPDATE", gw.message_update(msg, "hola!"))
    await gw.inject(client, "MESSAGE_REACTION_ADD", gw.reaction_add(CHAN, msg["id"], ALICE, "🇫🇷", guild_id=GUILD))
    await gw.inject(client, "MESSAGE_DELETE", gw.message_delete(CHAN, msg["id"], GUILD))
    assert events[2:] == [("edit", "hola!"), ("reaction", "🇫🇷"), ("delete", int(msg["id"]))]

    thread = gw.thread_channel("2000000000000000099", "talk", CHAN, GUILD)
    await gw.inject(client, "THREAD_CREATE", {**thread, "newly_created": True})
    await gw.inject(
        client, "MESSAGE_CREATE", gw.message_create(thread["id"], "in thread", author=ALICE, guild_id=GUILD)
    )
    assert isinstance(events[-1][1].channel, discord.Thread)
