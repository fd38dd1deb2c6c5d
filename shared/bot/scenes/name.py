"""Scene NAME: how to address the parent; the last question before the lead is saved."""

from __future__ import annotations

import re
import unicodedata

from shared.bot.replies import Reply
from shared.bot.scenes import questions
from shared.bot.scenes.base import SceneContext, Turn, say
from shared.domain.conversation import Incoming, Scene, Session
from shared.i18n import t

MAX_NAME = 100
# How a dictated answer to "What is your name?" starts, before the name itself.
_SPOKEN_NAME_PREFIX = re.compile(
    r"^(?:меня зовут|моё имя|мое имя|я|это|my name is|my name's|i am|i'm|it's|this is)[\s,:—-]+",
    re.IGNORECASE,
)


def show(ctx: SceneContext, session: Session) -> Turn:
    return Turn(Scene.NAME, [Reply(t(session.language, "ask_name"), remove_keyboard=True)])


def on_message(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    name = "".join(ch for ch in event.text if unicodedata.category(ch)[0] != "C").strip()
    if event.from_voice:  # "Меня зовут Анна." → "Анна"
        name = _SPOKEN_NAME_PREFIX.sub("", name).strip().rstrip(".!?…")
    if event.kind != "text" or not name or len(name) > MAX_NAME:
        return Turn(Scene.NAME, [say(session, "name_invalid", max_length=MAX_NAME)])
    session.name = " ".join(name.split())
    return questions.next_question(ctx, session, event)
