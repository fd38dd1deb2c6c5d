"""Where registration goes next: the first unanswered question, or the parent saved and on to booking."""

from __future__ import annotations

from shared.bot.replies import Reply
from shared.bot.scenes import days, email, name, phone, scheduled
from shared.bot.scenes.base import SceneContext, Turn, parent_of, say
from shared.domain.conversation import Incoming, Scene, Session
from shared.domain.leads import LeadStatus
from shared.flows.registration import Contacts
from shared.i18n import t

REGISTERED_SCENES = (Scene.REGISTERED, Scene.DATES, Scene.TIMES, Scene.CONFIRM, Scene.SCHEDULED)


def next_question(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    """Ask what is still unknown; with everything known, save the parent and offer the lesson."""
    if session.scene in REGISTERED_SCENES and session.lead_id:  # /start again: nothing new to save
        return after_registration(ctx, session)
    if not session.phone:
        return phone.show(ctx, session)
    if not session.email:
        return email.show(ctx, session)
    if not session.name:
        return name.show(ctx, session)
    contacts = Contacts(session.phone, session.email, session.name, session.language)
    ctx.claim()
    lead = ctx.registration.register(contacts, parent_of(event), session.lead_id)
    session.lead_id = lead.lead_id
    if session.timezone and lead.timezone != session.timezone:  # chosen with /timezone before registering
        ctx.registration.set_timezone(lead.lead_id, session.timezone)
    thanks = Reply(t(session.language, "registered", name=session.name), remove_keyboard=True)
    return after_registration(ctx, session).after(thanks)


def after_registration(ctx: SceneContext, session: Session) -> Turn:
    """The booked lesson with its buttons, or the day picker, or (no calendar) the manager's contact."""
    if ctx.booking_factory is None:
        return Turn(
            Scene.REGISTERED, [say(session, "registered_next", manager_link=ctx.settings.manager_link)]
        )
    lead = ctx.registration.lead(session.lead_id)
    if lead is not None and lead.status is LeadStatus.ATTENDED:  # the trial is behind them
        return Turn(
            Scene.REGISTERED, [say(session, "after_attended", manager_link=ctx.settings.manager_link)]
        )
    if lead is not None and lead.status is LeadStatus.NO_SHOW:
        if lead.rebook_offer not in (None, lead.booking_id):  # missed twice: a manager finds the time
            link = ctx.settings.manager_link
            return Turn(Scene.REGISTERED, [say(session, "after_no_show_again", manager_link=link)])
        return days.show(ctx, session)  # missed: a new time (a past lesson is not "booked")
    if lead is not None and lead.booking_id and lead.lesson_at:
        return scheduled.show_lesson(ctx, session, lead)
    return days.show(ctx, session)
