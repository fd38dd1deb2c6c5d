"""Scene WELCOME: the parent has not yet accepted the privacy policy; the consent button moves on."""

from __future__ import annotations

from shared.bot.callbacks import Consent
from shared.bot.replies import Button, Reply
from shared.bot.scenes import questions
from shared.bot.scenes.base import SceneContext, Turn, say
from shared.domain.conversation import Incoming, Scene, Session
from shared.i18n import t


def show(ctx: SceneContext, session: Session) -> Turn:
    return Turn(Scene.WELCOME, [consent_request(ctx, session)])


def on_message(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    """A contact or anything else before consent: ask for consent first."""
    return Turn(Scene.WELCOME, [say(session, "consent_required"), consent_request(ctx, session)])


def on_consent(ctx: SceneContext, session: Session, event: Incoming, button: Consent) -> Turn:
    if session.scene is not Scene.WELCOME:  # an old consent message pressed again
        return Turn(session.scene, [say(session, "use_buttons")])
    session.consent_at = ctx.clock.now()
    session.consent_version = ctx.settings.privacy_policy_version
    return questions.next_question(ctx, session, event)


def consent_request(ctx: SceneContext, session: Session) -> Reply:
    return Reply(
        t(session.language, "consent"),
        buttons=[
            [Button(t(session.language, "consent_button"), Consent())],
            [Button(t(session.language, "privacy_button"), url=ctx.settings.privacy_policy_url)],
        ],
    )
