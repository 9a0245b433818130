"""The relay as a newcomer sees it: `icc-bot console` with a script on stdin, with a DeepL-compatible
server (the fake, on loopback) and without a key."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.fake_deepl import FakeDeepL

SCRIPT = """\
@marie #rumeurs-fr Bonjour à tous ! Nous lançons une campagne contre les rumeurs avec les écoles de Lyon.
@marie #lyon Ce message reste ici : ce canal n'est relié à aucun groupe.
"""
ROOT = str(Path(__file__).resolve().parents[2])
FRENCH = "Bonjour à tous ! Nous lançons une campagne contre les rumeurs avec les écoles de Lyon."


async def console(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": ROOT, **env}
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bot", "console"], input=script,
                                   capture_output=True, text=True, timeout=120, env=environment)


def entries(output: str) -> list[str]:
    found: list[str] = []
    for line in output.splitlines():
        if line.startswith("    ") and found:
            found[-1] += "\n" + line[4:]
        else:
            found.append(line)
    return found


async def test_a_french_line_reaches_the_groups_other_channels_translated_and_nowhere_else(
        fake_deepl: FakeDeepL) -> None:
    result = await console(SCRIPT, DEEPL_AUTH_KEY="test-key:fx", DEEPL_SERVER_URL=fake_deepl.url)
    assert result.returncode == 0, result.stderr
    shown = sorted(entries(result.stdout))
    # The note is in each channel's own language.
    assert shown == sorted(f"[#{channel}] Marie Dubois: [{code}] {FRENCH}\n({note})\n│ {FRENCH}"
                           for channel, code, note in (
                               ("rumours-en", "EN-GB", "Translated from French"),
                               ("chutky-uk", "UK", "Перекладено з мови: французька"),
                               ("rumores-es", "ES", "Traducido del francés"),
                               ("dicerie-it", "IT", "Tradotto dall'originale in francese")))
    assert sorted(call.target_lang for call in fake_deepl.translate_calls) == ["EN-GB", "ES", "IT", "UK"]


async def test_without_a_key_the_line_goes_out_untranslated_with_the_note() -> None:
    result = await console(SCRIPT)
    assert result.returncode == 0, result.stderr
    shown = entries(result.stdout)
    assert len(shown) == 4
    english = next(entry for entry in shown if entry.startswith("[#rumours-en]"))
    assert english == (f"[#rumours-en] Marie Dubois: {FRENCH}\n(From a channel in French. Not translated: "
                       "translation is off (no DeepL key is configured).)")
    assert not any(entry.startswith(("[#lyon]", "[#rumeurs-fr]", "[#welcome", "[#med-")) for entry in shown)
