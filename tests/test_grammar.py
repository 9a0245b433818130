import pytest

from bot.grammar import GrammarError, tokenize


def words(text: str) -> list[tuple[str | None, str]]:
    return [(token.key, token.value) for token in tokenize(text)]


def test_words_options_and_quoted_strings() -> None:
    assert words('group create "Anti rumours" kind=thematic topic=anti-rumours') == [
        (None, "group"), (None, "create"), (None, "Anti rumours"), ("kind", "thematic"), ("topic", "anti-rumours")]


def test_typographic_quotes_as_phones_and_slack_type_them() -> None:
    assert words("practice add title=“Mon projet” period=«2017-2021»") == [
        (None, "practice"), (None, "add"), ("title", "Mon projet"), ("period", "2017-2021")]


def test_apostrophes_inside_words_are_text() -> None:
    assert words("translate fr l'école d'été") == [(None, "translate"), (None, "fr"), (None, "l'école"),
                                                  (None, "d'été")]


def test_value_may_contain_equals_and_colons() -> None:
    assert words("deadline add link=https://x.org/?a=b") == [
        (None, "deadline"), (None, "add"), ("link", "https://x.org/?a=b")]


def test_option_keys_are_case_insensitive_values_keep_case() -> None:
    assert words("x Title=Hello") == [(None, "x"), ("title", "Hello")]


def test_unclosed_quote_is_a_grammar_error() -> None:
    with pytest.raises(GrammarError) as caught:
        tokenize('practice add title="never closed')
    assert "quote" in caught.value.message.msgid


def test_start_offsets_point_into_the_raw_text() -> None:
    text = "broadcast to=all  Hello   world"
    tokens = tokenize(text)
    assert text[tokens[2].start:] == "Hello   world"
