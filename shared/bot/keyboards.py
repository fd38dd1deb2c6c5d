"""Keyboards of the messages the bot sends outside a conversation's turn (reminders, the message after a
lesson, nudges, the handover card): Bot API JSON for the plain-HTTP senders and the outbox."""

from __future__ import annotations

from typing import Any

from shared.bot.callbacks import (
    AiBack,
    Cancel,
    Confirm,
    HandoverDone,
    HoldPass,
    HoldTake,
    Rebook,
    Reschedule,
    WaitLeave,
)
from shared.bot.replies import Button, Reply, inline_markup
from shared.i18n import t


def reminder_keyboard(booking_id: str, language: str) -> dict[str, Any]:
    """Under a lesson reminder: ✅ I'll be there, then 🔁 Reschedule / ✖ Cancel."""
    return _json(
        [Button(t(language, "attend_button"), Confirm(booking_id))],
        [
            Button(t(language, "reschedule_button"), Reschedule(booking_id)),
            Button(t(language, "cancel_button"), Cancel(booking_id)),
        ],
    )


def rebook_keyboard(booking_id: str, language: str) -> dict[str, Any]:
    """After a no-show: 📅 Pick a new time."""
    return _json([Button(t(language, "rebook_button"), Rebook(booking_id))])


def nudge_keyboard(stage: str, language: str) -> dict[str, Any]:
    """Under a nudge: back to where the parent stopped (the step shown again, as "↩ Back" does)."""
    return _json([Button(t(language, f"nudge_button_{stage}"), AiBack())])


def handover_done_keyboard(chat_id: int, language: str) -> dict[str, Any]:
    """Under a handover's card in the managers' chat: ✔ Done."""
    return _json([Button(t(language, "desk_handover_done_button"), HandoverDone(chat_id))])


def hold_keyboard(hold_id: str, language: str) -> dict[str, Any]:
    """Under a waitlist offer: ✅ Book it / Not for me, then leave the waitlist."""
    return _json(
        [
            Button(t(language, "hold_take_button"), HoldTake(hold_id)),
            Button(t(language, "hold_pass_button"), HoldPass(hold_id)),
        ],
        [leave_waitlist_button(language)],
    )


def leave_waitlist_button(language: str) -> Button:
    return Button(t(language, "waitlist_leave_button"), WaitLeave())


def _json(*rows: list[Button]) -> dict[str, Any]:
    markup = inline_markup(Reply(buttons=list(rows)))
    assert markup is not None  # a keyboard with rows
    return markup
