"""Scene CONFIRM: one slot chosen; ✅ books it (claim, Zoom, calendar, reminders); "back" to its day."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from shared.bot.callbacks import BackToTimes, Book
from shared.bot.replies import Button, Reply
from shared.bot.scenes import days, scheduled, times
from shared.bot.scenes.base import SceneContext, Turn, say
from shared.domain.booking import Slot, when_label
from shared.domain.conversation import Incoming, Scene, Session
from shared.flows.booking import Booked, Problem
from shared.i18n import t


def show_slot(ctx: SceneContext, session: Session, index: int) -> Turn:
    slot = session.offer[index]
    session.chosen = index
    offer = session.offer_id or ""
    day_key = f"{slot.start.astimezone(ZoneInfo(session.timezone or ctx.rules.timezone)):%Y%m%d}"
    when = when_label(slot.start, session.language, ctx.rules, session.timezone)
    text = t(session.language, "confirm_text", when=when)
    buttons = [
        [Button(t(session.language, "confirm_button"), Book(offer, index))],
        [Button(t(session.language, "back_button"), BackToTimes(offer, day_key))],
    ]
    return Turn(Scene.CONFIRM, [Reply(text, buttons=buttons)])


def on_book(ctx: SceneContext, session: Session, event: Incoming, button: Book) -> Turn:
    booking = ctx.booking
    if booking is None:
        return Turn(session.scene, [say(session, "use_buttons")])
    offered = session.offer[button.index]
    ctx.claim()
    result = booking.book(
        session.lead_id or "", Slot(offered.event_id, offered.start, offered.end, offered.etag)
    )
    if isinstance(result, Booked):
        session.offer, session.offer_id, session.chosen = [], None, None
        return scheduled.booked(ctx, session, result.lead)
    if result is Problem.SLOT_TAKEN:
        return days.show(ctx, session).after(say(session, "slot_taken"))
    if result is Problem.CALENDAR_DOWN:  # the slot is still offered: ✅ may be pressed again
        return Turn(
            Scene.CONFIRM, [say(session, "calendar_unavailable", manager_link=ctx.settings.manager_link)]
        )
    return Turn(session.scene, [say(session, "error_generic", manager_link=ctx.settings.manager_link)])


def on_back(ctx: SceneContext, session: Session, event: Incoming, button: BackToTimes) -> Turn:
    return times.show_day(ctx, session, button.day)
