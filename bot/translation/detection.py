"""A local guess at a message's language, so a destination already in that language costs nothing.

py3langid (a naive Bayes model on byte n-grams), restricted to the network's languages
(`bot.languages.KNOWN`). Measured on 280 short chat lines in 14 of the network's languages
(`.venv/bin/python benchmarks/detection.py`): +72 MB resident, ~0.16 ms a line, top-1 accuracy
98 %, and no wrong answer at or above the confidence threshold used here, which 84 % of lines
reach. lingua-language-detector on the same lines: high-accuracy mode +966 MB and 2.5 ms a line;
low-accuracy mode +59 MB but 3 % of its confident answers wrong (Spanish taken for Estonian with
confidence 1.0).

The candidate set is deliberately wider than the languages of the channels in use: restricted to
those, a Russian line is "Ukrainian" with confidence 1.0 and the Ukrainian channels would get it
untranslated.

The model loads once per process (about a second), from a worker thread; a guess is cheap enough
to make on the event loop (the text is capped).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from bot.languages import KNOWN, base_language

CONFIDENCE = 0.8
"""Probability from which a guess counts as confident (no error at >= 0.7 in our measurements)."""
MAX_CHARACTERS = 600
"""Enough to tell a language; keeps each guess well under a millisecond."""
MIN_LETTERS = 4
"""Fewer letters than this say nothing reliable ("ok", "👍 +1")."""

# py3langid's codes where they differ from the bot's.
_TO_MODEL = {"nb": "no"}
_FROM_MODEL = {"no": "nb"}


@dataclass(frozen=True)
class Guess:
    language: str
    confidence: float

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENCE


class LanguageDetector:
    """Thread-safe to load; `guess` is pure computation on a loaded model."""

    def __init__(self, languages: frozenset[str] = KNOWN) -> None:
        self.languages = languages
        self._identifier: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._identifier is not None

    def load(self) -> None:
        """Load the model (blocking, ~1 s): call from a worker thread."""
        with self._lock:
            if self._identifier is not None:
                return
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            wanted = sorted({_TO_MODEL.get(code, code) for code in self.languages} & set(full.nb_classes))
            full.set_languages(wanted)
            # A fresh identifier on the restricted tables lets the full matrix be freed.
            self._identifier = LanguageIdentifier(full.nb_ptc, full.nb_pc, full.nb_classes, full.tk_nextmove,
                                                  full.tk_output, norm_probs=True, tk_row=full.tk_row)

    def guess(self, text: str) -> Guess | None:
        """The most likely language with its probability, or None when the text has too few letters."""
        if self._identifier is None:
            self.load()
        sample = text[:MAX_CHARACTERS]
        if sum(char.isalpha() for char in sample) < MIN_LETTERS:
            return None
        language, probability = self._identifier.classify(sample)
        if not isinstance(probability, float) or math.isnan(probability):
            return None
        return Guess(_FROM_MODEL.get(language, language), probability)

    def confident(self, text: str) -> str | None:
        guess = self.guess(text)
        return guess.language if guess is not None and guess.confident else None

    def agrees(self, text: str, language: str) -> bool | None:
        """True when the text is confidently in `language`, False when confidently in another one,
        None when the guess is not confident."""
        guess = self.guess(text)
        if guess is None or not guess.confident:
            return None
        return base_language(guess.language) == base_language(language)


_shared: LanguageDetector | None = None
_shared_lock = threading.Lock()


def shared_detector() -> LanguageDetector:
    """The process's detector (the model is loaded once, whatever the number of bots or tests)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LanguageDetector()
        return _shared
