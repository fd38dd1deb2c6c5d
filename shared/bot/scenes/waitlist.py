"""The waitlist from the parent's side: joining (which days, which part of the day), leaving in one press,
and the offer of a freed slot held for them (✅ book it, or let it go to the next parent).

Its buttons work from any scene a registered parent is in; the slot picker's offer is not touched, so a
parent may go on choosing after joining.
"""

from __future__ import annotations

from shared.bot.callbacks import HoldPass, HoldTake, WaitAsk, WaitDays, WaitJoin, WaitLeave
from shared.bot.keyboards import leave_waitlist_button
from shared.bot.replies import Button, Reply
from shared.bot.scenes import days, questions, scheduled
from shared.bot.scenes.base import SceneContext, Turn, say
from shared.domain.conversation import OFFER_SCENES, Incoming, Scene, Session
from shared.domain.timezones import zone_time
from shared.domain.waitlist import DayPart, Days
from shared.flows.booking import Booked, Problem
from shared.i18n import t

DAY_CHOICES = (Days.ANY, Days.WEEKDAYS, Days.WEEKENDS)
PART_CHOICES = (DayPart.ANY, DayPart.MORNING, DayPart.AFTERNOON, DayPart.EVENING)


def join_button(session: Session, key: str = "waitlist_join_button") -> Button:
    return Button(t(session.language, key), WaitAsk())


def on_ask(ctx: SceneContext, session: Session, event: Incoming, button: WaitAsk) -> Turn:
    """🕓 None of these fit / Join the waitlist: which days suit you?"""
    if (refused := _refused(ctx, session)) is not None:
        return refused
    rows = [[Button(t(session.language, f"waitlist_days_{d.value}"), WaitDays(d.value))] for d in DAY_CHOICES]
    return Turn(session.scene, [Reply(t(session.language, "waitlist_ask_days"), buttons=rows)])


def on_days(ctx: SceneContext, session: Session, event: Incoming, button: WaitDays) -> Turn:
    """The days chosen: which part of the day?"""
    if (refused := _refused(ctx, session)) is not None:
        return refused
    rows = [
        [Button(t(session.language, f"waitlist_part_{p.value}"), WaitJoin(button.days, p.value))]
        for p in PART_CHOICES
    ]
    text = t(
        session.language,
        "waitlist_ask_part",
        zone=zone_time(session.timezone or ctx.rules.timezone, session.language),
    )
    return Turn(session.scene, [Reply(text, buttons=rows)])


def on_join(ctx: SceneContext, session: Session, event: Incoming, button: WaitJoin) -> Turn:
    if (refused := _refused(ctx, session)) is not None:
        return refused
    waitlist = ctx.waitlist
    assert waitlist is not None and session.lead_id is not None  # _refused checked
    ctx.claim()
    wish = waitlist.join(
        session.lead_id,
        event.chat_id,
        session.language,
        Days(button.days),
        DayPart(button.part),
        session.timezone,
    )
    text = t(
        session.language,
        "waitlist_joined",
        days=t(session.language, f"waitlist_days_{wish.days.value}"),
        part=t(session.language, f"waitlist_part_{wish.part.value}"),
        minutes=waitlist.minutes,
    )
    return Turn(_not_choosing(session), [Reply(text, buttons=[[leave_waitlist_button(session.language)]])])


def on_leave(ctx: SceneContext, session: Session, event: Incoming, button: WaitLeave) -> Turn:
    waitlist = ctx.waitlist
    if waitlist is None or session.lead_id is None:
        return Turn(session.scene, [say(session, "use_buttons")])
    ctx.claim()
    left = waitlist.leave(session.lead_id)
    return Turn(session.scene, [say(session, "waitlist_left" if left else "waitlist_not_on")])


def on_take(ctx: SceneContext, session: Session, event: Incoming, button: HoldTake) -> Turn:
    """✅ under an offer: booked; a hold that is over: said so, with the slots free now."""
    waitlist = ctx.waitlist
    if waitlist is None or session.lead_id is None:
        return Turn(session.scene, [say(session, "use_buttons")])
    ctx.claim()
    result = waitlist.take(session.lead_id, button.hold_id)
    if isinstance(result, Booked):
        session.offer, session.offer_id, session.chosen = [], None, None
        return scheduled.booked(ctx, session, result.lead)
    if result is Problem.NOT_CURRENT:  # booked (this slot, or another way) already
        return questions.after_registration(ctx, session)
    if result is None:
        released = say(session, "waitlist_released", minutes=waitlist.minutes)
        return questions.after_registration(ctx, session).after(released)
    if result is Problem.SLOT_TAKEN:
        return days.show(ctx, session).after(say(session, "slot_taken"))
    link = ctx.settings.manager_link
    return Turn(session.scene, [say(session, "calendar_unavailable", manager_link=link)])


def on_pass(ctx: SceneContext, session: Session, event: Incoming, button: HoldPass) -> Turn:
    """Not for me: offered to the next parent; this one stays on the list."""
    waitlist = ctx.waitlist
    if waitlist is None or session.lead_id is None:
        return Turn(session.scene, [say(session, "use_buttons")])
    ctx.claim()
    if not waitlist.let_go(session.lead_id, button.hold_id):
        return Turn(session.scene, [say(session, "use_buttons")])
    text = t(session.language, "waitlist_passed")
    return Turn(session.scene, [Reply(text, buttons=[[leave_waitlist_button(session.language)]])])


def _refused(ctx: SceneContext, session: Session) -> Turn | None:
    """Joining is for a registered parent with no lesson booked (a booked one sees their lesson)."""
    if ctx.waitlist is None or session.lead_id is None:
        return Turn(session.scene, [say(session, "use_buttons")])
    if session.scene is Scene.SCHEDULED:
        return questions.after_registration(ctx, session).after(say(session, "use_buttons"))
    return None


def _not_choosing(session: Session) -> Scene:
    """Joined from the picker: its offer stays usable; from elsewhere: registered, waiting."""
    return session.scene if session.scene in OFFER_SCENES else Scene.REGISTERED
