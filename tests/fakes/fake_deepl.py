"""Fake DeepL API for the real ``deepl`` 1.32 client (``deepl.Translator``/``DeepLClient``).

How the client talks (from ``deepl/translator.py`` and ``http_client.py``):
- ``Translator(key, server_url=fake.url)`` sends ``Authorization: DeepL-Auth-Key <key>``.
- ``translate_text`` POSTs a JSON body to ``/v2/translate``: ``text`` is always a list, plus
  ``target_lang``, ``source_lang``, ``formality``, ``glossary_id``, ``tag_handling``,
  ``ignore_tags`` (a list) and always ``show_billed_characters: true``.
- ``get_target_languages`` is a GET whose ``type=target`` travels in a *form body*.
- Glossaries: ``Translator`` uses ``/v2/glossaries`` (+ ``/entries``,
  ``/v2/glossary-language-pairs``); ``DeepLClient``'s multilingual ones use ``/v3/glossaries``.
- The client is synchronous (``requests``): from async tests call it through
  ``asyncio.to_thread``, or run the fake with ``fake.serve_in_thread()`` in sync code.
- It retries 429 and every 5xx (and timeouts) itself, up to ``max_network_retries`` (5)
  with exponential backoff starting at 1 s, and its per-request timeout is at least
  ``min_connection_timeout`` (10 s). Fault tests must lower all three, e.g. with
  ``fast_deepl_client(monkeypatch, retries=0, timeout=0.5)`` below.

The "translation" is deterministic and recognisable: ``"[FR] " + text`` for target FR
(``[EN-GB] `` for EN-GB...). Only a prefix is added, so XML tags, ``ignore_tags`` content,
mentions and links stay intact; glossary entries are substituted word-for-word. Text whose
source language equals the target's comes back unchanged, and is still billed.

Lexicon mode (opt-in, for tests that need translation to really map words, such as search
across languages): ``fake.use_lexicon({("FR", "EN"): {"accueil": "welcome", ...}, ...})``.
For a language pair with a lexicon (base codes: ``EN-GB`` uses the ``EN`` entries), each word
found in it is replaced, keeping a leading capital, and every other character (unknown words,
punctuation, XML tags and what they hold as attributes) is left as it is; no ``[XX]`` prefix is
added. Pairs without a lexicon keep the prefix transform. The lexicon's source words also
count for detection, so a text made of Italian lexicon words is detected as ``IT``. It is a
word list, not a translator: grammar and word order are not touched, and only the words a test
lists are "translated".

Standalone, for a manual console demo (Ctrl-C stops it)::

    python -m tests.fakes.fake_deepl --port 8090
    DEEPL_AUTH_KEY=test-key:fx DEEPL_SERVER_URL=http://127.0.0.1:8090 icc-bot console
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import deepl.http_client as http_client
from aiohttp import web

from tests.fakes._server import FakeServer, Fault, Recorded, json_bytes, json_response, raw_response, record_of

if TYPE_CHECKING:  # the fake also runs on its own (README), where the test tools need not be installed
    import pytest

SOURCE_LANGUAGES = {
    "AR": "Arabic", "BG": "Bulgarian", "CS": "Czech", "DA": "Danish", "DE": "German", "EL": "Greek",
    "EN": "English", "ES": "Spanish", "ET": "Estonian", "FI": "Finnish", "FR": "French", "HU": "Hungarian",
    "ID": "Indonesian", "IT": "Italian", "JA": "Japanese", "KO": "Korean", "LT": "Lithuanian",
    "LV": "Latvian", "NB": "Norwegian Bokmål", "NL": "Dutch", "PL": "Polish", "PT": "Portuguese",
    "RO": "Romanian", "RU": "Russian", "SK": "Slovak", "SL": "Slovenian", "SV": "Swedish",
    "TR": "Turkish", "UK": "Ukrainian", "ZH": "Chinese",
}  # fmt: skip
TARGET_LANGUAGES = {
    **{k: v for k, v in SOURCE_LANGUAGES.items() if k not in ("EN", "PT", "ZH")},
    "EN-GB": "English (British)", "EN-US": "English (American)", "ES-419": "Spanish (Latin American)",
    "PT-BR": "Portuguese (Brazilian)", "PT-PT": "Portuguese (European)",
    "ZH-HANS": "Chinese (simplified)", "ZH-HANT": "Chinese (traditional)",
}  # fmt: skip
FORMALITY = {"DE", "ES", "ES-419", "FR", "IT", "JA", "NL", "PL", "PT-BR", "PT-PT", "RU"}
# Deliberately absent, as at DeepL: HR, SR, MT, IS, FO, CA (channels need a fallback).

# A tiny word-list language guess for detected_source_language (tests can extend it).
GUESS_WORDS = {
    "FR": {"bonjour", "merci", "avec", "pour", "les", "nous", "est", "une"},
    "DE": {"hallo", "danke", "und", "nicht", "ist", "wir", "mit", "der"},
    "ES": {"hola", "gracias", "para", "los", "con", "todos", "muy", "pero"},
    "IT": {"ciao", "grazie", "sono", "gli", "della", "anche", "questo", "molto"},
    "PT": {"olá", "obrigado", "obrigada", "não", "também", "muito", "uma", "você"},
    "NL": {"bedankt", "het", "niet", "een", "wij", "ook", "goedemorgen", "dag"},
    "UK": {"привіт", "дякую", "і", "це", "ми", "так"},
    "PL": {"cześć", "dziękuję", "jest", "nie", "czy", "się"},
    "TR": {"merhaba", "teşekkürler", "bir", "ve", "bu", "için"},
    "EL": {"γεια", "ευχαριστώ", "και", "είναι"},
    "NB": {"hei", "takk", "ikke", "jeg", "og", "det"},
}
_MAX_BODY = 128 * 1024
_MESSAGES = {429: "Too many requests", 456: "Quota Exceeded", 500: "Internal Server Error", 503: "Service Unavailable"}


def fast_deepl_client(monkeypatch: pytest.MonkeyPatch, retries: int = 0, timeout: float = 0.5) -> None:
    """Make the deepl client fail fast: ``retries`` retries, 10 ms first backoff, ``timeout`` s."""
    monkeypatch.setattr(http_client, "max_network_retries", retries)
    monkeypatch.setattr(http_client, "min_connection_timeout", timeout)
    monkeypatch.setattr(http_client._BackoffTimer, "BACKOFF_INITIAL", 0.01)


@dataclass
class TranslateCall:
    """One /v2/translate request as received (also those answered with a fault)."""

    target_lang: str
    source_lang: str | None
    texts: list[str]
    formality: str | None
    glossary_id: str | None
    tag_handling: str | None
    ignore_tags: list[str]
    status: int
    record: Recorded


class FakeDeepL(FakeServer):
    """Fake ``https://api.deepl.com``. Pass ``fake.url`` as ``server_url``."""

    def __init__(self, auth_key: str = "test-key:fx", *, character_limit: int = 500_000) -> None:
        super().__init__()
        self.auth_key = auth_key
        self.character_limit = character_limit
        self.billed_characters = 0
        self.source_languages = dict(SOURCE_LANGUAGES)
        self.target_languages = dict(TARGET_LANGUAGES)
        self.formality_languages = set(FORMALITY)
        self.guess_words = {lang: set(words) for lang, words in GUESS_WORDS.items()}
        self.detect_override: str | None = None  # force detected_source_language
        self.lexicons: dict[tuple[str, str], dict[str, str]] = {}
        self.glossaries: dict[str, dict[str, Any]] = {}

    # -- controls --------------------------------------------------------------------
    def set_latency(self, seconds: float, path: str | None = None) -> None:  # type: ignore[override]
        """Delay every answer (or those to ``path``, e.g. "/v2/translate") by ``seconds``."""
        super().set_latency(path, seconds)

    def fail_next(self, status: int = 503, times: int = 1, *, path: str | None = None, body: Any = None) -> None:
        """Answer the next ``times`` requests (to ``path``, e.g. "/v2/translate"; None: any)
        with ``status`` (429, 456, 500, 503...) and DeepL's ``{"message": ...}`` body."""
        payload = body if body is not None else {"message": _MESSAGES.get(status, "Error")}
        self.add_fault(Fault(path, status, {}, json_bytes(payload), "application/json", times))

    def hang_next(self, seconds: float, times: int = 1, *, path: str | None = None) -> None:
        """Hold the next answers for ``seconds`` (then answer normally, if anyone still listens)."""
        self.add_fault(Fault(path, None, times=times, delay=seconds))

    def garbage_next(self, times: int = 1, *, status: int = 200, path: str | None = None) -> None:
        """Answer with an HTML error page instead of JSON (a broken proxy)."""
        body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        self.add_fault(Fault(path, status, {}, body, "text/html", times))

    def use_lexicon(self, lexicons: dict[tuple[str, str], dict[str, str]]) -> None:
        """Turn on lexicon mode for these (source, target) pairs (see the module docstring)."""
        for (source, target), words in lexicons.items():
            pair = (source.upper().split("-")[0], target.upper().split("-")[0])
            self.lexicons.setdefault(pair, {}).update({k.lower(): v for k, v in words.items()})

    # -- assertions ------------------------------------------------------------------
    @property
    def translate_calls(self) -> list[TranslateCall]:
        calls = []
        for r in self.recorded("/v2/translate"):
            p = r.body if isinstance(r.body, dict) else {}
            calls.append(
                TranslateCall(
                    target_lang=str(p.get("target_lang", "")).upper(),
                    source_lang=str(p["source_lang"]).upper() if p.get("source_lang") else None,
                    texts=_as_list(p.get("text")),
                    formality=p.get("formality"),
                    glossary_id=p.get("glossary_id"),
                    tag_handling=p.get("tag_handling"),
                    ignore_tags=[t for v in _as_list(p.get("ignore_tags")) for t in v.split(",") if t],
                    status=r.status,
                    record=r,
                )
            )
        return calls

    # -- server plumbing -------------------------------------------------------------
    def _routes(self, app: web.Application) -> None:
        r = app.router
        r.add_post("/v2/translate", self._translate)
        r.add_get("/v2/usage", self._usage)
        r.add_get("/v2/languages", self._languages)
        r.add_get("/v2/glossary-language-pairs", self._glossary_pairs)
        for version in ("v2", "v3"):
            r.add_post(f"/{version}/glossaries", self._create_glossary)
            r.add_get(f"/{version}/glossaries", self._list_glossaries)
            r.add_get(f"/{version}/glossaries/{{glossary_id}}", self._get_glossary)
            r.add_delete(f"/{version}/glossaries/{{glossary_id}}", self._get_glossary)
        r.add_get("/v2/glossaries/{glossary_id}/entries", self._glossary_entries)

    def _name(self, request: web.Request) -> str:
        return request.path

    def _keys(self, record: Recorded) -> list[str]:
        return [record.path, f"{record.method} {record.path}"]

    def _before(self, request: web.Request, record: Recorded) -> web.StreamResponse | None:
        if record.headers.get("Authorization") != f"DeepL-Auth-Key {self.auth_key}":
            return json_response({"message": "Authorization failure, check auth_key"}, 403)
        if len(record.raw) > _MAX_BODY:
            return json_response({"message": "Request Entity Too Large"}, 413)
        return None

    async def _translate(self, request: web.Request) -> web.Response:
        p = record_of(request).body
        p = p if isinstance(p, dict) else {}
        texts = _as_list(p.get("text"))
        target = str(p.get("target_lang") or "").upper()
        source = str(p["source_lang"]).upper() if p.get("source_lang") else None
        if not texts:
            return json_response({"message": "Parameter 'text' not specified."}, 400)
        if len(texts) > 50:
            return json_response({"message": "Too many texts (at most 50 per request)."}, 400)
        if target not in self.target_languages:
            return json_response({"message": "Value for 'target_lang' not supported."}, 400)
        if source is not None and source not in self.source_languages:
            return json_response({"message": "Value for 'source_lang' not supported."}, 400)
        formality = p.get("formality")
        if formality in ("more", "less") and target not in self.formality_languages:
            return json_response({"message": "'formality' is not supported for given 'target_lang'."}, 400)
        entries: dict[str, str] = {}
        if p.get("glossary_id"):
            glossary = self.glossaries.get(str(p["glossary_id"]))
            entries = _glossary_entries(glossary, source, target) if glossary else {}
            if not entries:
                return json_response({"message": "Glossary not found or not for this language pair."}, 404)
        billed = sum(len(t) for t in texts)
        if self.billed_characters + billed > self.character_limit:
            return json_response({"message": "Quota Exceeded"}, 456)
        self.billed_characters += billed
        out = []
        for text in texts:
            detected = source or self._detect(text)
            lexicon = self.lexicons.get((detected.split("-")[0], target.split("-")[0]))
            if lexicon and detected.split("-")[0] != target.split("-")[0]:
                translated = _word_by_word(text, lexicon)
            else:
                translated = self._transform(text, detected, target, entries)
            result = {"detected_source_language": detected, "text": translated}
            if p.get("show_billed_characters") in (True, "1", "true"):
                result["billed_characters"] = len(text)
            if p.get("model_type"):
                result["model_type_used"] = "quality_optimized"
            out.append(result)
        return json_response({"translations": out})

    def _detect(self, text: str) -> str:
        if self.detect_override:
            return self.detect_override
        words = set(re.findall(r"\w+", text.lower()))
        scores = {lang: len(words & vocab) for lang, vocab in self.guess_words.items()}
        for (source, _target), lexicon in self.lexicons.items():
            scores[source] = scores.get(source, 0) + len(words & set(lexicon))
        best = max(scores, key=lambda lang: scores[lang], default="EN")
        return best if scores.get(best) else "EN"

    @staticmethod
    def _transform(text: str, source: str, target: str, entries: dict[str, str]) -> str:
        if source.split("-")[0] == target.split("-")[0]:
            return text  # same language: DeepL returns it as is (and bills it)
        for term, replacement in entries.items():
            text = re.sub(rf"\b{re.escape(term)}\b", replacement, text)
        return f"[{target}] {text}"

    async def _usage(self, request: web.Request) -> web.Response:
        return json_response({"character_count": self.billed_characters, "character_limit": self.character_limit})

    async def _languages(self, request: web.Request) -> web.Response:
        body = record_of(request).body
        kind = request.query.get("type") or (body.get("type") if isinstance(body, dict) else None) or "source"
        if kind == "target":
            langs = [
                {"language": code, "name": name, "supports_formality": code in self.formality_languages}
                for code, name in self.target_languages.items()
            ]
        else:
            langs = [{"language": code, "name": name} for code, name in self.source_languages.items()]
        return json_response(langs)

    async def _glossary_pairs(self, request: web.Request) -> web.Response:
        bases = sorted({code.split("-")[0] for code in self.target_languages} & set(self.source_languages))
        pairs = [{"source_lang": s.lower(), "target_lang": t.lower()} for s in bases for t in bases if s != t]
        return json_response({"supported_languages": pairs})

    # -- glossaries (v2 single-pair, v3 multilingual) ----------------------------------------
    async def _create_glossary(self, request: web.Request) -> web.Response:
        p = record_of(request).body
        if not isinstance(p, dict) or not p.get("name"):
            return json_response({"message": "Missing glossary name"}, 400)
        v3 = request.path.startswith("/v3/")
        dictionaries = p.get("dictionaries", []) if v3 else [p]
        parsed = []
        for d in dictionaries:
            if not (isinstance(d, dict) and d.get("source_lang") and d.get("target_lang")):
                return json_response({"message": "Missing source_lang or target_lang"}, 400)
            sep = "\t" if d.get("entries_format", "tsv") == "tsv" else ","
            lines = [line.split(sep, 1) for line in str(d.get("entries", "")).splitlines() if sep in line]
            parsed.append(
                {
                    "source_lang": str(d["source_lang"]).lower(),
                    "target_lang": str(d["target_lang"]).lower(),
                    "entries": {s.strip(): t.strip() for s, t in lines},
                }
            )
        if not parsed or not all(d["entries"] for d in parsed):
            return json_response({"message": "Invalid glossary entries provided"}, 400)
        glossary_id = str(uuid.uuid4())
        self.glossaries[glossary_id] = {
            "glossary_id": glossary_id,
            "name": p["name"],
            "v3": v3,
            "dictionaries": parsed,
            "creation_time": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        return json_response(self._glossary_info(self.glossaries[glossary_id], v3), 201)

    @staticmethod
    def _glossary_info(g: dict[str, Any], v3: bool) -> dict[str, Any]:
        base = {"glossary_id": g["glossary_id"], "name": g["name"], "creation_time": g["creation_time"]}
        dicts = [
            {"source_lang": d["source_lang"], "target_lang": d["target_lang"], "entry_count": len(d["entries"])}
            for d in g["dictionaries"]
        ]
        if v3:
            return {**base, "dictionaries": dicts}
        return {**base, "ready": True, **dicts[0]}

    async def _list_glossaries(self, request: web.Request) -> web.Response:
        v3 = request.path.startswith("/v3/")
        return json_response({"glossaries": [self._glossary_info(g, v3) for g in self.glossaries.values()]})

    async def _get_glossary(self, request: web.Request) -> web.Response:
        glossary = self.glossaries.get(request.match_info["glossary_id"])
        if glossary is None:
            return json_response({"message": "Glossary not found"}, 404)
        if request.method == "DELETE":
            del self.glossaries[glossary["glossary_id"]]
            return raw_response(204, content_type=None)
        return json_response(self._glossary_info(glossary, request.path.startswith("/v3/")))

    async def _glossary_entries(self, request: web.Request) -> web.Response:
        glossary = self.glossaries.get(request.match_info["glossary_id"])
        if glossary is None:
            return json_response({"message": "Glossary not found"}, 404)
        tsv = "\n".join(f"{s}\t{t}" for s, t in glossary["dictionaries"][0]["entries"].items())
        return raw_response(200, tsv.encode(), "text/tab-separated-values")


def _word_by_word(text: str, lexicon: dict[str, str]) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        found = lexicon.get(word.lower())
        if found is None:
            return word
        return found[:1].upper() + found[1:] if word[:1].isupper() else found

    # Words only, never inside the XML tags that protect mentions, links and code.
    return "".join(part if part.startswith("<") else re.sub(r"\w+", swap, part)
                   for part in re.split(r"(<[^>]*>)", text))


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _glossary_entries(glossary: dict[str, Any], source: str | None, target: str) -> dict[str, str]:
    for d in glossary["dictionaries"]:
        if source and d["source_lang"] == source.lower() and d["target_lang"] == target.split("-")[0].lower():
            return dict(d["entries"])
    return {}


class _ChattyFakeDeepL(FakeDeepL):
    """The standalone server: one line per translation request, so a demo shows what DeepL got."""

    async def _translate(self, request: web.Request) -> web.Response:
        response = await super()._translate(request)
        body = record_of(request).body
        body = body if isinstance(body, dict) else {}
        texts = _as_list(body.get("text"))
        source = body.get("source_lang") or "auto"
        print(f"translate {source} → {body.get('target_lang')}: {len(texts)} text(s), "
              f"{sum(len(t) for t in texts)} characters → {response.status}; billed so far: {self.billed_characters}",
              flush=True)
        return response


async def _serve(port: int, key: str, limit: int, lexicon: str | None = None) -> None:
    fake = _ChattyFakeDeepL(key, character_limit=limit)
    if lexicon:
        fake.use_lexicon(_read_lexicon(lexicon))
    await fake.start(port)
    print(f"Fake DeepL listening on {fake.url} (key {key}, {limit} characters a month). In another terminal:\n"
          f"  DEEPL_AUTH_KEY={key} DEEPL_SERVER_URL={fake.url} icc-bot console", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.fake_deepl",
                                     description="Run the fake DeepL API on 127.0.0.1 for a manual console demo.")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--key", default="test-key:fx", help="the DEEPL_AUTH_KEY it accepts")
    parser.add_argument("--limit", type=int, default=500_000, help="characters before it answers 456")
    parser.add_argument("--lexicon", metavar="FILE.json", help="lexicon mode: {\"FR>EN\": {\"accueil\": "
                        "\"welcome\"}, …} (see the module docstring)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.key, args.limit, args.lexicon))


def _read_lexicon(path: str) -> dict[tuple[str, str], dict[str, str]]:
    """`{"FR>EN": {"accueil": "welcome"}}` from a JSON file → the pairs `use_lexicon` takes."""
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    return {tuple(pair.split(">", 1)): dict(words) for pair, words in raw.items()}  # type: ignore[misc]


if __name__ == "__main__":
    main()
