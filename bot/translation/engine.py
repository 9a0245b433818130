"""DeepL behind the `Translator` interface.

What one `translate(texts, target, …)` call does, cheapest first:
1. texts with nothing to translate (only links, emoji, code) and texts already in the target
   language (the caller's `source`, or a confident local guess; `likely_source` fills in when the
   guess is unsure) come back as they are: `SAME_LANGUAGE`, no DeepL call, characters counted as
   saved;
2. the target is mapped to DeepL's code (`en` → `EN-GB`); a target DeepL does not offer falls back
   to the caller's `fallback`, else `UNSUPPORTED`;
3. each text is split into segments (`bot.translation.markup`) keyed by a hash of the segment,
   source, target, glossary version and formality; segments found in memory (LRU), in flight for
   another caller (single flight: identical concurrent requests make one DeepL call) or in the
   database cost nothing. The database is asked in one query for whatever all callers need at
   that moment (a relayed message's target languages look up together);
4. the rest go to DeepL together — one request, or a few when they exceed DeepL's 50 texts or
   ~100 KiB per request — from a bounded thread pool (`DEEPL_MAX_WORKERS`, default 16: a
   message's target languages go side by side), since the client blocks. New translations are
   in memory at once and written to the database right after, in the background (one
   transaction for all that finished together), so the caller posts without waiting for the
   write; `flush`/`close` wait for it;
5. faults never escape: 429/5xx are retried briefly by the client (2 retries, 5 s per attempt),
   the whole call is bounded by `call_deadline`, and anything else (456 quota, a hang, garbage)
   returns the original with the reason. A 456 also calls `on_quota` (the ICC team's alert).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import deepl
import deepl.http_client as deepl_http

from bot.clock import Clock
from bot.translation import NotTranslated, ServiceUsage, Translation
from bot.translation.codes import bot_language, deepl_source, deepl_target, same_language
from bot.translation.detection import Guess, LanguageDetector, shared_detector
from bot.translation.glossary import Glossary
from bot.translation.markup import IGNORE_TAG, Encoded, decode, encode, words_of
from storage.db import Database
from storage.models import TranslationCacheEntry
from storage.queries import translation as queries

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRIES = 2
"""Retries of a 429/5xx/time-out by the deepl client itself (backoff ~1 s, then ~1.6 s)."""
ATTEMPT_TIMEOUT = 5.0
"""Seconds one HTTP attempt may take."""
CALL_DEADLINE = 20.0
"""Seconds a DeepL operation may take in all, retries included; then the text goes untranslated."""
MAX_TEXTS_PER_REQUEST = 50
MAX_REQUEST_BYTES = 100 * 1024  # DeepL refuses bodies over 128 KiB; leave room for JSON and options
MEMORY_CACHE_SIZE = 20_000
GLOSSARY_RETRY_AFTER = 600.0
DEFAULT_WORKERS = 16
"""Threads for DeepL calls: enough for every target language of a message at once."""
MAX_WORKERS = 64
STORE_BATCH = 200
"""Fresh translations written at the latest once this many wait (under a steady stream of requests)."""
ANALYSES_SIZE = 256
"""Texts whose split and language guess are kept (a message is asked for in each target language)."""
FORMALITIES = frozenset({"more", "less", "prefer_more", "prefer_less"})


def configure_client_retries(retries: int = RETRIES, timeout: float = ATTEMPT_TIMEOUT) -> None:
    """Keep the deepl client's own retries brief (its defaults sleep for minutes). Only ever
    lowers the module-wide settings, so a test that made them lower still keeps its values."""
    deepl_http.max_network_retries = min(deepl_http.max_network_retries, retries)
    deepl_http.min_connection_timeout = min(deepl_http.min_connection_timeout, timeout)


@dataclass(frozen=True)
class _Done:
    xml: str
    source: str
    """DeepL's source code (detected or given)."""
    characters: int
    """What DeepL billed for it."""
    paid_now: bool = False
    """Billed by this call (not from a cache or another caller's request)."""


