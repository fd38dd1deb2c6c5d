"""The composition root's trial-lesson wiring: the calendar and Zoom, booking, the waitlist, the lesson
reminders and the nudges. A part of `shared.bootstrap.Container` (which mixes it in), kept apart because
it is the one part the reminders function and the bot's booking share; it builds from the same Settings
and the same ports, lazily and once per instance.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property, partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.bot.nudges import Nudges
    from shared.config import Settings
    from shared.domain.booking import BookingRules
    from shared.flows.booking import BookingFlow
    from shared.flows.crm_flush import FlushRequests
    from shared.flows.lead_repository import LeadRepository
    from shared.flows.outbox import Outbox
    from shared.flows.reminders import Reminders
    from shared.flows.waitlist import Waitlist
    from shared.ports import Calendar, Clock, Meetings, Scheduler, StateStore


class LessonWiring:
    """Booking, waitlist, reminders and nudges, built from the Container's settings and ports."""

    if TYPE_CHECKING:  # what the Container provides
        settings: Settings

        @property
        def store(self) -> StateStore: ...
        @property
        def leads(self) -> LeadRepository: ...
        @property
        def scheduler(self) -> Scheduler: ...
        @property
        def clock(self) -> Clock: ...
        @property
        def outbox(self) -> Outbox: ...
        @property
        def flushes(self) -> FlushRequests: ...

    @cached_property
    def calendar(self) -> Calendar:
        from shared.adapters.calendar import CALENDAR_SCOPE, GoogleCalendar
        from shared.adapters.google_api import build_google_service

        s = self.settings
        return GoogleCalendar(
            lambda: build_google_service(
                "calendar",
                "v3",
                api_url=s.calendar_api_url,
                timeout=s.calendar_timeout_seconds,
                scopes=[CALENDAR_SCOPE],
            ),
            s.google_calendar_id or "",
            marker=s.calendar_slot_marker,
            backoff_seconds=s.retry_backoff_seconds,
        )

    @cached_property
    def meetings(self) -> Meetings:
        from shared.adapters.zoom import ZoomMeetings

        s = self.settings
        return ZoomMeetings(
            account_id=s.zoom_account_id or "",
            client_id=s.zoom_client_id or "",
            client_secret=s.secret("zoom_client_secret"),
            api_url=s.zoom_api_url,
            oauth_url=s.zoom_oauth_url,
            timezone=s.academy_timezone,
            backoff_seconds=s.retry_backoff_seconds,
            timeout_seconds=s.zoom_timeout_seconds,
        )

    @cached_property
    def booking_rules(self) -> BookingRules:
        from shared.domain.booking import BookingRules

        s = self.settings
        return BookingRules(
            timezone=s.academy_timezone,
            horizon=timedelta(days=s.booking_horizon_days),
            min_notice=timedelta(hours=s.booking_min_notice_hours),
            self_service_cutoff=timedelta(hours=s.booking_cutoff_hours),
            lesson_minutes=s.lesson_minutes,
        )

    @cached_property
    def booking(self) -> BookingFlow:
        from shared.flows.booking import BookingFlow

        return BookingFlow(
            store=self.store,
            leads=self.leads,
            calendar=self.calendar,
            meetings=self.meetings,
            scheduler=self.scheduler,
            clock=self.clock,
            rules=self.booking_rules,
            manager_language=self.settings.manager_language,
            on_freed=lambda event_id, start, end: self.waitlist.freed(event_id, start, end),
        )

    @cached_property
    def waitlist(self) -> Waitlist:
        """The waitlist: joined in tg_webhook, offered and ended in reminders (which has no calendar:
        its booking is only reached from a parent's ✅, in tg_webhook)."""
        from shared.bot.keyboards import hold_keyboard
        from shared.flows.waitlist import Waitlist

        s = self.settings
        return Waitlist(
            store=self.store,
            leads=self.leads,
            outbox=self.outbox,
            scheduler=self.scheduler,
            clock=self.clock,
            rules=self.booking_rules,
            hold_for=timedelta(minutes=s.waitlist_hold_minutes),
            offer_buttons=hold_keyboard,
            booking=(lambda: self.booking) if s.google_calendar_id else None,
        )

    @cached_property
    def reminders(self) -> Reminders:
        from shared.bot.keyboards import rebook_keyboard, reminder_keyboard
        from shared.domain.booking import BookingRules
        from shared.flows.crm_flush import record_for_writer
        from shared.flows.reminders import Reminders

        return Reminders(
            leads=self.leads,
            outbox=self.outbox,
            rules=BookingRules(timezone=self.settings.academy_timezone),
            scheduler=self.scheduler,
            buttons=reminder_keyboard,
            rebook_button=rebook_keyboard,
            manager_link=self.settings.manager_link or "",
            record_crm=partial(record_for_writer, self.outbox, self.flushes),
            clock=self.clock,
        )

    @cached_property
    def nudges(self) -> Nudges:
        """Reminders to parents who stopped half-way (the reminders function runs them)."""
        from shared.bot.keyboards import nudge_keyboard
        from shared.bot.nudges import Nudges, NudgeSettings

        s = self.settings
        return Nudges(
            store=self.store,
            leads=self.leads,
            outbox=self.outbox,
            scheduler=self.scheduler,
            clock=self.clock,
            settings=NudgeSettings(
                first=timedelta(minutes=s.nudge_first_minutes),
                second=timedelta(hours=s.nudge_second_hours),
                timezone=s.academy_timezone,
                quiet_from=s.quiet_hours_from,
                quiet_until=s.quiet_hours_until,
                retention=timedelta(days=s.data_retention_days),
                booking=bool(s.google_calendar_id),
            ),
            buttons=nudge_keyboard,
        )
