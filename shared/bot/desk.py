"""The managers' chat: the commands managers type there and the buttons of the lead cards it shows.

Only updates from the managers' chat (MANAGER_CHAT_ID) reach the desk, and Telegram delivers a group's
messages only from its members (and shows them only to members); MANAGER_IDS narrows who may press a
card's buttons. A parent typing the same commands in their own chat gets the parents' bot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from shared.bot.callbacks import Forget, Mark
from shared.bot.replies import Button, Reply
from shared.domain.booking import BookingRules, day_label, local_day, time_label
from shared.domain.desk import lead_card, parse_lead_query
from shared.domain.email_chain import manager_time
from shared.domain.leads import Lead, LeadStatus
from shared.flows.erasure import Erased, Erasure
from shared.flows.lead_repository import LeadRepository
from shared.flows.marks import Marks, Refused, marks_for
from shared.i18n import t
from shared.ports import Calendar, CalendarUnavailable, Clock, Lesson


@dataclass(frozen=True)
class DeskSettings:
    language: str  # MANAGER_LANGUAGE
    timezone: str  # the academy's: lessons in the managers' local time
    phone_region: str  # for phone numbers typed without a country code
    sheet_url: str | None = None  # the CRM spreadsheet, linked from every card
    manager_ids: frozenset[int] = frozenset()  # who may press (empty: anyone in the managers' chat)


@dataclass(frozen=True)
class Pressed:
    """What a press comes to: the short answer on the button, and the card as it is now (None: no card
    to show any more)."""

    answer: str
    card: Reply | None


@dataclass
class ManagerDesk:
    leads: LeadRepository
    marks: Callable[[], Marks]
    settings: DeskSettings
    clock: Clock | None = None  # what "today" is
    calendar: Callable[[], Calendar] | None = None  # None: no calendar, no lessons to list
    erasure: Callable[[], Erasure] | None = None  # /forget (None: not offered)
    forget_session: Callable[[int], None] | None = None  # the erased parent's chat session, deleted

    def command(self, name: str, payload: str) -> list[Reply]:
        """The answer to `/name payload` in the managers' chat."""
        if name == "lead":
            return [self._lead(payload)]
        if name in ("today", "week"):
            return [self._lessons(days=1 if name == "today" else 7)]
        if name == "forget":
            return [self._forget_asked(payload)]
        return [Reply(t(self.settings.language, "desk_help"))]

    def may_press(self, user_id: int) -> bool:
        return not self.settings.manager_ids or user_id in self.settings.manager_ids

    def press(self, button: Mark, manager: str, press_id: str) -> Pressed:
        """A card's button pressed by `manager` (a name for the Log); `press_id` is the callback query's."""
        language = self.settings.language
        result = self.marks().mark(button.lead_id, LeadStatus(button.status), manager, press_id)
        if result is Refused.UNKNOWN_LEAD:
            return Pressed(t(language, "desk_lead_gone"), None)
        if isinstance(result, Refused):
            current = self.leads.get(button.lead_id)
            key = {Refused.NOT_NOW: "desk_mark_stale", Refused.TOO_EARLY: "desk_mark_too_early"}.get(
                result, "desk_mark_retry"
            )
            return Pressed(t(language, key), self.card(current) if current else None)
        return Pressed(t(language, f"desk_status_{result.status.value}"), self.card(result))

    def forget(self, lead_id: str, manager: str) -> Pressed:
        """🗑 pressed under /forget: the lead's data deleted as the parent's own /delete_me would."""
        language = self.settings.language
        lead = self.leads.get(lead_id)
        if lead is None or self.erasure is None:
            return Pressed(t(language, "desk_lead_gone"), None)
        result = self.erasure().erase(lead.tg_id, lead_id, by=manager)
        if not isinstance(result, Erased):
            return Pressed(t(language, "desk_forget_failed"), None)
        if lead.tg_id is not None and self.forget_session is not None:
            self.forget_session(lead.tg_id)  # the bot greets them as new if they write again
        done = t(language, "desk_forgotten", lead_id=lead_id)
        return Pressed(done, Reply(done))  # the card's contacts are gone from the chat too

    def card(self, lead: Lead) -> Reply:
        language = self.settings.language
        text = lead_card(lead, self.settings.timezone, language)
        if lead.marked_by and lead.marked_at:
            when = manager_time(lead.marked_at, self.settings.timezone)
            text += "\n" + t(language, "desk_marked_by", who=lead.marked_by, when=when)
        buttons = [
            [
                Button(t(language, f"desk_status_{status.value}"), Mark(status.value, lead.lead_id))
                for status in marks_for(lead)
            ]
        ]
        if self.settings.sheet_url:
            buttons.append([Button(t(language, "desk_sheet_button"), url=self.settings.sheet_url)])
        return Reply(text, buttons=[row for row in buttons if row])

    def _lessons(self, days: int) -> Reply:
        """The lessons from the start of today (the academy's) for `days` days: one compact list."""
        language, rules = self.settings.language, BookingRules(timezone=self.settings.timezone)
        if self.calendar is None or self.clock is None:
            return Reply(t(language, "desk_no_calendar"))
        zone = ZoneInfo(self.settings.timezone)
        first = self.clock.now().astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            lessons = self.calendar().lessons(first, first + timedelta(days=days))
        except CalendarUnavailable:
            return Reply(t(language, "calendar_unavailable_managers"))
        if not lessons:
            return Reply(t(language, "desk_no_lessons_today" if days == 1 else "desk_no_lessons_week"))
        found = self.leads.get_many([lesson.lead_id for lesson in lessons if lesson.lead_id])
        lines = [
            t(language, "desk_lessons_today" if days == 1 else "desk_lessons_week", timezone=rules.timezone)
        ]
        day = None
        for lesson in lessons:
            if days > 1 and local_day(lesson.start, rules) != day:
                day = local_day(lesson.start, rules)
                lines.append(f"\n{day_label(day, language)}")
            lead = found.get(lesson.lead_id or "")
            lines.append(f"{time_label(lesson.start, rules)} — {_lesson_line(lead, lesson, language)}")
        return Reply("\n".join(lines))

    def _forget_asked(self, payload: str) -> Reply:
        """The card of the lead to forget, with the one button that does it."""
        language = self.settings.language
        if parse_lead_query(payload, self.settings.phone_region) is None:
            return Reply(t(language, "desk_forget_usage"))
        lead = self._find(payload)
        if isinstance(lead, Reply):
            return lead
        text = f"{lead_card(lead, self.settings.timezone, language)}\n\n{t(language, 'desk_forget_confirm')}"
        return Reply(text, buttons=[[Button(t(language, "desk_forget_button"), Forget(lead.lead_id))]])

    def _lead(self, payload: str) -> Reply:
        found = self._find(payload)
        return found if isinstance(found, Reply) else self.card(found)

    def _find(self, payload: str) -> Lead | Reply:
        """The lead a manager named, or the answer saying why there is none."""
        language = self.settings.language
        query = parse_lead_query(payload, self.settings.phone_region) if payload.strip() else None
        if query is None:
            return Reply(t(language, "desk_lead_usage"))
        if query.by == "id":
            lead = self.leads.get(query.value)
        elif query.by == "email":
            lead = self.leads.find_by(email=query.value)
        else:
            lead = self.leads.find_by(phone=query.value)
        if lead is None:
            return Reply(t(language, "desk_lead_not_found", query=payload.strip()[:100]))
        return lead


def _lesson_line(lead: Lead | None, lesson: Lesson, language: str) -> str:
    """Who comes, how old the child is, the status and the Zoom link; the event's title for anything
    the calendar holds without a lead of ours."""
    if lead is None:
        return lesson.summary or "—"
    parts = [lead.name or "—"]
    if lead.child_age:
        parts[0] += f" ({lead.child_age})"
    parts.append(lead.status.value)
    parts.append(lead.zoom_link or t(language, "manager_zoom_missing"))
    return " · ".join(parts)
