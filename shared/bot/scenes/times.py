"""Scene TIMES: the free times of the chosen day; a time's button asks to confirm it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from shared.bot.callbacks import BackToDays, Time
from shared.bot.replies import Button, Reply
from shared.bot.scenes import confirm, days
from shared.bot.scenes.base import SceneContext, Turn, say
from shared.domain.booking import day_label, slot_label
from shared.domain.conversation import Incoming, Scene, Session
from shared.domain.timezones import zone_time
from shared.i18n import t


def show_day(ctx: SceneContext, session: Session, day_key: str) -> Turn:
    """The times offered on `day_key` (yyyymmdd in the parent's zone); a day no longer offered: fresh days."""
    zone = ZoneInfo(session.timezone or ctx.rules.timezone)
    indexes = [i for i, s in enumerate(session.offer) if f"{s.start.astimezone(zone):%Y%m%d}" == day_key]
    if not indexes:
        return days.show(ctx, session).after(say(session, "use_buttons"))
    buttons = [
        [
            Button(
                slot_label(session.offer[i].start, ctx.rules, session.timezone, session.language),
                Time(session.offer_id or "", i),
            )
        ]
        for i in indexes
    ]
    buttons.append([Button(t(session.language, "back_button"), BackToDays())])
    text = t(
        session.language,
        "choose_time",
        day=day_label(session.offer[indexes[0]].start.astimezone(zone).date(), session.language),
        zone=zone_time(session.timezone or ctx.rules.timezone, session.language),
    )
    return Turn(Scene.TIMES, [Reply(text, buttons=buttons)])


def on_time(ctx: SceneContext, session: Session, event: Incoming, button: Time) -> Turn:
    return confirm.show_slot(ctx, session, button.index)
