"""Logging that never shows a secret: a filter masks every configured secret and anything that
looks like a Slack or DeepL token in every record, arguments and tracebacks included."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

_TOKEN_PATTERNS = re.compile(
    r"xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+"  # Slack bot, user and app tokens
    r"|[A-Za-z0-9_-]{24,28}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}"  # Discord bot tokens
    r"|DeepL-Auth-Key\s+\S+"
    r"|(?<=://)[^:/@\s]+:[^@/\s]+(?=@)"  # user:password@ in URLs
)


class SecretFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted(set(secrets), key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _TOKEN_PATTERNS.sub("***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            # Render the traceback now so the handler prints the masked copy.
            record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        record.msg = self.mask(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        return True


def configure(level: str = "INFO", secrets: Iterable[str] = ()) -> SecretFilter:
    secret_filter = SecretFilter(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(secret_filter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    return secret_filter
