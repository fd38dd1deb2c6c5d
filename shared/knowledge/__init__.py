"""The assistant's system prompt, per language, from files beside this module (editable without code).

`instructions.<lang>.md` holds the rules (never to be quoted back to a parent), `academy.<lang>.md` the
facts about the school. HTML comments are notes for editors and are not sent to the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.i18n import LANGUAGES

DEFAULT_DIR = Path(__file__).resolve().parent
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FACTS_HEADING = {"ru": "Сведения о школе", "en": "Facts about the school"}
_MANAGER = {"ru": "Ссылка на менеджера", "en": "The manager's link"}


@dataclass(frozen=True)
class SystemPrompt:
    text: str  # what the model gets
    instructions: str  # the part that must never reach a parent


class KnowledgeError(Exception):
    """A knowledge file is missing or empty."""


def _read(directory: Path, name: str) -> str:
    path = directory / name
    try:
        text = _COMMENT.sub("", path.read_text("utf-8")).strip()
    except OSError as exc:
        raise KnowledgeError(f"cannot read {path}: {exc.strerror}") from None
    if not text:
        raise KnowledgeError(f"{path} is empty")
    return text


@cache
def system_prompt(language: str, manager_link: str, directory: Path = DEFAULT_DIR) -> SystemPrompt:
    """The system prompt in `language` (ru when unsupported), read once per instance."""
    language = language if language in LANGUAGES else LANGUAGES[0]
    instructions = _read(directory, f"instructions.{language}.md")
    facts = _read(directory, f"academy.{language}.md")
    text = (
        f"{instructions}\n\n{_MANAGER[language]}: {manager_link}\n\n## {_FACTS_HEADING[language]}\n\n{facts}"
    )
    return SystemPrompt(text=text, instructions=instructions)
