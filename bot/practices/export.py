"""Export (CSV, JSON, Markdown in the programme's template) and CSV import of good practices.

Exports stream: practices are read in batches and written as they come, so 100,000 of them never
sit in memory. The Markdown follows the published template: title, city, country, period, topic,
then **Purpose**, **Stimulus/Rationale**, **Process**. Texts are the English version by default
(`lang=original` for the originals, `lang=both` for both, the shape `import` reads back).

Import reads a CSV file (UTF-8, comma, semicolon or tab separated, with a header naming at least
title, city, topic and purpose), checks every row as `/icc practice add` would, imports the good
rows and reports each rejected one with its line and reason. A row imported once is recognised
the next time (same title, city and purpose) and skipped, so a file can be imported again safely.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from sqlmodel import select

from bot.i18n import render
from bot.languages import base_language, language_name, parse_language
from bot.practices.fields import TEXT_FIELDS, check_fields, text_values, topic_name
from storage.db import Database
from storage.models import City, Network, Practice
from storage.models.practices import (
    EN_CORRECTED,
    EN_ORIGINAL,
    EN_PENDING,
    PUBLISHED,
    STATUSES,
    TRANSLATED_FIELDS,
)
from storage.queries import practices as queries
from storage.queries import registry
from storage.slugs import slugify

FORMATS = ("csv", "json", "md")
LANGS = ("en", "original", "both")
COLUMNS = ["id", "title", "city", "country", "network", "topics", "period", "purpose", "rationale", "process",
           "link", "contact", "language", "status", "english", "author", "created_at", "updated_at", "published_at"]
ENGLISH_COLUMNS = [f"{name}_en" for name in TRANSLATED_FIELDS]
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "md": "text/markdown"}

Progress = Callable[[int], None]


def text_of(practice: Practice, name: str, lang: str) -> str:
    """A field in the export's language: English where it exists, else the original."""
    original: str = getattr(practice, name)
    if lang == "original" or name not in TRANSLATED_FIELDS:
        return original
    english = getattr(practice, f"{name}_en")
    return english if english is not None else original


@dataclass
class _Places:
    cities: dict[int, City]
    networks: dict[int, Network]

    def row(self, practice: Practice) -> tuple[str, str, str]:
        city = self.cities.get(practice.city_id)
        network = self.networks.get(city.network_id) if city and city.network_id else None
        return (city.name if city else "", city.country if city else "", network.name if network else "")


def record(practice: Practice, topics: list[str], places: _Places, lang: str) -> dict[str, object]:
    city, country, network = places.row(practice)
    values: dict[str, object] = {
        "id": practice.id, "city": city, "country": country, "network": network, "topics": ",".join(topics),
        "language": practice.language, "status": practice.status, "english": practice.en_state,
        "author": practice.author_name, "created_at": _iso(practice.created_at),
        "updated_at": _iso(practice.updated_at), "published_at": _iso(practice.published_at)}
    for name in TEXT_FIELDS:
        values[name] = text_of(practice, name, "original" if lang == "both" else lang)
    if lang == "both":
        for name in TRANSLATED_FIELDS:
            values[f"{name}_en"] = getattr(practice, f"{name}_en") or ""
    return {name: values[name] for name in columns_for(lang)}


def columns_for(lang: str) -> list[str]:
    return COLUMNS[:10] + (ENGLISH_COLUMNS if lang == "both" else []) + COLUMNS[10:]


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def markdown(practice: Practice, topics: list[str], places: _Places, lang: str) -> str:
    city, country, _network = places.row(practice)

    def text(name: str) -> str:
        return text_of(practice, name, lang) or "—"

    lines = [f"## {text('title')}", "",
             f"- **City:** {city}", f"- **Country:** {country}", f"- **Period:** {text('period')}",
             f"- **Topic:** {', '.join(topic_name(t) for t in topics)}", "",
             "**Purpose**", "", text("purpose"), "",
             "**Stimulus/Rationale**", "", text("rationale"), "",
             "**Process**", "", text("process"), ""]
    if practice.link:
        lines.append(f"Link: {practice.link}  ")
    if practice.contact:
        lines.append(f"Contact: {practice.contact}  ")
    note = f"#{practice.id} · {practice.status} · original in {language_name(practice.language, 'en')}"
    if lang == "en" and practice.en_state == EN_PENDING:
        note += " · English version not made yet: original text"
    lines += [f"_{note}_", "", "---", ""]
    return "\n".join(lines)


