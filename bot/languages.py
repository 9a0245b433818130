"""Languages people and channels may use, and their names in the reader's language (Babel)."""

from __future__ import annotations

import re

from babel import Locale, UnknownLocaleError

# The network's languages (see bot/data/icc_cities.csv) and Europe's others. DeepL may not offer
# all of them: a channel in such a language names a fallback.
KNOWN: frozenset[str] = frozenset(
    "ar bg ca cs cy da de el en es et eu fi fo fr ga gl he hr hu id is it ja ko lt lv mk mt nb nl "
    "nn no pl pt ro ru sk sl sq sr sv tr uk zh".split())

_CODE = re.compile(r"^([a-z]{2})(?:[-_]([a-z]{2}|hans|hant))?$", re.IGNORECASE)


def parse_language(text: str) -> str | None:
    """`fr`, `FR`, `pt-BR`, `en_gb` → `fr`, `fr`, `pt-BR`, `en-GB`; anything else → None."""
    match = _CODE.match(text.strip())
    if not match or match.group(1).lower() not in KNOWN:
        return None
    base, region = match.group(1).lower(), match.group(2)
    return f"{base}-{region.upper()}" if region else base


def base_language(code: str) -> str:
    return code.split("-", 1)[0].lower()


def language_name(code: str, locale: str) -> str:
    """`uk` in French → `ukrainien`; unknown → the code itself."""
    try:
        names = Locale.parse(locale).languages
    except (UnknownLocaleError, ValueError):
        names = Locale("en").languages
    base = base_language(code)
    name = names.get(code.replace("-", "_")) or names.get(base)
    return f"{name} ({code})" if name else code
