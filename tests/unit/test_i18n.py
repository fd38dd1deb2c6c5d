from __future__ import annotations

import string

import pytest

from shared.i18n import LANGUAGES, catalog, language_for, t


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    reference = catalog("ru")
    for language in LANGUAGES:
        other = catalog(language)
        assert other.keys() == reference.keys(), f"{language}: keys differ"
        for key, text in reference.items():
            assert placeholders(other[key]) == placeholders(text), f"{language}.{key}: placeholders differ"
            assert other[key].strip(), f"{language}.{key} is empty"


@pytest.mark.parametrize(
    ("code", "language"), [("en", "en"), ("en-GB", "en"), ("ru", "ru"), ("de", "ru"), (None, "ru")]
)
def test_language_follows_telegram_with_ru_by_default(code: str | None, language: str) -> None:
    assert language_for(code) == language


def test_placeholders_are_filled() -> None:
    assert "https://t.me/manager" in t("en", "error_generic", manager_link="https://t.me/manager")
