"""Scene REGISTERED: saved, no lesson booked (none free, cancelled, no calendar); offered again on demand."""

from __future__ import annotations

from shared.bot.scenes import questions
from shared.bot.scenes.base import SceneContext, Turn
from shared.domain.conversation import Incoming, Session


def show(ctx: SceneContext, session: Session) -> Turn:
    return questions.after_registration(ctx, session)


def on_message(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    return questions.after_registration(ctx, session)