async def export_practices(db: Database, filters: queries.Filters, fmt: str, lang: str, out: TextIO, *,
                           progress: Progress | None = None) -> int:
    """Write every practice matching `filters` to `out`; returns how many."""
    if fmt not in FORMATS or lang not in LANGS:
        raise ValueError(f"format {fmt} / lang {lang}")
    async with db.session() as session:
        places = _Places(await queries.city_names(session, [c.id for c in await registry.list_cities(session)
                                                            if c.id is not None]),
                         {n.id: n for n in await registry.list_networks(session) if n.id is not None})
        writer = csv.DictWriter(out, fieldnames=columns_for(lang)) if fmt == "csv" else None
        if writer is not None:
            writer.writeheader()
        elif fmt == "json":
            out.write("[")
        else:
            out.write("# Intercultural Cities: good practices\n\n")
        count = 0
        async for practice, topics in queries.iter_practices(session, filters):
            if writer is not None:
                writer.writerow(record(practice, topics, places, lang))
            elif fmt == "json":
                values = record(practice, topics, places, lang)
                values["topics"] = topics
                out.write(("," if count else "") + "\n  " + json.dumps(values, ensure_ascii=False))
            else:
                out.write(markdown(practice, topics, places, lang))
            count += 1
            if progress is not None:
                progress(count)
        if fmt == "json":
            out.write("\n]\n" if count else "]\n")
    return count


# ---- import ---------------------------------------------------------------------------------

REQUIRED_COLUMNS = ("title", "city", "topic", "purpose")
KNOWN_COLUMNS = set(COLUMNS) | set(ENGLISH_COLUMNS) | {"topic", "country", "network"}


@dataclass
class ImportReport:
    imported: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    problem: str | None = None
    """Why nothing at all could be read (encoding, header)."""
    ignored_columns: list[str] = field(default_factory=list)


