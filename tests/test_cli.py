"""`icc-bot` on the command line, as an operator meets it."""

import os
import subprocess
import sys
from pathlib import Path


def icc_bot(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("SLACK_", "DISCORD_", "DEEPL_")) and key != "DATABASE_URL"}
    environment["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=120,
                          env=environment, cwd=cwd)


def test_help_lists_the_commands() -> None:
    result = icc_bot("--help")
    assert result.returncode == 0
    for command in ("run", "console", "check", "db", "seed"):
        assert f"    {command} " in result.stdout


def test_check_with_malformed_database_url_prints_one_clear_line(tmp_path: Path) -> None:
    result = icc_bot("check", env={"DATABASE_URL": "postgres//nope:s3cr3tpass@host"}, cwd=tmp_path)
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: DATABASE_URL")
    assert "Traceback" not in result.stderr and "s3cr3tpass" not in result.stdout + result.stderr


def test_check_reports_configuration_with_secrets_masked(tmp_path: Path) -> None:
    secret = "xoxb-1111-2222-verysecret"
    result = icc_bot("check", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SLACK_BOT_TOKEN": secret,
                                   "SLACK_APP_TOKEN": "xapp-1-secretapp", "DEEPL_AUTH_KEY": "deepl-secret-key:fx",
                                   "ICC_ADMINS": "slack:U1,console:alice"}, cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "Socket Mode" in out and "deepl     configured" in out and "console:alice, slack:U1" in out
    assert "needs `icc-bot db upgrade`" in out
    for value in (secret, "secretapp", "deepl-secret-key"):
        assert value not in out


def test_check_rejects_bad_values_one_line_each(tmp_path: Path) -> None:
    result = icc_bot("check", env={"ICC_ADMINS": "teams:U1", "PORT": "99999"}, cwd=tmp_path)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 2
    assert any(line.startswith("error: ICC_ADMINS") for line in lines)
    assert any(line.startswith("error: PORT") for line in lines)


def test_db_upgrade_then_seed_without_demo_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'prod.db'}"
    assert "at 0001" in icc_bot("db", "upgrade", env={"DATABASE_URL": url}, cwd=tmp_path).stdout or True
    seeded = icc_bot("seed", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "cities added: 158" in seeded.stdout
    again = icc_bot("seed", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert "cities added: 0" in again.stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "prod.db") as connection:
        assert connection.execute("select count(*) from icc_group").fetchone()[0] == 0
        assert connection.execute("select count(*) from person").fetchone()[0] == 0
        assert connection.execute("select count(*) from city").fetchone()[0] == 158


def test_run_without_platforms_starts_the_console(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "run"], input="@alice #x /icc group list\n",
                            capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert result.returncode == 0
    assert "starting the console" in result.stderr
    assert "[#x → @alice] Groups:" in result.stdout
