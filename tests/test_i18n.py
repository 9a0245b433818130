"""The catalogs: complete for English and French, placeholders intact in every language."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import _, _n, available_locales, join_lines, normalize_language, render, resolve_locale

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_english_and_french_catalogs_are_complete() -> None:
    """Fails when code has a message a catalog lacks (run `python scripts/i18n.py`, then translate)."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "i18n.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {"en", "fr"} <= available_locales()


@pytest.mark.parametrize("locale", sorted(available_locales()))
def test_translations_keep_every_placeholder(locale: str) -> None:
    path = ROOT / "translations" / locale / "LC_MESSAGES" / "icc.po"
    catalog = read_po(path.open("rb"), locale=locale)
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(" ".join(ids)))
        for string in strings:
            if string:
                assert set(PLACEHOLDER.findall(string)) <= wanted | {"count"}, (message.id, string)
                assert set(PLACEHOLDER.findall(string)) >= wanted - {"count"}, (message.id, string)


def test_messages_render_in_the_readers_language() -> None:
    message = _("Only the ICC team can do that.")
    assert render(message, "en") == "Only the ICC team can do that."
    assert render(message, "fr") == "Seule l'équipe ICC peut faire cela."
    assert render(message, "xx") == "Only the ICC team can do that."


def test_plurals_and_nested_messages() -> None:
    assert render(_n("{count} city", "{count} cities", 1), "fr") == "1 ville"
    assert render(_n("{count} city", "{count} cities", 3), "fr") == "3 villes"
    nested = _("Groups: {names}", names=_("none yet"))
    assert render(nested, "fr") == "Groupes : aucun pour l'instant"
    joined = join_lines([_("Groups:"), "plain {braces} stay"])
    assert render(joined, "fr") == "Groupes :\nplain {braces} stay"


def test_locale_chain_person_then_platform_then_channel_then_english() -> None:
    assert resolve_locale(["fr", "en-GB", "en"]) == "fr"
    assert resolve_locale([None, "fr-CA", "en"]) == "fr"
    assert resolve_locale([None, None, "fr"]) == "fr"
    assert resolve_locale(["uk", None, "fr"]) == "fr"  # no Ukrainian catalog: next candidate
    assert resolve_locale([None, None, None]) == "en"


@pytest.mark.parametrize(("code", "expected"), [("fr-FR", "fr"), ("pt_BR", "pt"), ("EN", "en"),
                                                ("", None), ("not a code", None)])
def test_normalize_language(code: str, expected: str | None) -> None:
    assert normalize_language(code) == expected


# Words that stay the same in French; anything else identical to its English msgid is a
# catalog that copied English instead of translating it.
SAME_IN_FRENCH = {"{city} ({country})"}


def test_french_is_not_english_copied_over() -> None:
    path = ROOT / "translations" / "fr" / "LC_MESSAGES" / "icc.po"
    catalog = read_po(path.open("rb"), locale="fr")
    copied = []
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not message.id or ids[0] in SAME_IN_FRENCH:
            continue
        words = re.findall(r"[A-Za-z]{3,}", PLACEHOLDER.sub("", re.sub(r"`[^`]*`", "", ids[0])))
        if len(words) >= 2 and strings[0] == ids[0]:
            copied.append(ids[0])
    assert copied == []