def _decode(data: bytes) -> tuple[str | None, str | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        return None, (f"the file is not UTF-8 text (first bad byte on line {line}); nothing was imported. "
                      "Save it as \"CSV UTF-8\" and import it again.")


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Rows with the line each starts on (a quoted field may span lines)."""
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    line = 1
    for row in reader:
        yield line, row
        line = reader.line_num + 1


def import_key(title: str, city_id: int, purpose: str) -> str:
    normal = "\x1f".join((" ".join(title.lower().split()), str(city_id), " ".join(purpose.lower().split())))
    return hashlib.sha256(normal.encode()).hexdigest()


async def import_csv(db: Database, data: bytes, *, now: datetime, dry_run: bool = False) -> ImportReport:
    """Import the rows of a CSV file; `dry_run` checks them all and stores nothing (`imported` then
    holds the lines that would be imported)."""
    report = ImportReport()
    text, problem = _decode(data)
    if text is None:
        report.problem = problem
        return report
    rows = _rows(text)
    try:
        _line, header = next(rows)
    except (StopIteration, csv.Error):
        report.problem = "the file is empty or not CSV; nothing was imported."
        return report
    names = [name.strip().lower().lstrip("\ufeff") for name in header]
    names = ["topic" if name == "topics" else name for name in names]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        report.problem = (f"the header lacks the column(s) {', '.join(missing)} (it has: "
                          f"{', '.join(n for n in names if n)[:200] or 'nothing'}); nothing was imported.")
        return report
    if len(set(names)) != len(names):
        report.problem = "the header names a column twice; nothing was imported."
        return report
    report.ignored_columns = [name for name in names if name and name not in KNOWN_COLUMNS]
    async with db.session() as session:
        cities = {city.slug: city for city in await session.exec(select(City))}
    if not cities:
        report.problem = "the database has no cities yet: load them with `icc-bot seed`; nothing was imported."
        return report
    seen: set[str] = set()
    batch: list[tuple[int, Practice, list[str]]] = []
    try:
        for line, row in rows:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                report.rejected.append((line, f"it has {len(row)} fields, the header has {len(names)}"))
                continue
            outcome = await _practice_from_row(db, dict(zip(names, row, strict=True)), cities, now)
            if isinstance(outcome, str):
                report.rejected.append((line, outcome))
                continue
            practice, topics = outcome
            assert practice.import_key is not None
            if practice.import_key in seen:
                report.skipped.append((line, "the same practice is on an earlier line"))
                continue
            seen.add(practice.import_key)
            batch.append((line, practice, topics))
            if len(batch) >= 500:
                await _store(db, batch, report, dry_run)
                batch = []
    except csv.Error as error:
        report.rejected.append((-1, f"the rest of the file is not readable CSV ({error}); rows before it were "
                                    "imported"))
    await _store(db, batch, report, dry_run)
    return report


async def _practice_from_row(db: Database, row: dict[str, str], cities: dict[str, City],
                             now: datetime) -> tuple[Practice, list[str]] | str:
    checked = check_fields({name: row.get(name, "") for name in (*TEXT_FIELDS, "topic")})
    if not checked.ok:
        return "; ".join(f"{render(message, 'en')}" for message in checked.errors.values())
    city = cities.get(slugify(row["city"])) if row["city"].strip() else None
    if city is None and row["city"].strip():
        async with db.session() as session:
            city = await registry.find_city(session, row["city"])
    if city is None or city.id is None:
        return f"unknown city `{row['city'][:80]}`"
    status = (row.get("status") or PUBLISHED).strip().lower()
    if status not in STATUSES:
        return f"unknown status `{status[:20]}` (use {', '.join(STATUSES)})"
    language = city.language
    if row.get("language", "").strip():
        code = parse_language(row["language"])
        if code is None:
            return f"unknown language `{row['language'][:20]}`"
        language = base_language(code)
    values = checked.values
    english = {name: row.get(f"{name}_en", "").strip() for name in TRANSLATED_FIELDS}
    if language == "en":
        en_state = EN_ORIGINAL
    elif english["title"] and english["purpose"]:
        en_state = EN_CORRECTED  # the programme's own English, as published
    else:
        en_state = EN_PENDING
    practice = Practice(**text_values(values), city_id=city.id,
                        language=language, status=status, author_name=row.get("author", "").strip()[:200],
                        created_at=now, updated_at=now, submitted_at=now,
                        published_at=now if status == PUBLISHED else None, announced_at=now,
                        en_state=en_state, en_retry_at=now if en_state == EN_PENDING else None,
                        import_key=import_key(str(values["title"]), city.id, str(values["purpose"])))
    if en_state == EN_CORRECTED:
        for name in TRANSLATED_FIELDS:
            setattr(practice, f"{name}_en", english[name] or getattr(practice, name))
    topics = values["topic"]
    assert isinstance(topics, list)
    return practice, topics


async def _store(db: Database, batch: list[tuple[int, Practice, list[str]]], report: ImportReport,
                 dry_run: bool) -> None:
    if not batch:
        return
    async with db.session() as session:
        for line, practice, topics in batch:  # one transaction per batch: a failure keeps earlier batches
            assert practice.import_key is not None
            if await queries.import_key_exists(session, practice.import_key):
                report.skipped.append((line, "imported before"))
                continue
            if dry_run:
                report.imported.append(line)
                continue
            await queries.add_practice(session, practice, topics)
            assert practice.id is not None
            report.imported.append(practice.id)