_Outcome = _Done | NotTranslated


@dataclass(frozen=True)
class _Offered:
    targets: dict[str, bool]
    """DeepL target code → supports formality."""
    sources: frozenset[str]


@dataclass
class _Plan:
    text: str
    encoded: Encoded
    words: str
    guess: Guess | None = None
    known_source: str | None = None
    keys: list[str] = field(default_factory=list)


@dataclass
class UsageCounters:
    """Counters not yet written to the database (written in batches, not on every call)."""

    billed_characters: int = 0
    requests: int = 0
    saved_by_cache: int = 0
    saved_by_skip: int = 0
    untranslated_characters: int = 0

    def take(self) -> dict[str, int]:
        values = {name: getattr(self, name) for name in queries.COUNTERS}
        for name in queries.COUNTERS:
            setattr(self, name, 0)
        return values

    def put_back(self, values: dict[str, int]) -> None:
        for name, value in values.items():
            setattr(self, name, getattr(self, name) + value)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in queries.COUNTERS)


class DeepLTranslator:
    """The running `Translator` when a DeepL key is configured."""

    enabled = True

    def __init__(self, auth_key: str, *, db: Database, clock: Clock, server_url: str | None = None,
                 detector: LanguageDetector | None = None, glossary: Glossary | None = None,
                 max_workers: int = DEFAULT_WORKERS, call_deadline: float = CALL_DEADLINE,
                 on_quota: Callable[[], Awaitable[None]] | None = None) -> None:
        self._auth_key = auth_key
        self._server_url = server_url
        self.db = db
        self.clock = clock
        self.detector = detector or shared_detector()
        self.glossary = glossary or Glossary.load()
        self.call_deadline = call_deadline
        self.on_quota = on_quota
        self.account = hashlib.sha256(f"{server_url or 'deepl'}\0{auth_key}".encode()).hexdigest()[:32]
        self.counters = UsageCounters()
        self.max_workers = min(max(int(max_workers), 1), MAX_WORKERS)
        self._pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="deepl")
        self._local = threading.local()
        self._clients: list[deepl.Translator] = []
        self._clients_lock = threading.Lock()
        self._memory: OrderedDict[str, _Done] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[_Outcome]] = {}
        self._analyses: OrderedDict[str, tuple[Encoded, str, Guess | None]] = OrderedDict()
        self._lookups: list[tuple[list[str], asyncio.Future[dict[str, TranslationCacheEntry]]]] = []
        self._lookup_task: asyncio.Task[None] | None = None
        self._unstored: dict[str, TranslationCacheEntry] = {}
        """Fresh translations not yet in the database (in memory already), oldest first."""
        self._store_task: asyncio.Task[None] | None = None
        self._offered: _Offered | None = None
        self._offered_lock = asyncio.Lock()
        self._glossaries: dict[tuple[str, str, str], str] = {}
        self._glossary_failed: dict[tuple[str, str, str], float] = {}
        self._glossary_lock = asyncio.Lock()
        self._quota_alerted_day: object = None
        self._closed = False

    # ---- the Translator interface ------------------------------------------------------------

    async def translate(self, texts: Sequence[str], target: str, *, source: str | None = None,
                        formality: str | None = None, fallback: str | None = None,
                        likely_source: str | None = None) -> list[Translation]:
        if not texts:
            return []
        plans = []
        for text in texts:
            encoded, words = self._analysed(text)
            plans.append(_Plan(text, encoded, words))
        results: list[Translation | None] = [None] * len(plans)
        if source is None and any(plan.encoded.segments for plan in plans):
            await self._load_detector()
        for index, plan in enumerate(plans):
            if not plan.encoded.segments:
                results[index] = Translation(plan.text, source, target, NotTranslated.SAME_LANGUAGE)
                continue
            if source is None:
                plan.guess = self._guess_of(plan.text, plan.words)
            plan.known_source = source or self._confirmed(plan, likely_source)
            if self._already_in(plan, target, source, likely_source):
                results[index] = self._skipped(plan, target)
        pending = [index for index, result in enumerate(results) if result is None]
        if pending:
            await self._translate_pending(plans, results, pending, target, formality, fallback, source,
                                          likely_source)
        return [result or Translation(plan.text, None, target, NotTranslated.UNAVAILABLE)
                for plan, result in zip(plans, results, strict=True)]

    async def detect(self, text: str) -> str | None:
        words = words_of(text)
        if not words:
            return None
        await self._load_detector()
        guess = self._guess(words)
        return guess.language if guess is not None and guess.confident else None

    async def record_skip(self, characters: int) -> None:
        self.counters.saved_by_skip += max(int(characters), 0)

    async def usage(self) -> ServiceUsage | None:
        try:
            result = await self._in_thread(lambda: self._client().get_usage())
        except Exception as error:
            log.warning("DeepL usage unavailable: %s", _describe(error))
            return None
        character = result.character
        if character is None or character.count is None:
            return None
        return ServiceUsage(int(character.count), int(character.limit) if character.limit else None)

    # ---- life cycle -------------------------------------------------------------------------------

    async def warm_up(self) -> None:
        """Load the language detector ahead of the first message."""
        await self._load_detector()

    async def flush(self) -> None:
        """Write the translations not stored yet and the pending usage counters (periodically,
        before `/icc usage`, at stop)."""
        if self._unstored:
            self._store_soon()
        while self._store_task is not None and not self._store_task.done():
            await asyncio.shield(self._store_task)
        if self.counters.empty:
            return
        values = self.counters.take()
        try:
            async with self.db.session() as session:
                await queries.add_usage(session, self.clock.now().date(), **values)
        except Exception:
            self.counters.put_back(values)
            log.exception("could not record translation usage; will try again")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.flush()
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._clients_lock:
            for client in self._clients:
                client.close()
            self._clients.clear()

    # ---- deciding what to send ---------------------------------------------------------------------

    async def _load_detector(self) -> None:
        if self.detector.loaded:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, self.detector.load)
        except Exception:
            log.exception("the language detector could not load; every text goes to DeepL")

    def _analysed(self, text: str) -> tuple[Encoded, str]:
        """The text's segments and its words for detection, worked out once for all the target
        languages it is asked for (the relay asks once per language)."""
        known = self._analyses.get(text)
        if known is None:
            encoded = encode(text)
            known = (encoded, words_of(text) if encoded.segments else "", None)
            self._keep_analysis(text, known)
        return known[0], known[1]

    def _guess_of(self, text: str, words: str) -> Guess | None:
        known = self._analyses.get(text)
        if known is not None and known[2] is not None:
            return known[2]
        guess = self._guess(words)
        if known is not None and guess is not None:
            self._keep_analysis(text, (known[0], known[1], guess))
        return guess

    def _keep_analysis(self, text: str, analysis: tuple[Encoded, str, Guess | None]) -> None:
        self._analyses[text] = analysis
        self._analyses.move_to_end(text)
        while len(self._analyses) > ANALYSES_SIZE:
            self._analyses.popitem(last=False)

    def _guess(self, words: str) -> Guess | None:
        if not self.detector.loaded:
            return None
        try:
            return self.detector.guess(words)
        except Exception:
            log.exception("language detection failed")
            return None

    @staticmethod
    def _confirmed(plan: _Plan, likely_source: str | None) -> str | None:
        """The likely source, when a confident local guess agrees with it."""
        guess = plan.guess
        if likely_source and guess is not None and guess.confident and same_language(guess.language, likely_source):
            return likely_source
        return None

    @staticmethod
    def _already_in(plan: _Plan, target: str, source: str | None, likely_source: str | None) -> bool:
        if source is not None:
            return same_language(source, target)
        guess = plan.guess
        if guess is not None and guess.confident:
            return same_language(guess.language, target)
        # Unsure: a text is in its channel's language unless the guess says otherwise.
        return likely_source is not None and same_language(likely_source, target)

    def _skipped(self, plan: _Plan, target: str) -> Translation:
        self.counters.saved_by_skip += plan.encoded.characters
        language = plan.known_source or (plan.guess.language if plan.guess and plan.guess.confident else None)
        return Translation(plan.text, language or target, target, NotTranslated.SAME_LANGUAGE)

    async def _translate_pending(self, plans: list[_Plan], results: list[Translation | None], pending: list[int],
                                 target: str, formality: str | None, fallback: str | None, source: str | None,
                                 likely_source: str | None) -> None:
        def fail(indexes: list[int], reason: NotTranslated, language: str) -> None:
            for index in indexes:
                plan = plans[index]
                results[index] = Translation(plan.text, plan.known_source, language, reason)
                if reason not in (NotTranslated.UNSUPPORTED,):
                    self.counters.untranslated_characters += plan.encoded.characters

        offered = await self._languages()
        if offered is None:
            fail(pending, NotTranslated.UNAVAILABLE, target)
            return
        deepl_code, language = deepl_target(target, offered.targets), target
        if deepl_code is None and fallback:
            deepl_code, language = deepl_target(fallback, offered.targets), fallback
            if deepl_code is not None:
                for index in list(pending):
                    if self._already_in(plans[index], fallback, source, likely_source):
                        results[index] = self._skipped(plans[index], fallback)
                        pending.remove(index)
        if deepl_code is None:
            fail(pending, NotTranslated.UNSUPPORTED, target)
            return
        tone = formality if formality in FORMALITIES and offered.targets.get(deepl_code) else None
        groups: dict[str | None, list[int]] = {}
        for index in pending:
            plan = plans[index]
            language_of_text = plan.known_source or (plan.guess.language if plan.guess and plan.guess.confident
                                                     else None)
            if language_of_text and deepl_source(language_of_text, offered.sources) is None:
                # DeepL would guess another language and bill for a poor translation: say so instead.
                results[index] = Translation(plan.text, language_of_text, language, NotTranslated.SOURCE_UNSUPPORTED)
                continue
            known = plan.known_source
            groups.setdefault(deepl_source(known, offered.sources) if known else None, []).append(index)
        for deepl_from, indexes in groups.items():
            pair = self.glossary.pair(deepl_from, deepl_code) if deepl_from else None
            useful = pair is not None and any(pair.applies_to(segment.xml) for index in indexes
                                              for segment in plans[index].encoded.segments)
            glossary = await self._glossary(deepl_from, deepl_code) if deepl_from and useful else None
            outcomes = await self._segments(plans, indexes, deepl_from, deepl_code, tone, glossary, offered)
            for index in indexes:
                results[index] = self._assemble(plans[index], outcomes, language)
        if any(result is not None and result.not_translated is NotTranslated.QUOTA for result in results):
            await self._quota_exhausted()

    def _assemble(self, plan: _Plan, outcomes: dict[str, _Outcome], language: str) -> Translation:
        parts = [outcomes[key] for key in plan.keys]
        failures = [part for part in parts if isinstance(part, NotTranslated)]
        if failures:
            reason = NotTranslated.QUOTA if NotTranslated.QUOTA in failures else failures[0]
            self.counters.untranslated_characters += plan.encoded.characters
            return Translation(plan.text, plan.known_source, language, reason)
        done = [part for part in parts if isinstance(part, _Done)]
        detected = Counter[str]()
        for segment, part in zip(plan.encoded.segments, done, strict=True):
            detected[bot_language(part.source)] += len(segment.xml)
        source = plan.known_source or (detected.most_common(1)[0][0] if detected else None)
        from_cache = not any(part.paid_now for part in done)
        if detected and all(same_language(code, language) for code in detected):
            # DeepL has the last word: the text was already in the target language.
            return Translation(plan.text, source or language, language, NotTranslated.SAME_LANGUAGE, from_cache)
        text = decode(plan.encoded, [part.xml for part in done])
        return Translation(text, source, language, None, from_cache)

    # ---- segments: memory, single flight, database, DeepL ------------------------------------------

    def _key(self, xml: str, source: str | None, target: str, formality: str | None,
             glossary: tuple[str, str] | None) -> str:
        """The cache key of a segment: everything that shapes DeepL's answer. The glossary counts
        only when one of its terms occurs in the segment (otherwise it changes nothing)."""
        pair = self.glossary.pair(source, target) if glossary and source else None
        version = glossary[1] if glossary and pair is not None and pair.applies_to(xml) else ""
        parts = (xml, source or "", target, version, formality or "")
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def _detected_key(self, xml: str, detected: str, target: str, formality: str | None,
                      offered: _Offered) -> str | None:
        """For a segment DeepL translated from a source it detected: the key a request naming
        that source would have, when no glossary term makes the two differ."""
        source = deepl_source(detected, offered.sources) if detected else None
        if source is None:
            return None
        pair = self.glossary.pair(source, target)
        if pair is not None and pair.applies_to(xml):
            return None
        return self._key(xml, source, target, formality, None)

    def _alternate_keys(self, xml: str, plan: _Plan, offered: _Offered, target: str,
                        formality: str | None) -> list[str]:
        """For a text sent without a source: the keys it would have with its confident guess as the
        source (how the relay asks when the guess agrees with the channel), with the glossary and
        without (when it could not be made). A translation made that way serves this request too,
        so the same text is not paid for twice by two paths."""
        guess = plan.guess
        if guess is None or not guess.confident:
            return []
        source = deepl_source(guess.language, offered.sources)
        if source is None:
            return []
        pair = self.glossary.pair(source, target)
        with_glossary = self._key(xml, source, target, formality, ("", pair.version)) if pair else None
        without = self._key(xml, source, target, formality, None)
        return [key for key in (with_glossary, without) if key is not None]

    async def _segments(self, plans: list[_Plan], indexes: list[int], source: str | None, target: str,
                        formality: str | None, glossary: tuple[str, str] | None,
                        offered: _Offered) -> dict[str, _Outcome]:
        wanted: dict[str, str] = {}
        alternates: dict[str, list[str]] = {}
        uses = Counter[str]()
        for index in indexes:
            plan = plans[index]
            plan.keys = [self._key(segment.xml, source, target, formality, glossary)
                         for segment in plan.encoded.segments]
            for key, segment in zip(plan.keys, plan.encoded.segments, strict=True):
                wanted.setdefault(key, segment.xml)
                uses[key] += 1
                if source is None and key not in alternates:
                    alternates[key] = self._alternate_keys(segment.xml, plan, offered, target, formality)
        outcomes: dict[str, _Outcome] = {}
        joined: dict[str, asyncio.Future[_Outcome]] = {}
        owned: dict[str, asyncio.Future[_Outcome]] = {}
        loop = asyncio.get_running_loop()
        for key in wanted:
            remembered = next((self._memory[k] for k in (key, *alternates.get(key, ())) if k in self._memory), None)
            if remembered is not None:
                outcomes[key] = self._remember(key, remembered)
            elif key in self._inflight:
                joined[key] = self._inflight[key]
            else:
                owned[key] = self._inflight[key] = loop.create_future()
        try:
            if owned:
                outcomes.update(await self._fetch(wanted, list(owned), source, target, formality, glossary,
                                                  alternates, offered))
        finally:
            for key, future in owned.items():
                if not future.done():
                    future.set_result(outcomes.get(key, NotTranslated.UNAVAILABLE))
                self._inflight.pop(key, None)
            if owned and self._unstored and not self._inflight:
                self._store_soon()
        for key, future in joined.items():
            outcome = await asyncio.shield(future)
            outcomes[key] = _Done(outcome.xml, outcome.source, outcome.characters) if isinstance(outcome, _Done) \
                else outcome
        for key, outcome in outcomes.items():
            if isinstance(outcome, _Done):
                repeats = uses[key] - 1 if outcome.paid_now else uses[key]
                self.counters.saved_by_cache += outcome.characters * repeats
        return outcomes

    async def _fetch(self, wanted: dict[str, str], keys: list[str], source: str | None, target: str,
                     formality: str | None, glossary: tuple[str, str] | None,
                     alternates: dict[str, list[str]], offered: _Offered) -> dict[str, _Outcome]:
        outcomes: dict[str, _Outcome] = {}
        try:
            stored = await self._stored([*keys, *(other for key in keys for other in alternates.get(key, ()))])
        except Exception:
            log.exception("translation cache unreadable; asking DeepL")
            stored = {}
        for key in keys:
            entry = next((stored[k] for k in (key, *alternates.get(key, ())) if k in stored), None)
            if entry is not None:
                outcomes[key] = self._remember(key, _Done(entry.text, entry.source or "", entry.characters))
        missing = [key for key in keys if key not in outcomes]
        if not missing:
            return outcomes
        sent = await self._request_all([(key, wanted[key]) for key in missing], source, target, formality, glossary)
        outcomes.update(sent)
        fresh: dict[str, TranslationCacheEntry] = {}
        for key, outcome in sent.items():
            if not isinstance(outcome, _Done):
                continue
            # Also under the source DeepL detected, so a later request naming it finds this one.
            alias = self._detected_key(wanted[key], outcome.source, target, formality, offered) \
                if source is None else None
            for store_key in filter(None, (key, alias)):
                self._remember(store_key, outcome)
                fresh.setdefault(store_key, TranslationCacheEntry(
                    key=store_key, target=target, source=outcome.source or None, text=outcome.xml,
                    characters=outcome.characters, created_at=self.clock.now()))
        self._store_later(fresh.values())
        return outcomes

    # ---- the database side of the cache --------------------------------------------------------------

    async def _stored(self, keys: list[str]) -> dict[str, TranslationCacheEntry]:
        """Cache rows for `keys`. Callers that ask at the same moment (a message's target
        languages) share one query; what is asked while it runs goes in the next one."""
        found = {key: self._unstored[key] for key in keys if key in self._unstored}
        wanted = [key for key in keys if key not in found]
        if not wanted:
            return found
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, TranslationCacheEntry]] = loop.create_future()
        self._lookups.append((wanted, future))
        if self._lookup_task is None or self._lookup_task.done():
            self._lookup_task = loop.create_task(self._look_up(), name="translation-cache-lookup")
        found.update(await asyncio.shield(future))
        return found

    async def _look_up(self) -> None:
        while self._lookups:
            await asyncio.sleep(0)  # the other languages of the same message are one step behind
            batch, self._lookups = self._lookups, []
            try:
                async with self.db.session() as session:
                    rows = await queries.cached_segments(session, [key for keys, _ in batch for key in keys])
            except Exception as error:
                for _keys, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for keys, future in batch:
                if not future.done():
                    future.set_result({key: rows[key] for key in keys if key in rows})

    def _store_later(self, entries: Iterable[TranslationCacheEntry]) -> None:
        """Have fresh translations written without making their caller wait: they are in memory
        already (a repeat is served from there, `_stored` serves them to lookups), and they are
        written with the usage counters as soon as no other request is out — one transaction for
        a message's languages rather than one each — or once `STORE_BATCH` are waiting."""
        for entry in entries:
            self._unstored.setdefault(entry.key, entry)
        if not self._inflight or len(self._unstored) >= STORE_BATCH:
            self._store_soon()

    def _store_soon(self) -> None:
        if self._store_task is None or self._store_task.done():
            self._store_task = asyncio.get_running_loop().create_task(self._store(), name="translation-cache-store")

    async def _store(self) -> None:
        while self._unstored:
            await asyncio.sleep(0)  # the callers woken by these translations go first
            batch = dict(self._unstored)
            pending = self.counters.take()
            try:
                async with self.db.session() as session:
                    await queries.store_segments(session, batch.values())
                    await queries.add_usage(session, self.clock.now().date(), **pending)
            except Exception:
                self.counters.put_back(pending)
                log.exception("could not store %d translations; they stay cached in memory", len(batch))
            for key, entry in batch.items():
                if self._unstored.get(key) is entry:
                    del self._unstored[key]

    def _remember(self, key: str, outcome: _Done) -> _Done:
        self._memory[key] = _Done(outcome.xml, outcome.source, outcome.characters)
        self._memory.move_to_end(key)
        while len(self._memory) > MEMORY_CACHE_SIZE:
            self._memory.popitem(last=False)
        return outcome

    async def _request_all(self, items: list[tuple[str, str]], source: str | None, target: str,
                           formality: str | None, glossary: tuple[str, str] | None) -> dict[str, _Outcome]:
        chunks: list[list[tuple[str, str]]] = [[]]
        size = 0
        for item in items:
            weight = len(item[1].encode()) + 16
            if chunks[-1] and (len(chunks[-1]) >= MAX_TEXTS_PER_REQUEST or size + weight > MAX_REQUEST_BYTES):
                chunks.append([])
                size = 0
            chunks[-1].append(item)
            size += weight
        answers = await asyncio.gather(*(self._request(chunk, source, target, formality, glossary)
                                         for chunk in chunks))
        return {key: outcome for answer in answers for key, outcome in answer.items()}

    async def _request(self, chunk: list[tuple[str, str]], source: str | None, target: str,
                       formality: str | None, glossary: tuple[str, str] | None) -> dict[str, _Outcome]:
        texts = [xml for _key, xml in chunk]
        for attempt in range(2):
            options: dict[str, Any] = {"source_lang": source, "target_lang": target, "tag_handling": "xml",
                                       "ignore_tags": [IGNORE_TAG]}
            if formality:
                options["formality"] = formality
            if glossary:
                options["glossary"] = glossary[0]
            self.counters.requests += 1
            try:
                answers = await self._in_thread(partial(self._translate_texts, texts, options))
            except deepl.QuotaExceededException:
                log.warning("DeepL quota exceeded: texts go out untranslated")
                return dict.fromkeys((key for key, _xml in chunk), NotTranslated.QUOTA)
            except deepl.DeepLException as error:
                if glossary and attempt == 0 and error.http_status_code == 404:
                    log.warning("DeepL glossary %s is gone; making it again", glossary[0])
                    glossary = await self._glossary_again(source, target, glossary)
                    if glossary is not None:
                        continue
                log.warning("DeepL translation failed: %s", _describe(error))
                return dict.fromkeys((key for key, _xml in chunk), NotTranslated.UNAVAILABLE)
            except Exception as error:
                log.warning("DeepL translation failed: %s", _describe(error))
                return dict.fromkeys((key for key, _xml in chunk), NotTranslated.UNAVAILABLE)
            if len(answers) != len(texts):
                log.warning("DeepL answered %d translations for %d texts", len(answers), len(texts))
                return dict.fromkeys((key for key, _xml in chunk), NotTranslated.UNAVAILABLE)
            outcomes: dict[str, _Outcome] = {}
            for (key, xml), answer in zip(chunk, answers, strict=True):
                billed = answer.billed_characters if isinstance(answer.billed_characters, int) else len(xml)
                self.counters.billed_characters += billed
                outcomes[key] = _Done(str(answer.text), str(answer.detected_source_lang or source or ""), billed,
                                      paid_now=True)
            return outcomes
        return dict.fromkeys((key for key, _xml in chunk), NotTranslated.UNAVAILABLE)

    def _translate_texts(self, texts: list[str], options: dict[str, Any]) -> list[Any]:
        answer = self._client().translate_text(texts, **options)
        return answer if isinstance(answer, list) else [answer]

    # ---- DeepL's languages and glossaries ------------------------------------------------------------

    async def _languages(self) -> _Offered | None:
        if self._offered is not None:
            return self._offered
        async with self._offered_lock:
            if self._offered is None:
                try:
                    self._offered = await self._in_thread(self._fetch_languages)
                except Exception as error:
                    log.warning("DeepL languages unavailable: %s", _describe(error))
        return self._offered

    def _fetch_languages(self) -> _Offered:
        client = self._client()
        targets = {language.code.upper(): bool(language.supports_formality)
                   for language in client.get_target_languages()}
        sources = frozenset(language.code.upper() for language in client.get_source_languages())
        if not targets:
            raise ValueError("DeepL listed no target language")
        return _Offered(targets, sources)

    async def _glossary(self, source: str, target: str) -> tuple[str, str] | None:
        """(DeepL glossary id, version) for the pair, made on DeepL the first time; None without one."""
        pair = self.glossary.pair(source, target)
        if pair is None:
            return None
        marker = (pair.source, pair.target, pair.version)
        if marker in self._glossaries:
            return self._glossaries[marker], pair.version
        failed_at = self._glossary_failed.get(marker)
        if failed_at is not None and time.monotonic() - failed_at < GLOSSARY_RETRY_AFTER:
            return None
        async with self._glossary_lock:
            if marker in self._glossaries:
                return self._glossaries[marker], pair.version
            try:
                async with self.db.session() as session:
                    known = await queries.find_glossary_id(session, self.account, *marker)
                if known is None:
                    info = await self._in_thread(lambda: self._client().create_glossary(
                        f"ICC {pair.source}-{pair.target} {pair.version[:8]}", pair.source, pair.target,
                        pair.as_dict()))
                    async with self.db.session() as session:
                        known = await queries.remember_glossary(session, self.account, *marker,
                                                                str(info.glossary_id), self.clock.now())
            except Exception as error:
                log.warning("no ICC glossary for %s→%s this time: %s", pair.source, pair.target, _describe(error))
                self._glossary_failed[marker] = time.monotonic()
                return None
            self._glossaries[marker] = known
            return known, pair.version

    async def _glossary_again(self, source: str | None, target: str,
                              glossary: tuple[str, str]) -> tuple[str, str] | None:
        self._glossaries = {marker: gid for marker, gid in self._glossaries.items() if gid != glossary[0]}
        try:
            async with self.db.session() as session:
                await queries.forget_glossary(session, self.account, glossary[0])
        except Exception:
            log.exception("could not forget a lost glossary")
        return await self._glossary(source, target) if source else None

    # ---- plumbing ----------------------------------------------------------------------------------

    def _client(self) -> deepl.Translator:
        """One client per worker thread (a requests session is not shared between threads)."""
        client: deepl.Translator | None = getattr(self._local, "client", None)
        if client is None:
            client = deepl.Translator(self._auth_key, server_url=self._server_url, send_platform_info=False)
            client.set_app_info("icc-bot", "0.1")
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client

    async def _in_thread(self, work: Callable[[], T]) -> T:
        if self._closed:
            raise RuntimeError("the translator is closed")
        future = asyncio.get_running_loop().run_in_executor(self._pool, work)
        return await asyncio.wait_for(future, self.call_deadline)

    async def _quota_exhausted(self) -> None:
        today = self.clock.now().date()
        if self.on_quota is None or self._quota_alerted_day == today:
            return
        self._quota_alerted_day = today
        try:
            await self.on_quota()
        except Exception:
            log.exception("could not alert the ICC team about DeepL's quota")


def _describe(error: BaseException) -> str:
    """An error in one line for the log (deepl's messages never contain the key)."""
    if isinstance(error, TimeoutError):
        return "no answer in time"
    text = str(error).splitlines()[0][:200] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
