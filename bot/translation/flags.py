"""Flag emoji → the language a reaction asks for.

Reactions arrive as a neutral name (`flag-fr` from Slack, `flag_fr` from Discord's names, Slack's
older `fr`/`gb`/`us`… short names) or as the Unicode flag itself (🇫🇷, two regional indicators).
Countries with one clear language map to it; countries with several (Belgium, Switzerland,
Canada…) are left out rather than guessed.
"""

from __future__ import annotations

import re

COUNTRY_LANGUAGE: dict[str, str] = {
    # English and Portuguese variants DeepL distinguishes
    "gb": "en-GB", "uk": "en-GB", "ie": "en-GB", "au": "en-GB", "nz": "en-GB", "us": "en-US",
    "pt": "pt-PT", "ao": "pt-PT", "mz": "pt-PT", "br": "pt-BR",
    "fr": "fr", "mc": "fr", "sn": "fr", "de": "de", "at": "de", "li": "de",
    "es": "es", "mx": "es", "ar": "es", "co": "es", "cl": "es", "pe": "es",
    "it": "it", "sm": "it", "ua": "uk", "pl": "pl", "nl": "nl", "gr": "el", "tr": "tr",
    "no": "nb", "se": "sv", "dk": "da", "fi": "fi", "ee": "et", "lv": "lv", "lt": "lt",
    "cz": "cs", "sk": "sk", "si": "sl", "hu": "hu", "ro": "ro", "md": "ro", "bg": "bg",
    "ru": "ru", "jp": "ja", "kr": "ko", "cn": "zh", "tw": "zh-Hant", "id": "id",
    "sa": "ar", "eg": "ar", "jo": "ar", "ae": "ar",
    "hr": "hr", "rs": "sr", "mt": "mt", "is": "is", "fo": "fo", "al": "sq", "mk": "mk", "il": "he",
}  # fmt: skip
# Slack's short names for some flags (`:fr:` is the French flag there).
SLACK_SHORT_NAMES = {"fr", "gb", "uk", "us", "de", "es", "it", "jp", "kr", "cn", "ru"}
_ENGLAND = "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"
_REGIONAL_A = 0x1F1E6


def flag_language(emoji: str) -> str | None:
    """The bot's language code for a flag reaction (`flag-fr`, `🇫🇷`, `:flag_gb:`), or None."""
    name = emoji.strip().strip(":").lower()
    if name in ("england", "flag-england", _ENGLAND):
        return "en-GB"
    country = _country(name)
    return COUNTRY_LANGUAGE.get(country) if country else None


def _country(name: str) -> str | None:
    match = re.fullmatch(r"flag[-_]([a-z]{2})", name)
    if match:
        return match.group(1)
    if name in SLACK_SHORT_NAMES:
        return name
    indicators = [ord(char) - _REGIONAL_A for char in name if char != "\ufe0f"]
    if len(indicators) == 2 and all(0 <= value < 26 for value in indicators):
        return "".join(chr(ord("a") + value) for value in indicators)
    return None
