"""/privacy and /delete_me, in any scene: what is kept and for how long, and forgetting the parent.

Deleting is asked for twice (the command or 🗑 under /privacy, then "Yes, delete"): it cannot be undone
and it cancels a booked lesson. The erasure itself is `shared/flows/erasure.py`.
"""

from __future__ import annotations

from shared.bot.callbacks import AskErase, ConfirmErase, KeepData
from shared.bot.replies import Button, Reply
from shared.bot.scenes.base import SceneContext, Turn, say
from shared.domain.booking import when_label
from shared.domain.conversation import Incoming, Scene, Session
from shared.i18n import t


def on_privacy(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    s = ctx.settings
    text = t(
        session.language,
        "privacy_info",
        retention_days=s.retention_days,
        ai_hours=f"{s.ai_history_hours:g}",
        policy_url=s.privacy_policy_url,
    )
    button = Button(t(session.language, "erase_button"), AskErase())
    return Turn(session.scene, [Reply(text, buttons=[[button]])])


def on_delete_command(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    return _ask(ctx, session)


def on_ask(ctx: SceneContext, session: Session, event: Incoming, button: AskErase) -> Turn:
    return _ask(ctx, session)


def on_confirm(ctx: SceneContext, session: Session, event: Incoming, button: ConfirmErase) -> Turn:
    from shared.flows.erasure import Erased

    erasure = ctx.erasure
    ctx.claim()
    result = erasure.erase(session.chat_id, session.lead_id) if erasure else None
    if not isinstance(result, Erased):  # the calendar did not answer: nothing was deleted
        return Turn(session.scene, [say(session, "erase_failed", manager_link=ctx.settings.manager_link)])
    text = t(session.language, "erased")
    if result.released_lesson is not None and result.released_lesson > ctx.clock.now():
        when = when_label(result.released_lesson, session.language, ctx.rules, session.timezone)
        text += "\n" + t(session.language, "erased_lesson", when=when)
    return Turn(Scene.WELCOME, [Reply(text, remove_keyboard=True)], forget_session=True)


def on_keep(ctx: SceneContext, session: Session, event: Incoming, button: KeepData) -> Turn:
    return Turn(session.scene, [say(session, "erase_kept")])


def _ask(ctx: SceneContext, session: Session) -> Turn:
    language = session.language
    text = t(language, "erase_confirm")
    lead = ctx.registration.lead(session.lead_id)
    if lead is not None and lead.lesson_at is not None and lead.lesson_at > ctx.clock.now():
        text += "\n\n" + t(
            language,
            "erase_confirm_lesson",
            when=when_label(lead.lesson_at, language, ctx.rules, session.timezone),
        )
    buttons = [
        [
            Button(t(language, "erase_yes_button"), ConfirmErase()),
            Button(t(language, "erase_no_button"), KeepData()),
        ]
    ]
    return Turn(session.scene, [Reply(text, buttons=buttons)])
