"""Fill a catalog's msgstrs from a JSON file of {msgid: translation} (plurals: msgid of the
singular → [singular, plural]). Used to add translations in bulk:

    python scripts/fill_catalog.py fr translations-fr.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent


def fill(locale: str, translations: dict[str, str | list[str]]) -> tuple[int, list[str]]:
    path = ROOT / "translations" / locale / "LC_MESSAGES" / "icc.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain="icc")
    filled, unknown = 0, []
    for msgid, text in translations.items():
        message = next((m for m in catalog if (m.id[0] if isinstance(m.id, tuple) else m.id) == msgid), None)
        if message is None:
            unknown.append(msgid)
            continue
        message.string = tuple(text) if isinstance(message.id, tuple) else text
        message.flags.discard("fuzzy")
        filled += 1
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, ignore_obsolete=True)
    return filled, unknown


if __name__ == "__main__":
    locale, source = sys.argv[1], Path(sys.argv[2])
    count, unknown = fill(locale, json.loads(source.read_text(encoding="utf-8")))
    print(f"{count} filled in {locale}")
    for msgid in unknown:
        print(f"not in the catalog: {msgid!r}")
