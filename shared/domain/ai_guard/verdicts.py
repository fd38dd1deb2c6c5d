"""What the guards decide: the pre-filter's verdicts, the post-filter's violations and its policy."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    PRICE = "price"
    INJECTION = "injection"


class Violation(StrEnum):
    EMPTY = "empty"
    PRICE = "price"
    LINK = "link"
    PROMPT_LEAK = "prompt_leak"
    LENGTH = "length"


@dataclass(frozen=True)
class AnswerPolicy:
    secret_prompt: str  # the instruction part of the system prompt, which must never be quoted back
    allowed_hosts: frozenset[str]  # hosts links may point to; their subdomains are allowed too
    max_chars: int = 1000
    # Exact links allowed although their host is not (the manager's «https://t.me/allin_manager»); an
    # «@username» is allowed when «https://t.me/username» is here.
    allowed_urls: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Screened:
    text: str | None  # what may be sent (None: replace the answer with the safe fallback)
    violation: Violation | None  # why it was replaced or shortened (for logs and metrics)
