"""The bot's own words: gettext catalogs, one per language (`<lang>/LC_MESSAGES/icc.po`).

`python scripts/i18n.py` extracts the messages from the code into `icc.pot` and merges them
into each catalog; translators fill in the `msgstr`s; the bot compiles the catalogs at start.
"""
