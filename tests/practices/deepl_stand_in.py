"""A small Translator over the real `deepl` client, for these tests until the relay branch's
DeepL-backed Translator lands (then the fixture in conftest.py switches to it; nothing else
changes). It does what the interface promises and no more: one request per call, the bot's
language codes mapped to DeepL's, DeepL's faults turned into `not_translated` reasons."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import deepl

from bot.translation import NotTranslated, Translation

_VARIANTS = {"EN": "EN-GB", "PT": "PT-PT", "ZH": "ZH-HANS"}


def deepl_target(code: str) -> str:
    upper = code.upper()
    return _VARIANTS.get(upper, upper)


class DeepLStandIn:
    enabled = True

    def __init__(self, client: deepl.Translator) -> None:
        self.client = client
        self.calls = 0

    async def translate(self, texts: Sequence[str], target: str, *, source: str | None = None,
                        formality: str | None = None, fallback: str | None = None) -> list[Translation]:
        self.calls += 1
        try:
            results = await asyncio.to_thread(self.client.translate_text, list(texts),
                                              target_lang=deepl_target(target),
                                              source_lang=source.split("-")[0].upper() if source else None)
        except deepl.QuotaExceededException:
            return [Translation(text, source, target, NotTranslated.QUOTA) for text in texts]
        except deepl.DeepLException:
            return [Translation(text, source, target, NotTranslated.UNAVAILABLE) for text in texts]
        answers = results if isinstance(results, list) else [results]
        out = []
        for text, answer in zip(texts, answers, strict=True):
            detected = answer.detected_source_lang.lower()
            if detected.split("-")[0] == target.split("-")[0].lower():
                out.append(Translation(text, detected, target, NotTranslated.SAME_LANGUAGE))
            else:
                out.append(Translation(answer.text, detected, target))
        return out

    async def detect(self, text: str) -> str | None:
        return None
