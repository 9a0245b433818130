"""The notes under an untranslated copy, in the destination's language."""

from bot.translation import NotTranslated
from bot.translation.notes import note_for


def test_each_reason_has_a_note_in_the_readers_language() -> None:
    assert note_for(NotTranslated.OFF, "en") == "Not translated: translation is off (no DeepL key is configured)."
    assert note_for(NotTranslated.QUOTA, "fr") == "Non traduit : le quota DeepL de ce mois est épuisé."
    assert note_for(NotTranslated.UNAVAILABLE, "fr") == "Non traduit : DeepL ne répond pas pour le moment."
    assert note_for(NotTranslated.UNSUPPORTED, "fr", "hr") == "Non traduit : DeepL ne traduit pas en croate (hr)."
    assert note_for(NotTranslated.SOURCE_UNSUPPORTED, "en", source="hr") == (
        "Not translated: DeepL does not translate from Croatian (hr).")


def test_no_note_when_nothing_needed_translating() -> None:
    assert note_for(NotTranslated.SAME_LANGUAGE, "en") is None
    assert note_for(None, "fr") is None
