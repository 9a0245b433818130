"""The checks every way in (inline, form, import) shares: limits, topics, links."""

from bot.i18n import render
from bot.practices.fields import LIMITS, check_fields


def test_a_complete_practice_passes_and_is_cleaned() -> None:
    checked = check_fields({"title": "  Anti-rumour\n agents ", "topic": "Anti rumours, education",
                            "purpose": "Line one.\r\n\r\n\r\n\r\nLine two.\x00", "link": "https://example.org/x"})
    assert checked.ok
    assert checked.values["title"] == "Anti-rumour agents"
    assert checked.values["topic"] == ["anti-rumours", "education"]
    assert checked.values["purpose"] == "Line one.\n\nLine two."


def test_each_bad_field_is_named_with_its_reason() -> None:
    checked = check_fields({"title": "   ", "topic": "astrology, education", "purpose": "x" * 10_000,
                            "link": "javascript:alert(1)"})
    assert set(checked.errors) == {"title", "topic", "purpose", "link"}
    assert render(checked.errors["title"], "en") == "`title` is empty."
    assert "`astrology`" in render(checked.errors["topic"], "en")
    assert render(checked.errors["purpose"], "en") == "`purpose` has 10000 characters; at most 3000 are allowed."
    french = "`purpose` compte 10000 caractères ; 3000 au maximum sont acceptés."
    assert render(checked.errors["purpose"], "fr") == french
    assert "http://" in render(checked.errors["link"], "en")


def test_required_fields_missing_and_limits_exact() -> None:
    assert set(check_fields({}).errors) == {"title", "topic", "purpose"}
    at_limit = check_fields({"title": "t" * LIMITS["title"], "topic": "education", "purpose": "p" * 3000})
    assert at_limit.ok
    assert "title" in check_fields({"title": "t" * 201, "topic": "education", "purpose": "p"}).errors


def test_an_edit_checks_only_what_it_changes() -> None:
    assert check_fields({"period": "2019-2022"}, partial=True).ok
    assert "title" in check_fields({"title": ""}, partial=True).errors


def test_topics_accept_a_forms_list_and_refuse_too_many() -> None:
    assert check_fields({"topic": ["education", "participation"]}, partial=True).values["topic"] == [
        "education", "participation"]
    six = "education,participation,interaction,language,commitment,neighbourhoods"
    assert "topic" in check_fields({"topic": six}, partial=True).errors
