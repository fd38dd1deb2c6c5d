from __future__ import annotations

import string

import pytest

from shared.i18n import LANGUAGES, catalog, language_for, t, words


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


@pytest.mark.parametrize("language", LANGUAGES)
def test_weekday_and_month_names_are_complete_lists(language: str) -> None:
    assert len(words(language, "weekdays")) == 7 and len(words(language, "months")) == 12


def test_day_labels_come_from_the_catalogs() -> None:
    from datetime import date

    from shared.domain.booking import day_label

    assert day_label(date(2026, 12, 7), "ru") == "Пн, 7 дек"
    assert day_label(date(2026, 12, 7), "en") == "Mon, 7 Dec"
    assert day_label(date(2026, 12, 7), "de") == "Пн, 7 дек"  # an unknown language reads Russian
