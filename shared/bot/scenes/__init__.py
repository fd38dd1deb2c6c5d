"""The conversation's map: every scene and its handlers, every button and command and who handles it.

Like the `states` of python-telegram-bot's ConversationHandler: one look shows every scene and what moves
a chat on. A handler gets the event and the session and returns a `Turn` (the next scene and the
replies); `advance` is the one place that moves a session between scenes. Use cases live in `flows/`;
the scenes turn their results into words and keyboards. Free text outside the strict input scenes and
voice notes are the cross-cutting handlers of `shared/bot/conversation.py` (the assistant, voice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.bot import callbacks
from shared.bot.scenes import (
    commands,
    confirm,
    days,
    email,
    name,
    phone,
    privacy,
    registered,
    scheduled,
    times,
    timezone,
    waitlist,
    welcome,
)
from shared.bot.scenes.base import SceneContext, Turn, follow_telegram_language, say
from shared.domain.conversation import Incoming, Scene, Session

Show = Callable[[SceneContext, Session], Turn]
OnMessage = Callable[[SceneContext, Session, Incoming], Turn]
OnButton = Callable[[SceneContext, Session, Incoming, Any], Turn]


@dataclass(frozen=True)
class SceneHandlers:
    show: Show  # present the scene again (after the assistant's "↩ Back", or a stale button)
    on_message: OnMessage  # a message in this scene (typed text only in the strict input scenes)


SCENES: dict[Scene, SceneHandlers] = {
    Scene.WELCOME: SceneHandlers(welcome.show, welcome.on_message),
    Scene.PHONE: SceneHandlers(phone.show, phone.on_message),
    Scene.EMAIL: SceneHandlers(email.show, email.on_message),
    Scene.NAME: SceneHandlers(name.show, name.on_message),
    Scene.REGISTERED: SceneHandlers(registered.show, registered.on_message),
    # While choosing, "back" to the scene means a fresh offer: the old one may be out of date.
    Scene.DATES: SceneHandlers(registered.show, days.on_message),
    Scene.TIMES: SceneHandlers(registered.show, days.on_message),
    Scene.CONFIRM: SceneHandlers(registered.show, days.on_message),
    Scene.SCHEDULED: SceneHandlers(registered.show, scheduled.on_message),
}

# Each button is handled by the scene that shows it; its handler names the scene that comes next.
BUTTONS: dict[type[callbacks.ButtonData], OnButton] = {
    callbacks.Consent: welcome.on_consent,  # → PHONE (or the next unanswered question)
    callbacks.Day: days.on_day,  # → TIMES
    callbacks.Time: times.on_time,  # → CONFIRM
    callbacks.BackToDays: days.on_back,  # → DATES
    callbacks.Book: confirm.on_book,  # → SCHEDULED (or DATES when the slot was taken)
    callbacks.BackToTimes: confirm.on_back,  # → TIMES
    callbacks.Reschedule: scheduled.on_reschedule,  # → DATES
    callbacks.Cancel: scheduled.on_cancel,  # → REGISTERED
    callbacks.Confirm: scheduled.on_confirm,  # same scene: the lesson confirmed
    callbacks.Rebook: scheduled.on_rebook,  # → DATES (after a no-show)
    callbacks.Language: commands.on_language,  # same scene, other language
    callbacks.AskErase: privacy.on_ask,  # same scene: "are you sure?"
    callbacks.ConfirmErase: privacy.on_confirm,  # → WELCOME, the session deleted (or same, on failure)
    callbacks.KeepData: privacy.on_keep,  # same scene
    callbacks.WaitAsk: waitlist.on_ask,  # same scene: which days suit you?
    callbacks.WaitDays: waitlist.on_days,  # same scene: which part of the day?
    callbacks.WaitJoin: waitlist.on_join,  # → REGISTERED (or the picker, still open)
    callbacks.WaitLeave: waitlist.on_leave,  # same scene
    callbacks.HoldTake: waitlist.on_take,  # → SCHEDULED (or the picker, when the hold is over)
    callbacks.HoldPass: waitlist.on_pass,  # same scene: the slot goes to the next parent
    callbacks.TimeZone: timezone.on_button,  # same scene, times in that zone (the lesson or days again)
}
_QUESTION_SCENES = (Scene.WELCOME, Scene.PHONE, Scene.EMAIL, Scene.NAME)
_CHOOSING_SCENES = (Scene.DATES, Scene.TIMES, Scene.CONFIRM)
# Buttons of the slot picker: valid only while choosing (offer-bound ones: only from the current offer).
_PICKER_BUTTONS = (callbacks.Day, callbacks.Time, callbacks.Book, callbacks.BackToTimes, callbacks.BackToDays)

COMMANDS: dict[str, OnMessage] = {
    "start": commands.on_start,
    "language": commands.on_language_command,
    "timezone": timezone.on_command,
    "privacy": privacy.on_privacy,
    "delete_me": privacy.on_delete_command,
    "delete": privacy.on_delete_command,
    "forget": privacy.on_delete_command,
}


def advance(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    """Apply one event to the session (changed in place) and return what to send."""
    follow_telegram_language(session, event)
    turn = _route(ctx, session, event)
    session.scene = turn.scene
    return turn


def resume(ctx: SceneContext, session: Session) -> Turn:
    """The scene the parent is in, presented again."""
    if session.scene not in _QUESTION_SCENES and session.lead_id is None:
        return Turn(session.scene, [say(session, "use_buttons")])  # booking without a saved lead: can't be
    return SCENES[session.scene].show(ctx, session)


def _route(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    if event.kind == "command":
        return COMMANDS.get(event.text, commands.on_unknown)(ctx, session, event)
    if event.kind == "callback":
        return _button(ctx, session, event)
    return SCENES[session.scene].on_message(ctx, session, event)


def _button(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    button = callbacks.decode(event.callback_data)
    if isinstance(button, callbacks.AiBack):
        return resume(ctx, session)
    if button is None or type(button) not in BUTTONS or _stale(session, button):
        return _stale_turn(ctx, session, button)  # not a parent's button either (a card's, forwarded)
    return BUTTONS[type(button)](ctx, session, event, button)


def _stale(session: Session, button: callbacks.ButtonData) -> bool:
    if isinstance(button, callbacks.OfferButton):
        return not callbacks.is_current(button, session)
    if isinstance(button, callbacks.BackToDays):
        return session.scene not in _CHOOSING_SCENES
    return False


def _stale_turn(ctx: SceneContext, session: Session, button: callbacks.ButtonData | None) -> Turn:
    """A button from an older message. A parent still to book gets a fresh offer; a booked one is never
    offered a second lesson by an old picker (only 🔁 Reschedule frees the booked slot first)."""
    choosing = session.scene in (*_CHOOSING_SCENES, Scene.REGISTERED) and session.lead_id is not None
    if isinstance(button, _PICKER_BUTTONS) and choosing:
        return days.show(ctx, session).after(say(session, "use_buttons"))
    return Turn(session.scene, [say(session, "use_buttons")])
