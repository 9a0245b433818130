"""The local language detector on short chat lines: memory, speed, and how far to trust it.

Loads the detector the bot uses (py3langid on the network's languages, `bot.translation.detection`)
and runs it on the chat lines of `tests/translation/data/chat_lines.tsv` (20 short lines in each of
14 of the network's languages). What matters for skipping a destination is *precision* at the
confidence threshold (a wrong skip leaves a channel with text it cannot read) and *coverage* (the
share of lines confident enough to skip for free). It also shows why the candidate set is the
network's languages and not only the languages of the channels in use: restricted to the demo's
seven, lines in other languages are confidently taken for one of them (Russian for Ukrainian).

    .venv/bin/python benchmarks/detection.py [--library py3langid|lingua-low|lingua-high]

lingua-* need `pip install lingua-language-detector` (not a dependency; for comparison only).
Exits 1 when, for the bot's detector, precision at the threshold is under 99 %, coverage under
70 %, a guess takes over 2 ms, or loading costs more than 150 MB.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.languages import KNOWN
from bot.translation.detection import CONFIDENCE, LanguageDetector

LINES = Path(__file__).resolve().parent.parent / "tests" / "translation" / "data" / "chat_lines.tsv"
IN_USE = frozenset({"en", "fr", "es", "uk", "it", "de", "pt"})  # the console demo's channels
Detect = Callable[[str], tuple[str, float] | None]


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def read_lines() -> list[tuple[str, str]]:
    rows = []
    for line in LINES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            language, text = line.split("\t", 1)
            rows.append((language, text))
    return rows


def py3langid(languages: frozenset[str]) -> Detect:
    detector = LanguageDetector(languages)
    detector.load()

    def detect(text: str) -> tuple[str, float] | None:
        guess = detector.guess(text)
        return (guess.language, guess.confidence) if guess else None

    return detect


def lingua(languages: frozenset[str], *, low_accuracy: bool) -> Detect:
    from lingua import IsoCode639_1, LanguageDetectorBuilder  # type: ignore[import-not-found]

    codes = [getattr(IsoCode639_1, code.upper()) for code in sorted(languages) if hasattr(IsoCode639_1, code.upper())]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    model = builder.with_preloaded_language_models().build()

    def detect(text: str) -> tuple[str, float] | None:
        values = model.compute_language_confidence_values(text)
        return (values[0].language.iso_code_639_1.name.lower(), values[0].value) if values else None

    return detect


def build(library: str, languages: frozenset[str]) -> Detect:
    if library == "py3langid":
        return py3langid(languages)
    return lingua(languages, low_accuracy=library == "lingua-low")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--library", choices=("py3langid", "lingua-low", "lingua-high"), default="py3langid")
    args = parser.parse_args()
    rows = read_lines()
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    detect = build(args.library, KNOWN)
    detect("warm up the model")
    load_seconds = time.perf_counter() - started
    gc.collect()
    memory = rss_mb() - before

    started = time.perf_counter()
    guesses = [(language, detect(text)) for language, text in rows]
    per_line_ms = (time.perf_counter() - started) / len(rows) * 1000
    top1 = sum(1 for language, guess in guesses if guess and guess[0] == language) / len(rows)
    confident = [(language, guess) for language, guess in guesses if guess and guess[1] >= CONFIDENCE]
    coverage = len(confident) / len(rows)
    precision = sum(1 for language, guess in confident if guess[0] == language) / max(len(confident), 1)
    wrong = [(language, guess[0], round(guess[1], 2)) for language, guess in confident if guess[0] != language]

    restricted = build(args.library, IN_USE)
    outsiders = [(language, restricted(text)) for language, text in rows if language not in IN_USE]
    fooled = [language for language, guess in outsiders if guess and guess[1] >= CONFIDENCE]

    print(f"detector: {args.library} on {len(KNOWN)} candidate languages; {len(rows)} chat lines in "
          f"{len({language for language, _ in rows})} languages")
    print(f"memory: +{memory:.0f} MB resident after loading ({load_seconds:.2f} s to load)")
    print(f"speed: {per_line_ms * 1000:.0f} µs per line")
    print(f"top-1 accuracy: {top1:.1%}")
    print(f"at confidence >= {CONFIDENCE}: coverage {coverage:.1%}, precision {precision:.1%}"
          + (f", wrong: {wrong}" if wrong else ""))
    print(f"restricted to the {len(IN_USE)} languages in use instead: {len(fooled)} of {len(outsiders)} lines in "
          f"other languages confidently misdetected")
    if args.library != "py3langid":
        return 0
    failures = []
    if precision < 0.99:
        failures.append(f"precision {precision:.1%} < 99%")
    if coverage < 0.70:
        failures.append(f"coverage {coverage:.1%} < 70%")
    if per_line_ms > 2:
        failures.append(f"{per_line_ms:.2f} ms per line > 2 ms")
    if memory > 150:
        failures.append(f"{memory:.0f} MB > 150 MB")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
