"""Neutral markup survives translation: protected pieces come back exactly, layout is kept,
and what was encoded decodes to the original when nothing is translated."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.translation.markup import decode, encode, words_of


def identity(text: str) -> str:
    encoded = encode(text)
    return decode(encoded, [segment.xml for segment in encoded.segments])


def prefixed(text: str, prefix: str = "[FR] ") -> str:
    """What the fake DeepL does: a prefix before each segment, tags kept."""
    encoded = encode(text)
    return decode(encoded, [prefix + segment.xml for segment in encoded.segments])


def test_protected_pieces_go_in_ignored_elements_and_come_back() -> None:
    text = "Bonjour @Ana.Souza, voir https://rm.coe.int/icc?a=1&b=2 et #rumeurs-fr :tada: 🇫🇷 `x < y` **merci**"
    [segment] = encode(text).segments
    assert '<x i="0">@Ana.Souza</x>' in segment.xml
    assert '<x i="1"/>' in segment.xml  # the URL is not sent at all: it would only be billed
    assert '<x i="2">#rumeurs-fr</x>' in segment.xml
    assert "<b>merci</b>" in segment.xml
    assert "https://" not in segment.xml and "x &lt; y" not in segment.xml
    assert prefixed(text) == "[FR] " + text


def test_xml_special_characters_are_escaped_and_restored() -> None:
    text = 'Fish & chips <b>not a tag</b> "quoted" 5 > 3'
    [segment] = encode(text).segments
    assert segment.xml == 'Fish &amp; chips &lt;b&gt;not a tag&lt;/b&gt; "quoted" 5 &gt; 3'
    assert identity(text) == text
    # DeepL may answer with other entities for the same characters
    assert decode(encode("a & b"), ["a &#38; b &quot;c&quot;"]) == 'a & b "c"'


def test_layout_stays_and_each_line_is_a_segment() -> None:
    text = "> quoted line\n\n- first _point_\n  2) second point\n```\ncode block\n```\n👍 https://x.org\nend."
    encoded = encode(text)
    assert [segment.xml for segment in encoded.segments] == [
        "quoted line", "first <i>point</i>", "second point", "end."]
    assert prefixed(text) == ("> [FR] quoted line\n\n- [FR] first _point_\n  2) [FR] second point\n"
                              "```\ncode block\n```\n👍 https://x.org\n[FR] end.")


def test_nothing_to_translate_makes_no_segment() -> None:
    for text in ("👍", "https://coe.int", "@Ana", "10:30", "`code`", "", "  \n "):
        assert encode(text).segments == (), text


def test_translated_elements_move_and_content_is_restored_from_here() -> None:
    text = "Thanks **@Ana** for the [report](https://x.org/r.pdf) and `make test`"
    [segment] = encode(text).segments
    assert segment.xml == ('Thanks <b><x i="0">@Ana</x></b> for the <l i="1">report</l> and <x i="2"/>')
    # DeepL reorders, re-quotes attributes and even alters ignored content: we restore ours.
    answer = "Merci pour le <l i='1'>rapport</l> et <x i=\"2\"></x>, <b><x i=\"0\">@ANA</x></b>"
    assert decode(encode(text), [answer]) == "Merci pour le [rapport](https://x.org/r.pdf) et `make test`, **@Ana**"


def test_a_dropped_element_is_kept_rather_than_lost() -> None:
    text = "See https://coe.int/icc today"
    assert decode(encode(text), ["Voir aujourd'hui"]) == "Voir aujourd'hui https://coe.int/icc"


def test_unpaired_or_crossing_markers_stay_text() -> None:
    for text in ("2 * 3 ** 4", "snake_case_name and __init__", "**bold ~~both** strike~~", "_x", "~~ ~~"):
        assert identity(text) == text
        for segment in encode(text).segments:
            # well-formed: every opened style tag is closed in order
            stack = []
            for close, tag in re.findall(r"<(/?)([bis])>", segment.xml):
                if close:
                    assert stack and stack.pop() == tag, segment.xml
                else:
                    stack.append(tag)
            assert not stack, segment.xml


def test_words_for_detection_leave_out_protected_pieces() -> None:
    assert words_of("@Ana see https://x.org `code` 🇫🇷 merci beaucoup") == "see merci beaucoup"


_PIECES = ["**", "~~", "```", "https://x.org/a", "👍", "🇫🇷", "@Ana", "\u200d", "\U000F0001", "\x00", "&amp;",
           '<x i="0"/>', "> ", "- "]
_ALPHABET = st.sampled_from([*"ab é Z\n\t*_~`#@:<>&;\"'[]()/.-!?10", *_PIECES])


@settings(max_examples=250, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_round_trip_is_exact(text: str) -> None:
    assert identity(text) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_round_trip_on_any_text(text: str) -> None:
    assert identity(text) == text


@settings(max_examples=200, deadline=None)
@given(st.lists(_ALPHABET, max_size=30).map("".join))
def test_a_translation_keeps_every_protected_piece(text: str) -> None:
    out = prefixed(text)
    for pattern in (r"https://x\.org/a", "👍", "🇫🇷", "@Ana", "```"):
        assert out.count(re.sub(r"\\", "", pattern)) >= text.count(re.sub(r"\\", "", pattern)), pattern


def test_platform_mentions_kept_in_commands_are_protected() -> None:
    text = "<@U0ICC42> merci pour <#C123|general>"
    [segment] = encode(text).segments
    assert segment.xml == '<x i="0">&lt;@U0ICC42&gt;</x> merci pour <x i="1">&lt;#C123|general&gt;</x>'
    assert prefixed(text) == "[FR] " + text
