"""The console as a newcomer uses it: `icc-bot console` with a script on stdin."""

import os
import subprocess
import sys
from pathlib import Path

from tests.harness import ConsoleHarness

NEWCOMER_SCRIPT = """\
# an ICC-team member sets up a group with three channels in three languages
@alice #lobby /icc group create "Intercultural schools" kind=thematic topic=education
@alice #schools-en /icc group link intercultural-schools lang=en
@alice #ecoles-fr /icc group link intercultural-schools lang=fr
@alice #shkoly-uk /icc group link intercultural-schools lang=uk
@marie #lobby /icc city register Strasbourg
@olena #lobby /icc city register Odesa
@alice #lobby /icc group list
@sam #lobby /icc nonsense
@marie #lobby /icc group create sneaky
@alice #lobby /icc group list
"""


def run_console(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "console", *args], input=script, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(Path.cwd())})


def test_newcomer_script_end_to_end(tmp_path: Path) -> None:
    result = run_console(NEWCOMER_SCRIPT)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    out = result.stdout
    assert "[#lobby → @alice] Group `intercultural-schools` created (thematic)." in out
    assert "[#shkoly-uk] ICC bot: This channel is now part of `intercultural-schools`, in Ukrainian (uk)." in out
    assert "[#lobby → @marie] Vous êtes maintenant enregistré·e comme coordinateur·rice de Strasbourg." in out
    assert "[#lobby → @sam] I don't know the command `nonsense`." in out and "`/icc group`" in out
    assert "[#lobby → @marie] Seule l'équipe ICC peut faire cela." in out
    listings = [block for block in out.split("[#lobby → @alice] Groups:")[1:]]
    assert len(listings) == 2
    first, second = (block.split("\n[")[0].strip() for block in listings)
    assert first == second and "sneaky" not in second
    assert "3 channels" in next(line for line in first.splitlines() if "intercultural-schools" in line)


def test_script_output_is_one_entry_per_action_and_ends_by_itself() -> None:
    result = run_console("@alice #x /icc group list\n!clock +1d\n")
    entries = [line for line in result.stdout.splitlines() if not line.startswith("    ")]
    assert entries[0] == "[#x → @alice] Groups:"
    assert entries[1].startswith("[console] clock: ")
    assert len(entries) == 2 and result.returncode == 0


def test_console_database_never_touches_the_configured_one(tmp_path: Path) -> None:
    production = tmp_path / "production.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{production}", "PYTHONPATH": str(Path.cwd())}
    subprocess.run([sys.executable, "-m", "bot", "console"], input="@alice #x /icc group list\n", text=True,
                   capture_output=True, env=env, timeout=120, check=True)
    assert not production.exists()


async def test_malformed_lines_are_explained(sqlite_console: ConsoleHarness) -> None:
    assert (await sqlite_console.say("hello"))[0].startswith("[console] write lines like")
    assert (await sqlite_console.say("@alice hello"))[0] == "[console] name a channel: @person #channel text"
    assert (await sqlite_console.say("!frobnicate"))[0].startswith("[console] unknown directive !frobnicate")
    assert "takes +<duration>" in (await sqlite_console.say("!clock tomorrow"))[0]
    assert await sqlite_console.say("# a comment", "   ") == []


async def test_clock_moves_forward_only(sqlite_console: ConsoleHarness) -> None:
    assert await sqlite_console.say("!clock +2d3h") == ["[console] clock: 2027-01-13 11:00 UTC (Wednesday)"]
    assert await sqlite_console.say("!clock 2027-02-01T09:30Z") == ["[console] clock: 2027-02-01 09:30 UTC (Monday)"]
    assert await sqlite_console.say("!clock 2026-01-01T00:00Z") == ["[console] the clock only moves forward"]


async def test_commands_outside_a_channel_answer_by_dm(sqlite_console: ConsoleHarness) -> None:
    answer = await sqlite_console.reply("@tom /icc city show Manchester")
    assert answer.startswith("[@tom] Manchester (United Kingdom)")
