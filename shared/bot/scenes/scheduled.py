"""Scene SCHEDULED: the booked lesson with 🔁 Reschedule / ✖ Cancel (until the self-service cut-off)."""

from __future__ import annotations

from datetime import timedelta

from shared.bot.callbacks import Cancel, Confirm, Rebook, Reschedule
from shared.bot.replies import Attachment, Button, Reply
from shared.bot.scenes import days, questions
from shared.bot.scenes.base import SceneContext, Turn, say
from shared.domain.booking import when_label
from shared.domain.calendar_file import LessonEvent, google_calendar_link, lesson_ics
from shared.domain.conversation import Incoming, Scene, Session
from shared.domain.leads import Lead
from shared.flows.booking import Problem
from shared.i18n import t


def booked(ctx: SceneContext, session: Session, lead: Lead) -> Turn:
    """The success message right after ✅: the lesson, its Zoom link and the buttons to change it, after
    the lesson for the parent's calendar: an .ics file any calendar app opens, with a button adding it to
    Google Calendar (the message with the change buttons stays last, where the parent looks)."""
    assert lead.lesson_at is not None and lead.booking_id is not None
    when = when_label(lead.lesson_at, session.language, ctx.rules, session.timezone)
    if lead.zoom_link:
        text = t(session.language, "booked", when=when, zoom_link=lead.zoom_link)
    else:
        text = t(session.language, "booked_no_zoom", when=when)
    event = _calendar_event(ctx, session, lead)
    google = Button(t(session.language, "google_calendar_button"), url=google_calendar_link(event))
    calendar_file = Reply(t(session.language, "ics_caption"), buttons=[[google]], document=_ics(ctx, event))
    return Turn(
        Scene.SCHEDULED, [calendar_file, Reply(text, buttons=_change_buttons(session, lead.booking_id))]
    )


def show_lesson(ctx: SceneContext, session: Session, lead: Lead) -> Turn:
    """The booked lesson as a reminder of what stands, with the same buttons."""
    assert lead.lesson_at is not None and lead.booking_id is not None
    text = t(
        session.language,
        "scheduled_info",
        when=when_label(lead.lesson_at, session.language, ctx.rules, session.timezone),
        zoom_link=lead.zoom_link or "—",
    )
    return Turn(Scene.SCHEDULED, [Reply(text, buttons=_change_buttons(session, lead.booking_id))])


def on_message(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    return questions.after_registration(ctx, session)


def on_reschedule(ctx: SceneContext, session: Session, event: Incoming, button: Reschedule) -> Turn:
    return _change(ctx, session, button.booking_id, reschedule=True)


def on_cancel(ctx: SceneContext, session: Session, event: Incoming, button: Cancel) -> Turn:
    return _change(ctx, session, button.booking_id, reschedule=False)


def on_confirm(ctx: SceneContext, session: Session, event: Incoming, button: Confirm) -> Turn:
    """✅ I'll be there under a reminder: thanked, with the lesson; a stale one shows what stands now."""
    booking = ctx.booking
    if booking is None:
        return Turn(session.scene, [say(session, "use_buttons")])
    ctx.claim()
    lead = booking.confirm(session.lead_id, button.booking_id)
    if isinstance(lead, Problem):
        return questions.after_registration(ctx, session).after(say(session, "use_buttons"))
    assert lead.lesson_at is not None
    when = when_label(lead.lesson_at, session.language, ctx.rules, session.timezone)
    return Turn(session.scene, [Reply(t(session.language, "lesson_confirmed", when=when))])


def on_rebook(ctx: SceneContext, session: Session, event: Incoming, button: Rebook) -> Turn:
    """📅 Pick a new time after a no-show: the day picker, as the parent's state allows it (booked again
    already: the lesson that stands; see `after_registration`). Booking anew makes it SCHEDULED."""
    if session.lead_id is None:
        return Turn(session.scene, [say(session, "use_buttons")])
    return questions.after_registration(ctx, session)


def _change(ctx: SceneContext, session: Session, booking_id: str, *, reschedule: bool) -> Turn:
    booking = ctx.booking
    ctx.claim()
    before = ctx.registration.lead(session.lead_id)
    result = booking.change(session.lead_id, booking_id, reschedule=reschedule) if booking else None
    link = ctx.settings.manager_link
    if result is None or result is Problem.NOT_CURRENT:
        return Turn(session.scene, [say(session, "use_buttons")])
    if result is Problem.TOO_LATE:
        hours = int(ctx.rules.self_service_cutoff.total_seconds() // 3600)
        return Turn(session.scene, [say(session, "too_late", hours=hours, manager_link=link)])
    if result is Problem.CALENDAR_DOWN:
        return Turn(session.scene, [say(session, "calendar_unavailable", manager_link=link)])
    if reschedule:
        return days.show(ctx, session)  # the new booking's file updates the same calendar event
    replies = [say(session, "cancelled")]
    if before is not None and before.lesson_at is not None:  # off the parent's calendar too
        event = _calendar_event(ctx, session, before)
        removal = Reply(t(session.language, "ics_cancel_caption"), document=_ics(ctx, event, cancel=True))
        replies.insert(0, removal)
    return Turn(Scene.REGISTERED, replies)


def _calendar_event(ctx: SceneContext, session: Session, lead: Lead) -> LessonEvent:
    assert lead.lesson_at is not None
    language = session.language
    details = t(language, "ics_description", zoom_link=lead.zoom_link or t(language, "ics_zoom_later"))
    return LessonEvent(
        uid=f"{lead.lead_id}@allinacademy",
        start=lead.lesson_at,
        end=lead.lesson_at + timedelta(minutes=ctx.rules.lesson_minutes),
        title=t(language, "ics_title"),
        description=details,
        url=lead.zoom_link,
        sequence=int(ctx.clock.now().timestamp()),  # later versions replace earlier ones
    )


def _ics(ctx: SceneContext, event: LessonEvent, *, cancel: bool = False) -> Attachment:
    content = lesson_ics(event, ctx.clock.now(), cancel=cancel)
    return Attachment("trial-lesson.ics", content, "text/calendar")


def _change_buttons(session: Session, booking_id: str) -> list[list[Button]]:
    return [
        [
            Button(t(session.language, "reschedule_button"), Reschedule(booking_id)),
            Button(t(session.language, "cancel_button"), Cancel(booking_id)),
        ]
    ]
