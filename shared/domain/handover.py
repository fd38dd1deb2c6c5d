"""Handing a parent's chat over from the assistant to a manager: who asks for a person, and the state of
a handover in the parent's session. Pure."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

# A handover with no word from a manager for this long lapses: the bot answers the parent again, rather
# than a chat whose card was overlooked staying mute for good.
HANDOVER_LAPSES = timedelta(hours=24)

# "позовите менеджера", "можно поговорить с человеком?", "talk to a human", "I need a real person": a
# request for a person, not a question that merely mentions one ("что делает менеджер курса?" is not).
_ASKS = re.compile(
    r"""
    \b(?:позов\w*|зов\w*|соедин\w*|переключ\w*|свяж\w*|хочу|нужен|нужна|нужно|дайте|можно|давайте|
       поговор\w*|пообщат\w*|перевед\w*|позвать)
    \b[^.?!]{0,30}?
    \b(?:менеджер\w*|человек(?:а|ом|у)\b|оператор\w*|живо\w*\s+человек\w*|администратор\w*|
       сотрудник\w*|куратор\w*|консультант\w*)
    |
    \b(?:talk|speak|chat|connect|transfer|put)\b[^.?!]{0,30}?
    \b(?:human|person|manager|operator|agent|someone|somebody|staff|people)\b
    |
    \b(?:need|want|get|call)\b[^.?!]{0,20}?\b(?:human|real\s+person|manager|operator|agent)\b
    |
    ^\s*(?:менеджер\w*|оператор\w*|человек|живой\s+человек|manager|operator|human|agent)\s*[!.?]*\s*$
    """,
    re.IGNORECASE | re.VERBOSE,
)


def asks_for_person(text: str) -> bool:
    """Whether a parent's message asks to talk to a person instead of the assistant."""
    return bool(_ASKS.search(text))


class HandoverReason(StrEnum):
    ASKED = "asked"  # the parent asked for a person
    NOT_HELPED = "not_helped"  # the assistant failed to help twice in a row


class HandoverState(BaseModel):
    """In the parent's session while a manager has the chat: the parent's messages go to the managers."""

    card: int  # the handover card's message id in the managers' chat
    at: datetime  # opened, or a manager's last reply

    def active(self, now: datetime) -> bool:
        return now - self.at < HANDOVER_LAPSES
