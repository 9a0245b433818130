import pytest

from bot.text import split_text


def test_short_text_is_one_part() -> None:
    assert split_text("hello", 2000) == ["hello"]


@pytest.mark.parametrize("limit", [40, 100, 2000, 3000])
def test_long_text_is_split_within_the_limit_and_nothing_is_lost(limit: int) -> None:
    text = " ".join(f"Sentence number {i} talks about intercultural cities." for i in range(400))
    parts = split_text(text, limit)
    assert all(len(part) <= limit for part in parts)
    assert "".join(parts) == text


def test_prefers_paragraph_then_sentence_boundaries() -> None:
    text = "A" * 50 + "\n\n" + "B" * 50 + ". " + "C" * 30
    parts = split_text(text, 80)
    assert parts[0] == "A" * 50 + "\n\n"


def test_a_word_longer_than_the_limit_is_cut_not_dropped() -> None:
    text = "x" * 250
    parts = split_text(text, 100)
    assert "".join(parts) == text and all(len(p) <= 100 for p in parts)


def test_code_fences_are_closed_and_reopened() -> None:
    text = "Look:\n```python\n" + "\n".join(f"line_{i} = {i}" for i in range(60)) + "\n```\nDone."
    parts = split_text(text, 200)
    assert len(parts) > 1
    for part in parts:
        assert part.count("```") % 2 == 0, part
        assert len(part) <= 200
