"""`icc-bot deadlines status <id> --csv`: the status as a file for the ICC team."""

import csv
import io
from pathlib import Path

from tests.harness import ConsoleHarness
from tests.test_cli import icc_bot


async def test_status_csv_on_the_command_line(sqlite_demo_url: str, tmp_path: Path) -> None:
    h = await ConsoleHarness.start(sqlite_demo_url)
    await h.say('@alice #x /icc deadline add title="Report" due=2027-02-01 audience=network:icc-ua',
                "@olena #x /icc deadline done 1")
    await h.stop()
    result = icc_bot("deadlines", "status", "1", "--csv", env={"DATABASE_URL": sqlite_demo_url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 6 and {row["network"] for row in rows} == {"ICC-UA"}
    odesa = next(row for row in rows if row["city"] == "Odesa")
    assert odesa["answered"] == "yes" and odesa["answered_by"] == "Olena Kovalenko"
    missing = icc_bot("deadlines", "status", "9", env={"DATABASE_URL": sqlite_demo_url}, cwd=tmp_path)
    assert missing.returncode == 1 and "no deadline #9" in missing.stderr and "Traceback" not in missing.stderr
