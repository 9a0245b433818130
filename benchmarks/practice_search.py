"""Good-practice search at scale: 100,000 generated practices in eight languages, each with its
English version, on SQLite and on PostgreSQL.

Prints, per database: the time to load them, search latency p50/p95/p99/max over a few hundred
varied queries (each run three times, every run counted; one to three words, in the practice's
language or another one, with and without topic/city/network filters, prefixes, some matching
nothing and some matching a good part of the database), and the time to store one practice
through the service (checks, city, storing, index; no DeepL call: translation is off). Exits 1
when a search p99 is 25 ms or more.

    .venv/bin/python benchmarks/practice_search.py [--count 100000] [--queries 400]
        [--postgres postgresql://postgres@127.0.0.1:5432/test] [--sqlite-only] [--keep DIR]

PostgreSQL: `--postgres URL` or ICC_TEST_POSTGRES_URL names a server; the benchmark creates its
own database there and drops it at the end.

How the texts are made: each language has a vocabulary of 5,000 words (made of its own
syllables and letters) standing for the same 5,000 concepts, and its real stop words. A practice
is a sequence of concepts drawn with Zipf-like frequencies (the commonest content word is in
nearly every practice, the 100th in about a quarter, the 1,000th in a few per cent), written in
its language, with its English version written from the same concepts, as the translation would
be. Lengths: title 5-12 words, purpose 40-90, rationale 30-80, process 80-180.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bot.topics import all_topics  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import City, Practice, PracticeTopic  # noqa: E402
from storage.queries import practices as queries  # noqa: E402

BOUND_MS = 25.0
# Each query runs this many times, and every run counts in the percentiles (the second and third
# runs find the server's caches as warm as a busy bot's would be).
RUNS = 3
CONCEPTS = 5000
LANGUAGES = {
    "en": ("th er an in on at en es ed or ing al it is ar st to nt ng se ha as ou io le ve co me de hi ri ro ic ne "
           "ea ra ce li ch ll be ma si om ur", "the of and to in for with on by as is are this that from our we"),
    "fr": ("le de ré en on an ou té ti ai eu in es ment ion eur el ur it ch qu ain er au ère ée oi is ge ve pa po ma "
           "ca la ri ne co mi", "le la les de des du et en un une pour dans par sur avec est qui que au aux"),
    "es": ("de la en el os as ar er ción ue ra es ta do co mo pa po ca ri ne ie io ma ti lo ro ci so da ga ñ te "
           "bi", "el la los las de del y en con por para una un que se al es"),
    "it": ("de la to ta re ri ni zio ne co mo pa po ca gli lo ra ti si in on en ia ma ci so da ga ve te bi li "
           "tà", "il lo la gli i di da della delle dei con per una un nel che è"),
    "de": ("en er ch de ge ung ein ei ie te st sch be ver au ig an in un ne le re ra ke lich keit heit ß ü ö "
           "ä", "der die das und den dem des ein eine mit für von zu im ist auf"),
    "pt": ("de ão os as ar er ção ra ta do co mo pa po ca ri ne ma ti lo ro ci so da ga ã õ te bi nh lh",
           "o os a as de do da dos das e em no na um uma com para por que é"),
    "uk": ("на ні ко ро по ра та ть ли ка ні ва ле ст пр ми де ти ві ін то ль ся ння ці ди ку ма на зо",
           "і та в на з до що це як від для"),
    "nl": ("en er de ge ij ie aa oo ee st ver be ond ing lijk heid sch ch te re ra ke ne le an in on",
           "de het een en van met voor op is te in"),
}


def make_vocabulary(syllables: list[str], rng: random.Random) -> list[str]:
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < CONCEPTS:
        word = "".join(rng.choice(syllables) for _ in range(rng.choice((2, 3, 3, 4))))
        if word not in seen and len(word) > 3:
            seen.add(word)
            words.append(word)
    return words


@dataclass
class Corpus:
    vocabularies: dict[str, list[str]]
    stopwords: dict[str, list[str]]
    weights: list[float]
    rng: random.Random

    @classmethod
    def make(cls, seed: int = 7) -> Corpus:
        rng = random.Random(seed)
        vocabularies = {lang: make_vocabulary(sylls.split(), rng) for lang, (sylls, _stop) in LANGUAGES.items()}
        stopwords = {lang: stop.split() for lang, (_sylls, stop) in LANGUAGES.items()}
        weights = [1.0 / (rank + 1) for rank in range(CONCEPTS)]
        cumulative, total = [], 0.0
        for weight in weights:
            total += weight
            cumulative.append(total)
        return cls(vocabularies, stopwords, cumulative, rng)

    def concepts(self, count: int) -> list[int]:
        return self.rng.choices(range(CONCEPTS), cum_weights=self.weights, k=count)

    def write(self, concepts: list[int], lang: str) -> str:
        words, stop = self.vocabularies[lang], self.stopwords[lang]
        out = []
        for index, concept in enumerate(concepts):
            out.append(words[concept])
            if index % 2 == 1:
                out.append(self.rng.choice(stop))  # about a third of the words are stop words
        return " ".join(out)


FIELDS = {"title": (5, 12), "purpose": (40, 90), "rationale": (30, 80), "process": (80, 180)}


def generate(corpus: Corpus, count: int, city_ids: list[int], networks: dict[int, int | None], topics: list[str],
             now: datetime) -> tuple[list[dict[str, object]], list[dict[str, object]], list[dict[str, object]]]:
    rng = corpus.rng
    languages = list(LANGUAGES)
    rows, topic_rows, truth = [], [], []
    for practice_id in range(1, count + 1):
        lang = rng.choice(languages)
        city_id = rng.choice(city_ids)
        row: dict[str, object] = {"id": practice_id, "city_id": city_id, "network_id": networks[city_id],
                                  "language": lang,
                                  "period": f"{rng.randint(2005, 2022)}-{rng.randint(2023, 2026)}",
                                  "status": rng.choice(("published", "published", "submitted")), "link": "",
                                  "contact": "", "en_state": "original" if lang == "en" else "machine",
                                  "en_attempts": 0, "author_name": "", "created_at": now, "updated_at": now,
                                  "review_note": "", "announced_at": now}
        concepts_of: dict[str, list[int]] = {}
        for name, (low, high) in FIELDS.items():
            concepts = corpus.concepts(rng.randint(low, high))
            concepts_of[name] = concepts
            row[name] = corpus.write(concepts, lang)
            row[f"{name}_en"] = None if lang == "en" else corpus.write(concepts, "en")
        row["period_en"] = None if lang == "en" else row["period"]
        rows.append(row)
        chosen = rng.sample(topics, rng.choice((1, 1, 2, 3)))
        row["topics"] = " ".join(chosen)
        for topic in chosen:
            topic_rows.append({"practice_id": practice_id, "topic": topic})
        truth.append({"lang": lang, "concepts": concepts_of, "city_id": row["city_id"]})
    return rows, topic_rows, truth


def make_queries(corpus: Corpus, truth: list[dict[str, object]], count: int, topics: list[str],
                 networks: dict[int, int]) -> list[tuple[list[list[str]], queries.Filters, str]]:
    """(word groups as the service builds them: as typed, and in English; filters; a label)."""
    rng = random.Random(11)
    made = []
    languages = list(LANGUAGES)
    for index in range(count):
        kind = index % 10
        doc = rng.choice(truth)
        concepts_of: dict[str, list[int]] = doc["concepts"]  # type: ignore[assignment]
        pool = sorted(set(concepts_of["title"] + concepts_of["purpose"] + concepts_of["process"]))
        if kind == 0:   # broad: one of the 20 commonest words
            chosen = [rng.randrange(20)]
        elif kind == 1:  # nothing matches: rare words that never meet
            chosen = [rng.randrange(4000, CONCEPTS) for _ in range(3)]
        else:
            chosen = rng.sample(pool, min(len(pool), rng.choice((1, 2, 2, 3))))
        lang = rng.choice((doc["lang"], rng.choice(languages)))  # type: ignore[arg-type]
        typed = [corpus.vocabularies[str(lang)][c] for c in chosen]
        if kind == 2:  # typing ahead: the last word cut short
            typed[-1] = typed[-1][:max(4, len(typed[-1]) - 2)]
        english = [corpus.vocabularies["en"][c] for c in chosen]
        groups = [typed] + ([english] if lang != "en" else [])
        filters = queries.Filters()
        label = "plain"
        if kind in (3, 6):
            filters, label = queries.Filters(topic=rng.choice(topics)), "topic"
        elif kind == 4:
            filters, label = queries.Filters(city_id=int(doc["city_id"])), "city"  # type: ignore[call-overload]
        elif kind == 5:
            filters, label = queries.Filters(network_id=networks[int(doc["city_id"])]), "network"  # type: ignore[call-overload]
        made.append((groups, filters, label if kind not in (0, 1) else ("broad" if kind == 0 else "no-match")))
    return made


async def load(url: str, count: int, corpus: Corpus) -> tuple[float, list[dict[str, object]], list[str],
                                                                  dict[int, int], list[int]]:
    from bot.demo import cities_file
    from storage.seed import read_cities, seed_cities

    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    async with db.session() as session:
        await seed_cities(session, read_cities(cities_file()))
    async with db.session() as session:
        cities = list(await session.exec(__import__("sqlmodel").select(City)))
    await db.dispose()
    city_ids = [c.id for c in cities if c.id is not None]
    networks = {c.id: c.network_id for c in cities if c.id is not None}
    topics = [topic.slug for topic in all_topics()]
    rows, topic_rows, truth = generate(corpus, count, city_ids, networks, topics, datetime.now(UTC))
    from storage.db import sync_url

    engine = create_engine(sync_url(url), poolclass=NullPool)
    started = time.perf_counter()
    with engine.begin() as connection:
        for start in range(0, len(rows), 2000):
            connection.execute(insert(Practice.__table__), rows[start:start + 2000])  # type: ignore[attr-defined]
        for start in range(0, len(topic_rows), 5000):
            connection.execute(insert(PracticeTopic.__table__), topic_rows[start:start + 5000])  # type: ignore[attr-defined]
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT setval('practice_id_seq', (SELECT max(id) FROM practice))"))
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text("VACUUM ANALYZE"))
            # Measure a server at rest, not one still writing out the bulk load.
            autocommit.execute(text("CHECKPOINT"))
        else:
            connection.execute(text("ANALYZE"))
            connection.execute(text("INSERT INTO practice_fts(practice_fts) VALUES ('optimize')"))
            connection.commit()
    engine.dispose()
    return time.perf_counter() - started, truth, topics, networks, city_ids


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure_search(url: str, made: list[tuple[list[list[str]], queries.Filters, str]]) -> dict[str, object]:
    db = Database(url)
    timings: list[float] = []
    by_label: dict[str, list[float]] = {}
    found = 0
    async with db.session() as session:  # warm the connection and caches as a running bot has them
        for groups, filters, _label in made[:20]:
            await queries.search(session, groups, filters)
    for groups, filters, label in made:
        runs = []
        for _run in range(RUNS):
            async with db.session() as session:
                started = time.perf_counter()
                result = await queries.search(session, groups, filters, limit=8)
                if not result.hits and any(len(group) > 1 for group in groups):
                    result = await queries.search(session, groups, filters, limit=8, every_word=False)
                hits = result.hits
                ids = [hit.practice_id for hit in hits]
                await queries.practices_by_ids(session, ids)
                await queries.topics_of(session, ids)
                runs.append((time.perf_counter() - started) * 1000)
        found += bool(hits)
        # Every search counts: a user waits for each one, a median of runs would hide the tail.
        timings += runs
        by_label.setdefault(label, []).extend(runs)
    await db.dispose()
    return {"timings": timings, "by_label": by_label, "found": found}


async def measure_store(url: str, samples: int, corpus: Corpus) -> list[float]:
    from bot.app import create_bot
    from bot.events import Author, PersonRef
    from bot.practices import service
    from bot.settings import Settings

    bot = await create_bot(Settings(_env_file=None, database_url=url, icc_admins="console:bench"),  # type: ignore[call-arg]
                           database_url=url, migrate=False)
    ix = await bot.interaction(Author(PersonRef("console", "local", "bench"), "Bench"), None)
    timings = []
    rng = corpus.rng
    for index in range(samples):
        raw = {"title": corpus.write(corpus.concepts(8), "fr"), "city": "Lyon",
               "topic": "anti-rumours,education", "purpose": corpus.write(corpus.concepts(60), "fr"),
               "process": corpus.write(corpus.concepts(120), "fr"), "period": f"{2000 + index % 25}",
               "lang": "fr"}
        rng.random()
        started = time.perf_counter()
        await service.add_practice(ix, raw)
        timings.append((time.perf_counter() - started) * 1000)
        await bot.wait_idle()
    await bot.stop()
    await bot.db.dispose()
    return timings


def report(name: str, loaded: float, count: int, result: dict[str, object], store: list[float]) -> bool:
    timings: list[float] = result["timings"]  # type: ignore[assignment]
    p99 = percentile(timings, 0.99)
    took = "reused from an earlier run" if loaded != loaded else f"loaded (with index) in {loaded:.1f} s"
    print(f"\n== {name}: {count:,} practices {took}")
    print(f"search: {len(timings) // RUNS} queries, each run {RUNS} times ({result['found']} found something), "
          f"{len(timings)} searches: "
          f"p50 {percentile(timings, 0.5):.2f} ms · p95 {percentile(timings, 0.95):.2f} ms · "
          f"p99 {p99:.2f} ms · max {max(timings):.2f} ms   (bound: p99 < {BOUND_MS:.0f} ms)")
    by_label: dict[str, list[float]] = result["by_label"]  # type: ignore[assignment]
    for label, values in sorted(by_label.items()):
        print(f"  {label:<9} n={len(values):<4} p50 {percentile(values, 0.5):6.2f} ms · "
              f"p99 {percentile(values, 0.99):6.2f} ms")
    print(f"store one practice (service, no DeepL) over {len(store)}: p50 {statistics.median(store):.2f} ms · "
          f"p99 {percentile(store, 0.99):.2f} ms")
    ok = p99 < BOUND_MS
    print("OK" if ok else f"MISSED: p99 {p99:.2f} ms ≥ {BOUND_MS:.0f} ms")
    return ok


async def existing(url: str) -> int:
    """Practices already in a kept database (0 when it is new)."""
    db = Database(url)
    try:
        async with db.session() as session:
            row = (await session.exec(text("SELECT count(*) FROM practice"))).first()  # type: ignore[call-overload]
            return int(row[0]) if row else 0
    except Exception:
        return 0
    finally:
        await db.dispose()


async def run_one(name: str, url: str, args: argparse.Namespace) -> bool:
    corpus = Corpus.make()
    if args.reuse and await existing(url) >= args.count:
        # A kept database from an earlier run: the same seed makes the same texts, so the queries
        # match what is stored; only the loading is skipped.
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        async with db.session() as session:
            cities = list(await session.exec(__import__("sqlmodel").select(City)))
        await db.dispose()
        city_ids = [c.id for c in cities if c.id is not None]
        networks = {c.id: c.network_id for c in cities if c.id is not None}
        topics = [topic.slug for topic in all_topics()]
        _rows, _topic_rows, truth = generate(corpus, args.count, city_ids, networks, topics, datetime.now(UTC))
        loaded = float("nan")
    else:
        loaded, truth, topics, networks, _cities = await load(url, args.count, corpus)
    made = make_queries(corpus, truth, args.queries, topics, networks)
    result = await measure_search(url, made)
    store = await measure_store(url, args.store_samples, corpus)
    return report(name, loaded, args.count, result, store)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--store-samples", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("ICC_TEST_POSTGRES_URL"))
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the SQLite file in this folder")
    parser.add_argument("--postgres-database", help="use (and keep) this database on the server instead of a "
                        "throw-away one")
    parser.add_argument("--reuse", action="store_true", help="with --keep / --postgres-database: measure a "
                        "database an earlier run loaded, without loading it again")
    args = parser.parse_args()
    ok = True
    if not args.postgres_only:
        with tempfile.TemporaryDirectory(prefix="icc-bench-") as scratch:
            folder = args.keep or Path(scratch)
            path = folder / "practices.db"
            if not args.reuse:
                path.unlink(missing_ok=True)
            ok &= asyncio.run(run_one("SQLite (FTS5)", f"sqlite:///{path}", args))
    if not args.sqlite_only:
        if not args.postgres:
            print("\nPostgreSQL: skipped (give --postgres URL or set ICC_TEST_POSTGRES_URL)")
        else:
            ok &= run_postgres(args)
    return 0 if ok else 1


def run_postgres(args: argparse.Namespace) -> bool:
    base = args.postgres.replace("postgresql://", "postgresql+psycopg://", 1)
    admin_url, _sep, _name = base.rpartition("/")
    name = args.postgres_database or f"icc_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{admin_url}/postgres", poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        there = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if there and not args.reuse:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        if not there or not args.reuse:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return asyncio.run(run_one("PostgreSQL (tsvector + GIN)", f"{admin_url}/{name}", args))
    finally:
        if not args.postgres_database:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
