"""Discord markdown ⇄ neutral markup, reaction names, webhook names."""

from __future__ import annotations

from bot.platforms.discord.markup import Mentions, emoji_name, shortcode_to_unicode, spoiler, to_discord, to_neutral
from bot.platforms.discord.webhooks import safe_name


def test_mentions_and_custom_tokens_become_names() -> None:
    names = Mentions(users={111111111111111111: "Ana Souza"}, roles={222222222222222222: "Coordinators"},
                     channels={333333333333333333: "anti-rumours"})
    text = ("Hi <@111111111111111111> and <@!111111111111111111>, see <#333333333333333333> "
            "<@&222222222222222222> <:party_ccc:444444444444444444> <a:wave:555555555555555555> "
            "</icc help:666666666666666666> <t:1800000000:F> <https://example.org/x>")
    assert to_neutral(text, names) == (
        "Hi @Ana Souza and @Ana Souza, see #anti-rumours @Coordinators :party_ccc: :wave: /icc help "
        "2027-01-15 08:00 UTC https://example.org/x")


def test_unknown_mentions_are_looked_up_then_named_generically() -> None:
    names = Mentions(lookup_user=lambda user_id: "Ivo" if user_id == 777777777777777777 else None)
    assert to_neutral("<@777777777777777777> <@888888888888888888>", names) == "@Ivo @unknown-user"


def test_emphasis_headings_and_subtext_become_neutral_but_code_is_untouched() -> None:
    text = "*soft* **bold** ***both*** __under__ ~~gone~~\n# Title\n-# small print\n`*code*` ```\n# not a title\n```"
    assert to_neutral(text) == (
        "_soft_ **bold** **_both_** _under_ ~~gone~~\n**Title**\nsmall print\n`*code*` ```\n# not a title\n```")


def test_list_stars_and_arithmetic_are_not_emphasis() -> None:
    assert to_neutral("* one\n* two\n2 * 3 * 4") == "* one\n* two\n2 * 3 * 4"


def test_neutral_to_discord_cannot_form_headings_or_mass_pings() -> None:
    text = "# 1 priority\n-# tiny\n@everyone look @here, :tada: :flag-fr: :unknown: `@everyone`"
    converted = to_discord(text)
    assert converted.startswith("\\# 1 priority\n\\-# tiny\n")
    assert "@everyone look" not in converted and "@\u200deveryone look" in converted
    assert "@\u200dhere" in converted
    assert "🎉 🇫🇷 :unknown:" in converted
    assert converted.endswith("`@everyone`")  # code is shown as written


def test_neutral_markup_that_discord_shares_is_kept() -> None:
    text = "**bold** _it_ ~~s~~ > quote [ICC](https://coe.int/icc) #anti-rumours @Ana Souza"
    assert to_discord(text) == text


def test_reaction_names() -> None:
    assert emoji_name("🇫🇷") == "flag-fr"
    assert emoji_name("🇺🇦") == "flag-ua"
    assert emoji_name("👍") == "👍"
    assert emoji_name("", "party_ccc") == "party_ccc"
    assert shortcode_to_unicode("flag-de") == "🇩🇪"


def test_spoiler_cannot_be_closed_early() -> None:
    assert spoiler("a || b") == "||a |\u200b| b||"


def test_webhook_names_never_contain_clyde_or_discord_and_fit() -> None:
    for name in ("Clyde Barrow", "CLYDE", "my discord friend", "Bonnie & clyde"):
        cleaned = safe_name(name)
        assert "clyde" not in cleaned.lower() and "discord" not in cleaned.lower()
        assert len(cleaned) == len(name)
    assert safe_name("x" * 120) == "x" * 80
    assert safe_name("  ") == "ICC"
    assert safe_name("everyone") != "everyone"
