"""The assistant's system prompt: built from the editable knowledge files, per language."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.i18n import LANGUAGES
from shared.knowledge import DEFAULT_DIR, KnowledgeError, system_prompt


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_instructions_and_facts_without_editor_notes(language: str) -> None:
    prompt = system_prompt(language, "https://t.me/allin_manager")
    facts = (DEFAULT_DIR / f"academy.{language}.md").read_text("utf-8")
    assert prompt.instructions and prompt.instructions in prompt.text
    assert "All In Academy" in prompt.text and "https://t.me/allin_manager" in prompt.text
    assert "<!--" in facts and "<!--" not in prompt.text  # notes for editors stay out of the prompt


def test_an_unsupported_language_gets_russian() -> None:
    assert system_prompt("de", "m") == system_prompt("ru", "m")


def test_edited_files_are_used_and_missing_ones_named(tmp_path: Path) -> None:
    (tmp_path / "instructions.ru.md").write_text("Отвечай кратко.", "utf-8")
    (tmp_path / "academy.ru.md").write_text("<!-- заметка -->\nУроки по 45 минут.", "utf-8")
    prompt = system_prompt("ru", "m", tmp_path)
    assert prompt.instructions == "Отвечай кратко." and "Уроки по 45 минут." in prompt.text
    with pytest.raises(KnowledgeError, match="academy.en.md"):
        (tmp_path / "instructions.en.md").write_text("Be brief.", "utf-8")
        system_prompt("en", "m", tmp_path)
    (tmp_path / "academy.en.md").write_text("<!-- only a note -->", "utf-8")
    with pytest.raises(KnowledgeError, match="is empty"):
        system_prompt("en", "m", tmp_path)
