"""The pre-filter: what may be asked before any API call."""

from __future__ import annotations

from shared.domain.ai_guard.injection import is_injection
from shared.domain.ai_guard.prices import is_price_question
from shared.domain.ai_guard.verdicts import Verdict


def screen_question(text: str) -> Verdict | None:
    """The pre-filter: PRICE, INJECTION, or None (may go to the assistant). Injection wins over price."""
    if is_injection(text):
        return Verdict.INJECTION
    if is_price_question(text):
        return Verdict.PRICE
    return None
