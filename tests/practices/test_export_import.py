"""Export (CSV, JSON, Markdown in the template's shape) and CSV import with a report per rejected
row, on both databases; and the `icc-bot practices` command line with its progress bar."""

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from bot.practices.export import export_practices, import_csv
from storage.db import Database
from storage.queries import practices as queries
from tests.test_cli import icc_bot

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
GOOD = ('title,city,topics,period,purpose,rationale,process,language,status,title_en,purpose_en\n'
        'Agents anti-rumeurs,Lyon,"anti-rumours, education",Depuis 2015,Former des habitants.,Des rumeurs.,'
        'Ateliers.,fr,published,Anti-rumour agents,Training residents.\n'
        'Open schools,Manchester,education,2019,Schools open to the neighbourhood.,,,en,submitted,,\n')


async def _export(db: Database, fmt: str, lang: str = "en", statuses: tuple[str, ...] = ("published",
                                                                                          "submitted")) -> str:
    out = io.StringIO()
    await export_practices(db, queries.Filters(statuses=statuses), fmt, lang, out)
    return out.getvalue()


async def test_import_then_export_in_every_format(demo_database_url: str) -> None:
    db = Database(demo_database_url)
    report = await import_csv(db, GOOD.encode(), now=NOW)
    assert report.problem is None and report.rejected == [] and len(report.imported) == 2
    rows = list(csv.DictReader(io.StringIO(await _export(db, "csv"))))
    assert [row["title"] for row in rows] == ["Anti-rumour agents", "Open schools"]
    assert rows[0]["topics"] == "anti-rumours,education" and rows[0]["country"] == "France"
    assert rows[0]["english"] == "corrected" and rows[1]["english"] == "original"
    original = list(csv.DictReader(io.StringIO(await _export(db, "csv", "original"))))
    assert original[0]["title"] == "Agents anti-rumeurs"
    both = json.loads(await _export(db, "json", "both"))
    assert both[0]["title"] == "Agents anti-rumeurs" and both[0]["title_en"] == "Anti-rumour agents"
    assert both[0]["topics"] == ["anti-rumours", "education"]
    markdown = await _export(db, "md", statuses=("published",))
    assert "## Anti-rumour agents" in markdown and "Open schools" not in markdown
    lines = markdown.splitlines()
    order = [lines.index(line) for line in ("- **City:** Lyon", "- **Country:** France", "- **Period:** Depuis 2015",
                                            "- **Topic:** Anti-rumours, Education", "**Purpose**",
                                            "**Stimulus/Rationale**", "**Process**")]
    assert order == sorted(order)
    assert json.loads(await _export(db, "json", statuses=("draft",))) == []
    await db.dispose()


async def test_import_reports_each_bad_row_imports_the_rest_and_is_idempotent(demo_database_url: str) -> None:
    db = Database(demo_database_url)
    long_purpose = "x" * 10_000
    data = (GOOD + f'Too long,Lyon,education,2020,{long_purpose},,,fr,published,,\n'
            'Bad topic,Lyon,astrology,2020,Purpose.,,,fr,published,,\n'
            ',Lyon,education,2020,No title.,,,fr,published,,\n'
            'Nowhere,Atlantis,education,2020,Purpose.,,,fr,published,,\n'
            'Short row,Lyon\n'
            'Bad status,Lyon,education,2020,Purpose.,,,fr,archived,,\n'
            '"Multi\nline title",Lyon,education,2020,Purpose.,,,fr,published,,\n'
            'Agents anti-rumeurs,Lyon,anti-rumours,Depuis 2015,Former des habitants.,,,fr,published,,\n')
    report = await import_csv(db, data.encode(), now=NOW)
    assert len(report.imported) == 3
    reasons = dict(report.rejected)
    assert "10000 characters" in reasons[4]
    assert "`astrology`" in reasons[5]
    assert "`title` is empty" in reasons[6]
    assert "unknown city `Atlantis`" in reasons[7]
    assert reasons[8] == "it has 2 fields, the header has 11"
    assert "unknown status `archived`" in reasons[9]
    assert report.skipped == [(12, "the same practice is on an earlier line")]
    again = await import_csv(db, data.encode(), now=NOW)
    assert again.imported == [] and len(again.skipped) == 4 and len(again.rejected) == 6
    async with db.session() as session:
        assert await queries.count_practices(session, queries.Filters(all_drafts=True)) == 3
    await db.dispose()


async def test_unreadable_files_import_nothing(sqlite_demo_url: str) -> None:
    db = Database(sqlite_demo_url)
    latin1 = GOOD.replace("Depuis", "Été").encode("latin-1")
    report = await import_csv(db, latin1, now=NOW)
    assert report.problem is not None and "not UTF-8" in report.problem and "line 2" in report.problem
    header = await import_csv(db, b"name;town\nx;y\n", now=NOW)
    assert header.problem is not None and "title, city, topic, purpose" in header.problem
    assert (await import_csv(db, b"", now=NOW)).problem is not None
    semicolons = await import_csv(db, GOOD.replace(",", ";").replace('"anti-rumours; education"',
                                                                      '"anti-rumours, education"').encode(), now=NOW)
    assert len(semicolons.imported) == 2, semicolons.rejected
    async with db.session() as session:
        assert await queries.count_practices(session, queries.Filters(all_drafts=True)) == 2
    await db.dispose()


def test_command_line_import_and_export_with_a_progress_bar(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}"}
    assert icc_bot("seed", env=env, cwd=tmp_path).returncode == 0
    source = tmp_path / "old.csv"
    source.write_text(GOOD + "Bad topic,Lyon,astrology,2020,Purpose.,,,fr,published,,\n", encoding="utf-8")
    imported = icc_bot("practices", "import", str(source), env=env, cwd=tmp_path)
    assert imported.returncode == 1
    assert "line 4: rejected: Unknown topic: `astrology`." in imported.stdout
    assert "imported 2, skipped 0, rejected 1" in imported.stdout
    again = icc_bot("practices", "import", str(source), env=env, cwd=tmp_path)
    assert "imported 0, skipped 2, rejected 1" in again.stdout
    output = tmp_path / "practices.md"
    exported = icc_bot("practices", "export", "--format", "md", "--status", "all", "--output", str(output),
                       "--progress", env=env, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "[##############################] 100% 2/2" in exported.stderr
    assert "exported 2 practices (md, texts: en)" in exported.stderr
    assert "## Anti-rumour agents" in output.read_text(encoding="utf-8")
    as_csv = icc_bot("practices", "export", "--format", "csv", env=env, cwd=tmp_path)
    assert as_csv.stdout.startswith("id,title,city,country,network,topics,period,purpose")
    missing = icc_bot("practices", "import", str(tmp_path / "nope.csv"), env=env, cwd=tmp_path)
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
