"""The relay end to end on Discord: the real relay engine, DeepL on its fake, the real discord.py
on the fake Discord, the console as a third platform. Two Discord servers share the
anti-rumours group with the console's channels."""

from __future__ import annotations

from typing import Any

from tests.fakes import discord_gateway as gw
from tests.fakes.fake_discord import FakeDiscord
from tests.platforms.discord.harness import ANA, GUILD, GUILD_B, IVO, RUMEURS, RUMOURS, DiscordHarness

WEBHOOK_EXECUTE = "POST /webhooks/{webhook_id}/{webhook_token}"


def relays(fake: FakeDiscord, channel: str | None = None) -> list[Any]:
    """Webhook executions of relays (interaction follow-ups left out), optionally into one channel."""
    found = [r for r in fake.recorded(WEBHOOK_EXECUTE) if r.path.split("/")[4] != fake.application_id]
    if channel is not None:
        hooks = {hook_id for hook_id, hook in fake.webhooks.items() if hook["channel_id"] == channel}
        found = [r for r in found if r.path.split("/")[4] in hooks]
    return found


async def test_a_message_reaches_the_other_server_through_its_webhook_as_its_author(network: DiscordHarness) -> None:
    fake = network.fake
    console = network.console_output
    sent = await network.say(RUMOURS, "Hello everyone, the anti-rumour café is on Monday @everyone")
    [copy] = relays(fake, RUMEURS)
    assert copy.body["username"] == "Ana Souza"
    assert copy.body["avatar_url"].startswith(f"https://cdn.discordapp.com/avatars/{ANA['id']}/a1")
    assert copy.body["allowed_mentions"] == {"parse": []}
    content = copy.body["content"]
    assert content.startswith("[FR] Hello everyone, the anti-rumour café is on Monday @\u200deveryone")
    assert "\n-# Traduit" in content and "||Hello everyone" in content  # the original, a click away
    [posted] = fake.messages(RUMEURS)
    assert fake.pings[posted["id"]]["everyone"] is False
    assert "[#rumeurs-fr] Ana Souza: [FR] Hello everyone" in console.getvalue()  # and the console's channels

    # Our own copy comes back through the gateway: it is not relayed again.
    echo = gw.message_create(RUMEURS, posted["content"], author=posted["author"], guild_id=GUILD_B,
                             webhook_id=posted["webhook_id"], message_id=posted["id"])
    before = len(relays(fake))
    await network.inject("MESSAGE_CREATE", echo)
    assert len(relays(fake)) == before

    # Edits and deletes follow the original.
    await network.inject("MESSAGE_UPDATE", gw.message_update(sent, "Hello everyone, the café is on Tuesday"))
    assert fake.message(RUMEURS, posted["id"])["content"].startswith(  # type: ignore[index]
        "[FR] Hello everyone, the café is on Tuesday")
    await network.inject("MESSAGE_DELETE", gw.message_delete(RUMOURS, sent["id"], GUILD))
    assert fake.messages(RUMEURS) == []


async def test_a_2500_character_translation_arrives_as_two_messages(network: DiscordHarness) -> None:
    sentence = "Les villes interculturelles accueillent chaque nouvel arrivant comme un voisin. "
    text = (sentence * 40)[:2495].strip()
    await network.console_says(f"@marie #rumeurs-fr {text}")
    parts = [r.body for r in relays(network.fake, RUMOURS)]
    assert len(parts) == 2
    assert all(len(part["content"]) <= 2000 for part in parts)
    assert all(part["username"] == "Marie Dubois" and part["allowed_mentions"] == {"parse": []} for part in parts)
    body = parts[0]["content"] + parts[1]["content"].split("\n-# ")[0]
    assert body.replace("\n", " ").split() == f"[EN-GB] {text}".split()  # all of it, split, not cut
    assert "-# Translated from French" in parts[1]["content"] and "-#" not in parts[0]["content"]


async def test_thread_replies_follow_into_a_thread_on_the_other_server(network: DiscordHarness) -> None:
    fake = network.fake
    root = await network.say(RUMOURS, "Who is coming to the café?")
    [root_copy] = fake.messages(RUMEURS)
    thread = gw.thread_channel(root["id"], "Who is coming", RUMOURS, GUILD, owner_id=IVO["id"])
    await network.inject("THREAD_CREATE", {**thread, "newly_created": True})
    await network.say(root["id"], "I am!", user=IVO)
    [reply] = relays(fake, RUMEURS)[1:]
    assert reply.query.get("thread_id") == root_copy["id"]  # a thread under the copy of the root
    assert [m["content"].split("\n")[0] for m in fake.messages(root_copy["id"])] == ["[FR] I am!"]


async def test_a_flag_reaction_answers_with_a_translation_under_the_message(network: DiscordHarness) -> None:
    fake = network.fake
    seeded = fake.seed_message(RUMOURS, "The survey closes on Friday", ANA)
    await network.inject("MESSAGE_REACTION_ADD", gw.reaction_add(RUMOURS, seeded["id"], IVO, "🇺🇦", guild_id=GUILD))
    [translation] = fake.messages(seeded["id"])  # a thread started from the message
    assert translation["content"].startswith("[UK] The survey closes on Friday")
    assert fake.pings[translation["id"]] == {"everyone": False, "users": [], "roles": []}


async def test_the_translate_menu_answers_only_the_asker_in_their_language(network: DiscordHarness) -> None:
    target = gw.message(RUMOURS, "The survey closes on Friday", author=ANA, guild_id=GUILD)
    menu = gw.message_command("Translate", target, guild_id=GUILD, channel_id=RUMOURS, user=IVO, locale="fr")
    await network.inject("INTERACTION_CREATE", menu)
    said = network.said(menu)
    assert said.startswith("[FR] The survey closes on Friday")
    assert network.answer(menu)["data"].get("flags") == 64 or network.fake.originals[menu["token"]]["flags"] == 64
