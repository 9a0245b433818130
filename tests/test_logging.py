import logging

from bot.logging_setup import SecretFilter


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("x", logging.ERROR, __file__, 1, message, args, exc_info)


def test_configured_secrets_and_token_shapes_are_masked() -> None:
    secret_filter = SecretFilter(["my-deepl-key:fx"])
    entry = record("calling with %s and %s", "my-deepl-key:fx", "xoxb-123-456-abcdef")
    secret_filter.filter(entry)
    assert entry.getMessage() == "calling with *** and ***"


def test_secrets_in_tracebacks_are_masked() -> None:
    secret_filter = SecretFilter(["hunter2-secret"])
    try:
        raise RuntimeError("auth failed for hunter2-secret at postgresql://bot:pw123@db/icc")
    except RuntimeError as error:
        entry = record("failed", exc=error)
    secret_filter.filter(entry)
    assert "hunter2-secret" not in entry.exc_text and "pw123" not in entry.exc_text  # type: ignore[operator]
    assert "***" in entry.exc_text  # type: ignore[operator]
