"""Every text people read, per language: JSON catalogs beside this module, editable without code.

Parents read theirs in their own language; managers' chat messages, calendar entries and developers'
alerts are written in MANAGER_LANGUAGE (keys `manager_*`, `dev_*`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
_DIR = Path(__file__).resolve().parent


@cache
def catalog(language: str) -> dict[str, str]:
    return dict(json.loads((_DIR / f"{language}.json").read_text("utf-8")))


def language_for(code: str | None) -> str:
    """Telegram's `language_code` (e.g. "en-GB") → a supported language, ru by default."""
    base = (code or "").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def t(language: str, key: str, **values: object) -> str:
    """The text `key` in `language` with its placeholders filled."""
    text = catalog(language if language in LANGUAGES else DEFAULT_LANGUAGE)[key]
    return text.format(**values) if values else text


def words(language: str, key: str) -> tuple[str, ...]:
    """A space-separated list in the catalog (weekday and month names) as a tuple."""
    return tuple(t(language, key).split())
