"""The catalogs: every shipped language complete, placeholders, markup and plurals intact."""

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from bot.deadlines.render import format_day
from bot.handlers.help import AREA_SUMMARIES
from bot.i18n import _, _n, available_locales, join_lines, normalize_language, render, resolve_locale
from bot.platforms.discord.commands import DESCRIPTION_LIMIT, ROOT_DESCRIPTION, TRANSLATE_MENU
from tests.harness import ConsoleHarness

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CODE = re.compile(r"`[^`]+`")
METAVARIABLE = re.compile(r"<[^<>`]+>")
# The languages the demo network's channels speak: each must ship a complete catalog.
SHIPPED = ("en", "fr", "es", "de", "it", "pt", "uk")
TRANSLATED = tuple(locale for locale in SHIPPED if locale != "en")
SEARCH_EXAMPLE = "`/icc practice search welcoming newcomers`"


def catalog(locale: str) -> Catalog:
    with (ROOT / "translations" / locale / "LC_MESSAGES" / "icc.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def ids_of(message: Message) -> tuple[str, ...]:
    return tuple(str(part) for part in (message.id if isinstance(message.id, tuple | list) else (message.id,)))


def strings_of(message: Message) -> tuple[str, ...]:
    string = message.string
    return tuple(part or "" for part in (string if isinstance(string, tuple | list) else (string,)))


def pairs(message: Message) -> list[tuple[str, str]]:
    """(English, translation) for each form; plural forms past the second compare with the plural."""
    ids = ids_of(message)
    return [(ids[min(index, len(ids) - 1)], string) for index, string in enumerate(strings_of(message))]


@pytest.fixture(scope="module")
def template() -> Catalog:
    """The messages the code has today (not the .pot on disk, which may lag behind)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import i18n as catalog_tool  # scripts/i18n.py
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return catalog_tool.extract()


def test_check_script_passes_and_every_shipped_language_has_a_catalog() -> None:
    """Fails when code has a message a catalog lacks (run `python scripts/i18n.py`, then translate)."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "i18n.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(SHIPPED) <= available_locales()


@pytest.mark.parametrize("locale", SHIPPED)
def test_catalog_translates_every_message_of_the_code(locale: str, template: Catalog) -> None:
    shipped = catalog(locale)
    lacking = []
    for message in template:
        if not message.id:
            continue
        found = shipped.get(message.id)
        if found is None or found.fuzzy or not all(strings_of(found)):
            lacking.append(message.id)
    assert lacking == []


@pytest.mark.parametrize("locale", sorted(available_locales()))
def test_translations_keep_every_placeholder(locale: str) -> None:
    mismatched = []
    for message in catalog(locale):
        if not message.id:
            continue
        wanted = set(PLACEHOLDER.findall(" ".join(ids_of(message))))
        for _english, string in pairs(message):
            found = set(PLACEHOLDER.findall(string))
            # `{count}` may be left out of a form that says the number in words ("once", "every month").
            if string and not (wanted - {"count"} <= found <= wanted | {"count"}):
                mismatched.append((message.id, string))
    assert mismatched == []


@pytest.mark.parametrize("locale", SHIPPED)
def test_plural_forms_match_the_language(locale: str) -> None:
    """Ukrainian has three forms (1, 2-4, 5+); a catalog must declare and fill as many as its language has."""
    shipped = catalog(locale)
    assert shipped.num_plurals == get_plural(locale).num_plurals
    for message in shipped:
        if message.id and isinstance(message.id, tuple):
            strings = strings_of(message)
            assert len(strings) == shipped.num_plurals and all(strings), message.id


@pytest.mark.parametrize("locale", TRANSLATED)
def test_commands_options_and_markup_stay_as_written(locale: str) -> None:
    """`/icc city register`, `at=`, `all` are typed by people: never translated. Only the <placeholders>
    inside a command may be (`<city>` → `<ville>`); bold, code and line breaks stay."""
    def shape(code: str) -> str:
        return METAVARIABLE.sub("<>", code)

    broken = []
    for message in catalog(locale):
        if not message.id:
            continue
        for english, string in pairs(message):
            if not string:
                continue
            kept = {shape(code) for code in CODE.findall(string)}
            lost = [code for code in CODE.findall(english) if shape(code) not in kept]
            if SEARCH_EXAMPLE in lost and any(code.startswith("`/icc practice search ") for code in kept):
                lost.remove(SEARCH_EXAMPLE)  # words to look for: given in the reader's language
            if (lost or english.count("**") != string.count("**") or english.count("`") != string.count("`")
                    or english.count("\n") != string.count("\n")):
                broken.append((english, string))
    assert broken == []


# Strings that are the same words in a language; anything else identical to its English msgid is a
# catalog that copied English instead of translating it.
SAME_AS_ENGLISH: dict[str, set[str]] = {
    "fr": {"{city} ({country})", "{count} destination", "{count} destinations", "Description", "Contact"},
    "es": {"regional"},
    "de": {"regional", "Link", "Link: {link}"},
    "it": {"Link", "Link: {link}"},
    "pt": {"regional"},
    "uk": set(),
}


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translations_are_not_english_copied_over(locale: str) -> None:
    copied = []
    for message in catalog(locale):
        if not message.id:
            continue
        for english, string in pairs(message):
            if english in SAME_AS_ENGLISH[locale]:
                continue
            # Only text with words to translate: `{city} ({country})` or `2027-01-12T09:00` have none.
            words = re.findall(r"[A-Za-z]{3,}", PLACEHOLDER.sub("", CODE.sub("", english)))
            if words and string == english:
                copied.append(english)
    assert copied == []


def test_messages_render_in_the_readers_language() -> None:
    message = _("Only the ICC team can do that.")
    assert render(message, "en") == "Only the ICC team can do that."
    assert render(message, "fr") == "Seule l'équipe ICC peut faire cela."
    assert render(message, "es") == "Solo el equipo ICC puede hacer eso."
    assert render(message, "de") == "Das kann nur das ICC-Team."
    assert render(message, "it") == "Solo il team ICC può farlo."
    assert render(message, "pt") == "Só a equipa ICC pode fazer isso."
    assert render(message, "uk") == "Це може зробити лише команда ICC."
    assert render(message, "xx") == "Only the ICC team can do that."


def test_plurals_and_nested_messages() -> None:
    assert render(_n("{count} city", "{count} cities", 1), "fr") == "1 ville"
    assert render(_n("{count} city", "{count} cities", 3), "fr") == "3 villes"
    assert render(_n("{count} city", "{count} cities", 0), "de") == "0 Städte"
    assert render(_n("{count} city", "{count} cities", 1), "es") == "1 ciudad"
    nested = _("Groups: {names}", names=_("none yet"))
    assert render(nested, "fr") == "Groupes : aucun pour l'instant"
    assert render(nested, "it") == "Gruppi: ancora nessuno"
    joined = join_lines([_("Groups:"), "plain {braces} stay"])
    assert render(joined, "fr") == "Groupes :\nplain {braces} stay"


@pytest.mark.parametrize(("count", "expected"), [(1, "1 місто"), (3, "3 міста"), (5, "5 міст"), (11, "11 міст"),
                                                 (21, "21 місто"), (24, "24 міста"), (0, "0 міст")])
def test_ukrainian_has_three_plural_forms(count: int, expected: str) -> None:
    assert render(_n("{count} city", "{count} cities", count), "uk") == expected


def test_locale_chain_person_then_platform_then_channel_then_english() -> None:
    assert resolve_locale(["fr", "en-GB", "en"]) == "fr"
    assert resolve_locale([None, "fr-CA", "en"]) == "fr"
    assert resolve_locale([None, None, "fr"]) == "fr"
    assert resolve_locale(["uk", None, "fr"]) == "uk"
    assert resolve_locale(["pl", None, "fr"]) == "fr"  # no Polish catalog: next candidate
    assert resolve_locale([None, None, None]) == "en"


@pytest.mark.parametrize(("platform_locale", "expected"), [
    ("es-ES", "es"), ("es-419", "es"), ("pt-BR", "pt"), ("pt_PT", "pt"), ("de-AT", "de"), ("it", "it"),
    ("uk", "uk"), ("uk-UA", "uk")])
def test_platform_locales_reach_their_catalog(platform_locale: str, expected: str) -> None:
    """Discord and Slack name locales `es-ES`, `pt-BR`, `uk`…: each finds the language's catalog."""
    assert resolve_locale([None, platform_locale]) == expected


@pytest.mark.parametrize(("code", "expected"), [("fr-FR", "fr"), ("pt_BR", "pt"), ("EN", "en"),
                                                ("", None), ("not a code", None)])
def test_normalize_language(code: str, expected: str | None) -> None:
    assert normalize_language(code) == expected


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", "Friday, 22 January 2027"), ("fr", "vendredi 22 janvier 2027"),
    ("es", "viernes, 22 de enero de 2027"), ("de", "Freitag, 22. Januar 2027"),
    ("it", "venerdì 22 gennaio 2027"), ("pt", "sexta-feira, 22 de janeiro de 2027"),
    ("uk", "пʼятниця, 22 січня 2027\u202fр.")])
def test_dates_read_the_readers_way(locale: str, expected: str) -> None:
    assert format_day(date(2027, 1, 22), locale) == expected


async def test_command_descriptions_fit_discord_in_every_language(sqlite_console: ConsoleHarness) -> None:
    """Discord cuts descriptions at 100 characters: a translation must not lose its end where English fits."""
    registry = sqlite_console.bot.commands
    texts = [ROOT_DESCRIPTION, *AREA_SUMMARIES.values()]
    for area in registry.areas():
        for spec in registry.in_area(area):
            texts += [spec.summary, *(param.help for param in spec.params)]
    too_long = [(locale, render(text, locale)) for text in texts for locale in TRANSLATED
                if len(render(text, "en")) <= DESCRIPTION_LIMIT < len(" ".join(render(text, locale).split()))]
    assert too_long == []
    assert all(len(render(TRANSLATE_MENU, locale)) <= 32 for locale in TRANSLATED)  # a menu name
