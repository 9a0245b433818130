"""The ICC glossary: the programme's own terms, the same in every language (`bot/data/glossary.csv`).

One row per term, one column per language (a blank cell: no fixed translation). DeepL glossaries
are per language pair and need the source language, so a pair's entries are those rows with both
cells filled, and they are only used when the source of a text is known. The version of a pair is
a hash of its entries: the translation cache keys on it, so editing the file never serves a
translation made with old terms, and the DeepL glossary is made again.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from bot.translation.codes import bot_language


@dataclass(frozen=True)
class GlossaryPair:
    source: str
    """DeepL's source code, e.g. `FR`."""
    target: str
    """DeepL's glossary target: the base language, e.g. `EN` (glossaries have no variants)."""
    entries: tuple[tuple[str, str], ...]

    @cached_property
    def version(self) -> str:
        digest = hashlib.sha256()
        for source_term, target_term in self.entries:
            digest.update(f"{source_term}\t{target_term}\n".encode())
        return digest.hexdigest()

    def as_dict(self) -> dict[str, str]:
        return dict(self.entries)

    @cached_property
    def _terms(self) -> tuple[str, ...]:
        return tuple(source_term.casefold() for source_term, _target in self.entries)

    def applies_to(self, text: str) -> bool:
        """Whether a source term occurs in `text`: only then can the glossary change a translation
        (so only then does the cache tell the translations with and without it apart)."""
        folded = text.casefold()
        return any(term in folded for term in self._terms)


class Glossary:
    def __init__(self, rows: list[dict[str, str]]) -> None:
        self._rows = rows
        self._pairs: dict[tuple[str, str], GlossaryPair | None] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> Glossary:
        if path is not None:
            text = path.read_text(encoding="utf-8")
        else:
            text = (resources.files("bot") / "data" / "glossary.csv").read_text(encoding="utf-8")
        reader = csv.DictReader(io.StringIO(text))
        rows = [{bot_language(key): (value or "").strip() for key, value in row.items() if key} for row in reader]
        return cls(rows)

    @property
    def languages(self) -> set[str]:
        return {language for row in self._rows for language in row}

    def pair(self, source: str, target: str) -> GlossaryPair | None:
        """Entries from DeepL source `source` to DeepL target `target` (variants ignored), or None."""
        source_language, target_language = bot_language(source), bot_language(target)
        marker = (source_language, target_language)
        if marker not in self._pairs:
            self._pairs[marker] = self._make_pair(source_language, target_language)
        return self._pairs[marker]

    def _make_pair(self, source_language: str, target_language: str) -> GlossaryPair | None:
        if source_language == target_language:
            return None
        seen: set[str] = set()
        entries = []
        for row in self._rows:
            source_term, target_term = row.get(source_language, ""), row.get(target_language, "")
            # DeepL refuses duplicate source terms and terms with tabs or line breaks.
            if source_term and target_term and source_term not in seen and not any(
                    char in source_term + target_term for char in "\t\r\n"):
                seen.add(source_term)
                entries.append((source_term, target_term))
        if not entries:
            return None
        return GlossaryPair(source_language.upper(), target_language.upper(), tuple(entries))
