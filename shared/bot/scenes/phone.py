"""Scene PHONE: the parent's phone, shared as their own contact or typed (or dictated)."""

from __future__ import annotations

from shared.bot.replies import Reply
from shared.bot.scenes import questions
from shared.bot.scenes.base import SceneContext, Turn
from shared.domain.conversation import Incoming, Scene, Session
from shared.domain.leads import InvalidContact, dictated_phone, normalise_phone
from shared.i18n import t


def show(ctx: SceneContext, session: Session) -> Turn:
    return Turn(Scene.PHONE, [ask(session, "ask_phone")])


def on_message(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    if event.kind == "contact":
        if event.contact_user_id != event.user_id:
            return Turn(Scene.PHONE, [ask(session, "contact_not_own")])
        raw = event.contact_phone or ""
    elif event.kind == "text":
        raw = dictated_phone(event.text) if event.from_voice else event.text
    else:
        return Turn(Scene.PHONE, [ask(session, "text_expected")])
    try:
        # A shared contact carries the number without "+" but always with its country code.
        session.phone = normalise_phone(
            raw if event.kind == "text" or raw.startswith("+") else f"+{raw}", ctx.settings.phone_region
        )
    except InvalidContact:
        return Turn(Scene.PHONE, [ask(session, "phone_invalid")])
    return questions.next_question(ctx, session, event)


def ask(session: Session, key: str) -> Reply:
    """`key`'s text with the keyboard that shares the parent's contact."""
    return Reply(t(session.language, key), contact_button=t(session.language, "share_contact_button"))
