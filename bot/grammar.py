"""The one command grammar: `/icc <area> <verb> [args]`, quoted strings, `key=value` options.

Every platform hands the text after `/icc` to `tokenize`; the command registry binds the words
to a command's parameters. Quotes may be straight or typographic, because Slack and phones turn
"…" into “…” as people type.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import Message, _

_OPENING_TO_CLOSING = {'"': '"', "'": "'", "“": "”", "„": "“", "«": "»", "‘": "’", "”": "”"}


@dataclass(frozen=True)
class Token:
    """One word of a command. `key` is set for `key=value`; `start` indexes the raw text."""

    value: str
    start: int
    key: str | None = None
    quoted: bool = False


class GrammarError(Exception):
    def __init__(self, message: Message) -> None:
        super().__init__(message.msgid)
        self.message = message


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    index, length = 0, len(text)
    while index < length:
        if text[index].isspace():
            index += 1
            continue
        start = index
        word: list[str] = []
        key: str | None = None
        quoted = False
        while index < length and not text[index].isspace():
            char = text[index]
            if char == "=" and key is None and not quoted and word and _is_key("".join(word)):
                key = "".join(word).lower()
                word = []
                index += 1
                continue
            closing = _OPENING_TO_CLOSING.get(char)
            # An apostrophe inside a word (l'école, don't) is text, not a quote.
            if closing and not (char in "'’" and word):
                end = _find_closing(text, index + 1, closing, char)
                if end < 0:
                    raise GrammarError(_("A quote is not closed: {fragment}", fragment=text[start:][:40]))
                word.append(text[index + 1:end])
                quoted = True
                index = end + 1
                continue
            word.append(char)
            index += 1
        tokens.append(Token("".join(word), start, key, quoted))
    return tokens


def _is_key(word: str) -> bool:
    return word.replace("-", "").replace("_", "").isalnum() and word[0].isalpha() and len(word) <= 20


def _find_closing(text: str, start: int, closing: str, opening: str) -> int:
    candidates = {closing}
    if opening in "“”„":
        candidates |= {"”", "“"}
    for position in range(start, len(text)):
        if text[position] in candidates:
            return position
    return -1
