"""The bot's language codes (`fr`, `en`, `pt-BR`, `zh-Hant`) as DeepL spells them, and back.

DeepL wants a variant for some targets: this European network reads British English and European
Portuguese unless a channel says otherwise (`en-US`, `pt-BR`). Sources never carry a variant.
What DeepL offers comes from `get_target_languages()`, asked once per process.
"""

from __future__ import annotations

from collections.abc import Collection

DEFAULT_VARIANT = {"EN": "EN-GB", "PT": "PT-PT", "ZH": "ZH-HANS"}
# Codes the bot accepts that DeepL knows under another name.
ALIASES = {"NO": "NB"}


def deepl_target(language: str, offered: Collection[str]) -> str | None:
    """`en` → `EN-GB`, `pt-BR` → `PT-BR`, `fr-CA` → `FR`; None when DeepL offers nothing close."""
    code = language.strip().upper().replace("_", "-")
    base = code.split("-", 1)[0]
    base = ALIASES.get(base, base)
    variant = f"{base}-{code.split('-', 1)[1]}" if "-" in code else None
    for candidate in (variant, DEFAULT_VARIANT.get(base), base):
        if candidate and candidate in offered:
            return candidate
    return None


def deepl_source(language: str, offered: Collection[str] | None = None) -> str | None:
    """`pt-BR` → `PT`; None when DeepL cannot translate from it (when `offered` is known)."""
    base = language.strip().upper().replace("_", "-").split("-", 1)[0]
    base = ALIASES.get(base, base)
    if offered is not None and base not in offered:
        return None
    return base or None


def bot_language(deepl_code: str) -> str:
    """DeepL's detected source (`FR`, `NB`, `ZH`) as the bot writes it (`fr`, `nb`, `zh`)."""
    return deepl_code.strip().split("-", 1)[0].lower()


def same_language(a: str, b: str) -> bool:
    """Whether two codes name one language, variants aside (`en-GB` and `en`, `nb` and `no`)."""
    def base(code: str) -> str:
        head = code.strip().upper().replace("_", "-").split("-", 1)[0]
        return ALIASES.get(head, head)

    return base(a) == base(b)
