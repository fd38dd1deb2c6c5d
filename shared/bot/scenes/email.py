"""Scene EMAIL: the parent's email address, typed or dictated ("anna собака mail точка ru")."""

from __future__ import annotations

from shared.bot.replies import Reply
from shared.bot.scenes import questions
from shared.bot.scenes.base import SceneContext, Turn, say
from shared.domain.conversation import Incoming, Scene, Session
from shared.domain.leads import InvalidContact, dictated_email, normalise_email
from shared.i18n import t


def show(ctx: SceneContext, session: Session) -> Turn:
    return Turn(Scene.EMAIL, [Reply(t(session.language, "ask_email"), remove_keyboard=True)])


def on_message(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    if event.kind != "text":
        return Turn(Scene.EMAIL, [say(session, "text_expected")])
    try:
        raw = dictated_email(event.text) if event.from_voice else event.text
        session.email = normalise_email(raw[:254])
    except InvalidContact:
        return Turn(Scene.EMAIL, [say(session, "email_invalid")])
    return questions.next_question(ctx, session, event)
