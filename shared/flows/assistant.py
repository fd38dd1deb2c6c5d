"""Use case: a parent's free-form question, answered by the assistant safely and within budget.

pre-filter (price → the canned price answer, injection → the canned refusal; no API call) → rate limit
→ the last turns of the conversation (24 h) → the model → post-filter (a violating answer is replaced)
→ history. The answer is text; the bot adds the "↩ Back" button to the step the parent was in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from shared.domain.ai_guard import AnswerPolicy, Verdict, screen_answer, screen_question
from shared.flows.rate_limit import RateLimiter
from shared.i18n import t
from shared.knowledge import system_prompt
from shared.ports import (
    Assistant,
    AssistantUnavailable,
    ChatTurn,
    Clock,
    StateStore,
    StoreConflict,
    update_document,
)

log = logging.getLogger(__name__)
HISTORY = "ai_history"
RATE = "ai_rate"  # the rate limiter's counters, one document per chat


@dataclass(frozen=True)
class Answer:
    text: str
    helped: bool = True  # False: unavailable, filtered, or sending the parent to a manager


@dataclass(frozen=True)
class AssistantSettings:
    manager_link: str
    knowledge_dir: Path
    link_hosts: frozenset[str]  # sites answers may link to (any page, subdomains too) ...
    link_urls: frozenset[str]  # ... and single pages elsewhere (the manager's t.me link, not all of t.me)
    history_turns: int  # question/answer pairs sent back to the model
    history_ttl: timedelta
    max_question_chars: int
    max_answer_chars: int


class AssistantFlow:
    def __init__(
        self,
        *,
        store: StateStore,
        assistant: Callable[[], Assistant],  # built on first use: the openai SDK is slow to import
        limiter: RateLimiter,
        clock: Clock,
        settings: AssistantSettings,
    ) -> None:
        self._store = store
        self._assistant = assistant
        self._limiter = limiter
        self._clock = clock
        self._settings = settings

    def admit(self, chat_id: int) -> bool:
        """Count one paid request (a question or a voice note) against the parent's limits."""
        admitted = self._limiter.admit(str(chat_id))
        if not admitted:
            log.info("assistant rate limit reached", extra={"chat_id": chat_id})
        return admitted

    def answer(
        self, chat_id: int, question: str, language: str, *, admitted: bool = False, remember: bool = True
    ) -> Answer:
        """The answer to `question` (canned when filtered or refused). `admitted`: a transcribed voice
        note, already counted (and paid for: never refused for its length). `remember`: keep the turn in
        the history (not before consent)."""
        question = question.strip()
        s = self._settings
        if not question:
            return Answer(t(language, "ai_usage"))
        if len(question) > s.max_question_chars and not admitted:
            return Answer(t(language, "ai_too_long", max_length=s.max_question_chars))
        verdict = screen_question(question)
        if verdict is not None:
            log.info("assistant question answered by the pre-filter", extra={"verdict": verdict.value})
            key = "ai_price" if verdict is Verdict.PRICE else "ai_injection"
            return Answer(t(language, key, manager_link=s.manager_link))  # the school's policy: no miss
        if not admitted and not self.admit(chat_id):
            return Answer(t(language, "ai_rate_limited"))
        prompt = system_prompt(language, s.manager_link, s.knowledge_dir)
        turns = [*self._history(chat_id), ChatTurn("user", question)]
        try:
            raw = self._assistant().answer(prompt.text, turns)
        except AssistantUnavailable as exc:
            log.warning("assistant unavailable", extra={"reason": str(exc)})
            return Answer(t(language, "ai_unavailable"), helped=False)
        screened = screen_answer(raw, self._policy(prompt.instructions))
        if screened.violation is not None:
            log.warning("assistant answer filtered", extra={"violation": screened.violation.value})
        text = screened.text or t(language, "ai_filtered", manager_link=s.manager_link)
        if remember:
            try:
                self._remember(chat_id, question, text)
            except StoreConflict:  # the answer is worth more than its place in the history
                log.warning("assistant history not saved", extra={"chat_id": chat_id})
        # The knowledge tells the model to send the parent to the manager when it does not know.
        helped = screened.text is not None and not (s.manager_link and s.manager_link in text)
        return Answer(text, helped=helped)

    def summary(self, chat_id: int, question: str, language: str) -> str | None:
        """The conversation so far in two or three sentences for a manager, in `language`, through the
        answers' post-filter; None when the model is unavailable or its summary was filtered."""
        turns = [*self._history(chat_id), *([ChatTurn("user", question)] if question else [])]
        transcript = "\n".join(f"{turn.role}: {turn.content}" for turn in turns)
        instructions = t(language, "handover_summary_prompt")
        try:
            raw = self._assistant().answer(instructions, [ChatTurn("user", transcript)])
        except AssistantUnavailable as exc:
            log.warning("handover summary unavailable", extra={"reason": str(exc)})
            return None
        screened = screen_answer(raw, self._policy(instructions))
        if screened.violation is not None:
            log.warning("handover summary filtered", extra={"violation": screened.violation.value})
        return screened.text

    def recent(self, chat_id: int) -> list[ChatTurn]:
        """The parent's questions and the assistant's answers still kept, oldest first."""
        return self._history(chat_id)

    def _policy(self, secret_prompt: str) -> AnswerPolicy:
        s = self._settings
        return AnswerPolicy(
            secret_prompt=secret_prompt,
            allowed_hosts=s.link_hosts,
            max_chars=s.max_answer_chars,
            allowed_urls=s.link_urls,
        )

    def forget(self, chat_id: int) -> None:
        self._store.delete(HISTORY, str(chat_id))

    # ---- history ---------------------------------------------------------------------------------
    def _recent(self, data: dict[str, Any] | None, now: datetime) -> list[dict[str, str]]:
        """Turns younger than the history's lifetime (by the app's clock), the latest N."""
        turns = [
            turn
            for turn in (data or {}).get("turns", [])
            if now - datetime.fromisoformat(turn["at"]) < self._settings.history_ttl
        ]
        keep = self._settings.history_turns
        return turns[-keep:] if keep else []

    def _history(self, chat_id: int) -> list[ChatTurn]:
        document = self._store.get(HISTORY, str(chat_id))
        turns = self._recent(document.data if document else None, self._clock.now())
        return [
            message
            for turn in turns
            for message in (ChatTurn("user", turn["q"]), ChatTurn("assistant", turn["a"]))
        ]

    def _remember(self, chat_id: int, question: str, answer: str) -> None:
        if not self._settings.history_turns:
            return
        now = self._clock.now()

        def append(current: dict[str, Any] | None) -> dict[str, Any]:
            turns = [*self._recent(current, now), {"q": question, "a": answer, "at": now.isoformat()}]
            return {"turns": turns[-self._settings.history_turns :]}

        update_document(self._store, HISTORY, str(chat_id), append, ttl=self._settings.history_ttl)
