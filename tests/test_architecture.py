"""The shape of the code: the core never depends on a platform library."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_LIBRARIES = {"slack_bolt", "slack_sdk", "discord", "aiohttp"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def core_files() -> list[Path]:
    return [path for path in (ROOT / "bot").rglob("*.py") if "platforms" not in path.parts] + \
        list((ROOT / "storage").rglob("*.py"))


def test_core_handlers_jobs_and_storage_never_import_a_platform_library() -> None:
    offenders = {str(path.relative_to(ROOT)): sorted(imported_modules(path) & PLATFORM_LIBRARIES)
                 for path in core_files() if imported_modules(path) & PLATFORM_LIBRARIES}
    assert offenders == {}


def test_handlers_and_jobs_never_import_an_adapter() -> None:
    for folder in ("handlers", "jobs"):
        for path in (ROOT / "bot" / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            assert "bot.platforms" not in source, path
