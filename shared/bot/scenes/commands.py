"""Commands, in any scene: /start (with an email's deep-link token), /language and its buttons."""

from __future__ import annotations

from shared.bot.callbacks import Language
from shared.bot.replies import Button, Reply
from shared.bot.scenes import questions, welcome
from shared.bot.scenes.base import SceneContext, Turn, parent_of, say
from shared.domain.conversation import Incoming, Scene, Session
from shared.i18n import LANGUAGES, t

MAX_TOKEN = 64  # Telegram's limit for a deep-link payload


def on_start(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    """Welcome (and the video note); a known token links its Tilda lead and skips what it answered."""
    welcome_text = t(session.language, "welcome")
    token = event.payload[:MAX_TOKEN]
    lead = None
    if token:
        ctx.claim()
        lead = ctx.registration.follow_link(token, parent_of(event))
    if lead is not None:
        session.lead_id = lead.lead_id
        session.phone = session.phone or lead.phone
        session.email = session.email or lead.email
        session.name = session.name or lead.name or None
        if lead.language in LANGUAGES and not session.language_chosen:
            session.language = lead.language
        welcome_text = (
            t(session.language, "welcome") + "\n\n" + t(session.language, "welcome_back", name=lead.name)
        )
    intro = [Reply(welcome_text, remove_keyboard=True)]
    if ctx.settings.welcome_video_note:
        intro.append(Reply(video_note=ctx.settings.welcome_video_note))
    if session.consent_at is not None:
        return questions.next_question(ctx, session, event).after(*intro)
    return Turn(Scene.WELCOME, [*intro, welcome.consent_request(ctx, session)])


def on_language_command(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    buttons = [[Button(t(code, "language_name"), Language(code)) for code in LANGUAGES]]
    return Turn(session.scene, [Reply(t(session.language, "language_prompt"), buttons=buttons)])


def on_language(ctx: SceneContext, session: Session, event: Incoming, button: Language) -> Turn:
    session.language = button.code
    session.language_chosen = True
    return Turn(session.scene, [say(session, "language_set")])


def on_unknown(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    return Turn(session.scene, [say(session, "use_buttons")])
