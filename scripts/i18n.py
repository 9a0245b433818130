"""Keep the catalogs in step with the code.

    python scripts/i18n.py          extract messages into translations/icc.pot and merge them into
                                    every catalog (English msgstrs are filled from the msgids)
    python scripts/i18n.py --check  list what a catalog lacks; exit 1 when anything is missing
    python scripts/i18n.py --init de    start a catalog for a new language
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "translations"
SOURCES = ("bot", "storage")
KEYWORDS = {"_": None, "_n": (1, 2)}
METHOD_MAP = [("**.py", "python")]
DOMAIN = "icc"


def extract() -> Catalog:
    template = Catalog(project="icc-bot", domain=DOMAIN, charset="utf-8")
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / source, METHOD_MAP, keywords=KEYWORDS, comment_tags=("i18n:",), strip_comment_tags=True):
            template.add(message, None, [(f"{source}/{filename}", lineno)], auto_comments=comments,
                         context=context)
    return template


def catalog_path(locale: str) -> Path:
    return CATALOGS / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def locales() -> list[str]:
    return sorted(p.name for p in CATALOGS.iterdir() if (p / "LC_MESSAGES" / f"{DOMAIN}.po").is_file())


def update(template: Catalog) -> None:
    with (CATALOGS / f"{DOMAIN}.pot").open("wb") as handle:
        write_po(handle, template, width=100, omit_header=False, sort_output=False)
    for locale in locales():
        path = catalog_path(locale)
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale, domain=DOMAIN)
        # A copy: Catalog.update adds the template's own Message objects, so filling English
        # msgstrs below would otherwise leak into the next locale's catalog as "translations".
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        if locale == "en":
            for message in catalog:
                if message.id and not _translated(message.string):
                    message.string = message.id
                    message.flags.discard("fuzzy")
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, ignore_obsolete=True)


def _translated(string: object) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


def missing(locale: str, template: Catalog) -> list[str]:
    with catalog_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    problems = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id)
        if found is None or not _translated(found.string) or found.fuzzy:
            key = message.id if isinstance(message.id, str) else message.id[0]
            problems.append(key)
    return problems


def init(locale: str, template: Catalog) -> None:
    path = catalog_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(locale=locale, domain=DOMAIN, project="icc-bot", charset="utf-8")
    catalog.update(template)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--init", metavar="LANG")
    args = parser.parse_args()
    template = extract()
    if args.init:
        init(args.init, template)
    if args.check:
        failed = False
        for locale in locales():
            lacking = missing(locale, template)
            for msgid in lacking:
                print(f"{locale}: missing {msgid!r}")
            failed |= bool(lacking)
        return 1 if failed else 0
    update(template)
    print(f"{len(template)} messages; catalogs: {', '.join(locales())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
