"""Scene DATES: the days that have free slots, as one keyboard; a day's button opens its times."""

from __future__ import annotations

import secrets

from shared.bot.callbacks import BackToDays, Day
from shared.bot.replies import Button, Reply
from shared.bot.scenes import times, timezone, waitlist
from shared.bot.scenes.base import SceneContext, Turn, say
from shared.domain.booking import by_day, day_label
from shared.domain.conversation import Incoming, OfferedSlot, Scene, Session
from shared.flows.booking import Problem
from shared.i18n import t


def show(ctx: SceneContext, session: Session) -> Turn:
    """Fresh free slots → a new offer (older offers' buttons go stale) and its keyboard of days."""
    booking = ctx.booking
    if booking is None:
        return Turn(
            Scene.REGISTERED, [say(session, "registered_next", manager_link=ctx.settings.manager_link)]
        )
    slots = booking.free_slots()
    if slots is Problem.CALENDAR_DOWN:
        return Turn(
            Scene.REGISTERED, [say(session, "calendar_unavailable", manager_link=ctx.settings.manager_link)]
        )
    assert not isinstance(slots, Problem)
    if not slots:
        text = t(session.language, "no_slots", manager_link=ctx.settings.manager_link)
        join = [[waitlist.join_button(session)]] if ctx.waitlist_factory else []
        return Turn(Scene.REGISTERED, [Reply(text, buttons=join)])
    session.offer_id = secrets.token_hex(3)
    session.offer = [OfferedSlot(event_id=s.event_id, start=s.start, end=s.end, etag=s.etag) for s in slots]
    session.chosen = None
    rows = [
        [Button(day_label(day, session.language), Day(session.offer_id, f"{day:%Y%m%d}"))]
        for day in by_day(slots, ctx.rules, session.timezone)
    ]
    if ctx.waitlist_factory:
        rows.append([waitlist.join_button(session, "waitlist_none_fit_button")])
    picker = Reply(t(session.language, "choose_date"), buttons=rows)
    ask = timezone.question(ctx, session)  # once: the phone's country keeps another clock
    return Turn(Scene.DATES, [ask, picker] if ask else [picker])


def on_message(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    """Anything but a button while choosing (typed text goes to the assistant before it gets here)."""
    return Turn(session.scene, [say(session, "use_buttons")])


def on_day(ctx: SceneContext, session: Session, event: Incoming, button: Day) -> Turn:
    return times.show_day(ctx, session, button.day)


def on_back(ctx: SceneContext, session: Session, event: Incoming, button: BackToDays) -> Turn:
    """ "Back" from the times: a fresh list of days."""
    return show(ctx, session)
