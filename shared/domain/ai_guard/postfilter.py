"""The post-filter: what the model may answer (no prompt leak, price, foreign link or wall of text)."""

from __future__ import annotations

import functools

from shared.domain.ai_guard.links import has_foreign_link
from shared.domain.ai_guard.prices import mentions_price
from shared.domain.ai_guard.text import ALNUM_RUN, normalise
from shared.domain.ai_guard.verdicts import AnswerPolicy, Screened, Violation

_SENTENCE_END = ".!?…"
_CLOSERS = ")\"»”’'"


def _words(text: str) -> list[str]:
    return ALNUM_RUN.findall(normalise(text))


@functools.lru_cache(maxsize=8)
def _secret_runs(secret_prompt: str) -> frozenset[tuple[str, ...]]:
    """Word runs whose appearance in an answer is a leak: every 6 consecutive words, and every line of 4+."""
    words = _words(secret_prompt)
    runs = {tuple(words[i : i + 6]) for i in range(len(words) - 5)}
    if 4 <= len(words) < 6:
        runs.add(tuple(words))
    for line in secret_prompt.splitlines():
        line_words = _words(line)
        if 4 <= len(line_words) < 6:  # longer lines are caught by their 6-word runs
            runs.add(tuple(line_words))
    return frozenset(runs)


def leaks_prompt(answer: str, secret_prompt: str) -> bool:
    runs = _secret_runs(secret_prompt)
    if not runs:
        return False
    words = _words(answer)
    for n in {len(run) for run in runs}:
        if any(tuple(words[i : i + n]) in runs for i in range(len(words) - n + 1)):
            return True
    return False


def _cut(text: str, max_chars: int) -> str | None:
    """The text up to its last sentence end within the cap, if that keeps at least half of the cap."""
    end = -1
    for i in range(min(max_chars, len(text))):
        ch = text[i]
        if ch == "\n":
            end = i
        elif ch in _SENTENCE_END and (i + 1 == len(text) or text[i + 1].isspace() or text[i + 1] in _CLOSERS):
            end = i + 1
    cut = text[:end].rstrip() if end > 0 else ""
    return cut if cut and 2 * len(cut) >= max_chars else None


def screen_answer(answer: str, policy: AnswerPolicy) -> Screened:
    """The post-filter: empty, leak, price, link, length, in that order. A violating answer is replaced."""
    text = answer.strip()
    if not text:
        return Screened(None, Violation.EMPTY)
    if leaks_prompt(text, policy.secret_prompt):
        return Screened(None, Violation.PROMPT_LEAK)
    if mentions_price(text):
        return Screened(None, Violation.PRICE)
    if has_foreign_link(text, policy.allowed_hosts, policy.allowed_urls):
        return Screened(None, Violation.LINK)
    if len(text) > policy.max_chars:
        return Screened(_cut(text, policy.max_chars), Violation.LENGTH)
    return Screened(text, None)
