"""The managers' chat: the commands managers type there and the buttons of the lead cards it shows.

Only updates from the managers' chat (MANAGER_CHAT_ID) reach the desk, and Telegram delivers a group's
messages only from its members (and shows them only to members); MANAGER_IDS narrows who may press a
card's buttons. A parent typing the same commands in their own chat gets the parents' bot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from shared.bot.callbacks import Forget, HandoverDone, Mark
from shared.bot.replies import Button, Reply
from shared.domain.booking import BookingRules, day_label, local_day, time_label
from shared.domain.conversation import Session
from shared.domain.desk import lead_card, parse_lead_query
from shared.domain.email_chain import manager_time
from shared.domain.funnel import Counts, percent, since
from shared.domain.handover import HandoverState
from shared.domain.leads import Lead, LeadStatus
from shared.domain.timezones import zone_time
from shared.flows.erasure import Erased, Erasure
from shared.flows.lead_repository import LeadRepository
from shared.flows.marks import Marks, Refused, marks_for
from shared.flows.once import AlreadyDone, Busy, run_once
from shared.i18n import t
from shared.ports import Calendar, CalendarUnavailable, Clock, Lesson, NotifyError

if TYPE_CHECKING:
    from shared.flows.funnel import FunnelCounts
    from shared.flows.handover import Handover

# Change a parent's session from the managers' side: (chat_id, change) → changed? (None: no session).
ChangeSession = Callable[[int, Callable[[Session], bool]], bool | None]


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


@dataclass(frozen=True)
class Relayed:
    """A manager's reply to a parent's handover: sent, or `problem` says why not."""

    problem: str | None = None


@dataclass
class ManagerDesk:
    leads: LeadRepository
    marks: Callable[[], Marks]
    settings: DeskSettings
    clock: Clock | None = None  # what "today" is
    calendar: Callable[[], Calendar] | None = None  # None: no calendar, no lessons to list
    erasure: Callable[[], Erasure] | None = None  # /forget (None: not offered)
    forget_session: Callable[[int], None] | None = None  # the erased parent's chat session, deleted
    handover: Callable[[], Handover] | None = None  # parents' chats handed over to the managers
    change_session: ChangeSession | None = None
    funnel: Callable[[], FunnelCounts | None] | None = None  # the reconciler's last count (/stats)

    def command(self, name: str, payload: str) -> list[Reply]:
        """The answer to `/name payload` in the managers' chat."""
        if name == "lead":
            return [self._lead(payload)]
        if name in ("today", "week"):
            return [self._lessons(days=1 if name == "today" else 7)]
        if name == "forget":
            return [self._forget_asked(payload)]
        if name == "stats":
            return [self._stats(payload)]
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

    def reply(self, replied_to: int, text: str, update_id: int) -> Relayed | None:
        """A manager's message replying to `replied_to` in the managers' chat: sent to the parent when that
        is a handover's card or relayed message (a reply after ✔ Done opens the chat to the managers
        again). None when it is not a handover's (the managers' own talk)."""
        change_session = self.change_session
        if self.handover is None or change_session is None:
            return None
        handover, language = self.handover(), self.settings.language
        route = handover.route(replied_to)
        if route is None:
            return None
        if not text.strip():  # a photo, a sticker, a voice message: the bot relays words only
            return Relayed(t(language, "desk_reply_text_only"))
        now = self.clock.now() if self.clock is not None else datetime.now(UTC)

        def deliver() -> None:
            def reopen(session: Session) -> bool:
                session.handover = HandoverState(card=route.card, at=now)
                return True

            if change_session(route.chat_id, reopen) is None:
                raise _Gone
            handover.relay_to_parent(route, text)

        try:
            run_once(handover.store, f"desk-reply:{update_id}", deliver, clock=self.clock)
        except (AlreadyDone, Busy):  # a redelivery of a reply delivered (or being delivered) already
            return Relayed()
        except _Gone:
            return Relayed(t(language, "desk_handover_gone"))
        except NotifyError as exc:
            return Relayed(t(language, "desk_reply_blocked" if exc.blocked else "desk_reply_failed"))
        return Relayed()

    def handover_done(self, button: HandoverDone, manager: str, card_text: str) -> Pressed:
        """✔ Done under a handover's card: the bot answers the parent again, and tells them so."""
        language = self.settings.language
        if self.handover is None or self.change_session is None:
            return Pressed(t(language, "desk_handover_gone"), None)
        spoken: list[str] = []

        def close(session: Session) -> bool:
            if session.handover is None:
                return False
            session.handover, session.ai_misses = None, 0
            spoken[:] = [session.language]
            return True

        closed = self.change_session(button.chat_id, close)
        if closed is None:
            return Pressed(t(language, "desk_handover_gone"), None)
        if not closed:
            return Pressed(t(language, "desk_handover_already_done"), None)
        self.handover().tell_done(button.chat_id, spoken[0])
        when = manager_time(self.clock.now(), self.settings.timezone) if self.clock is not None else ""
        done = t(language, "desk_handover_done_by", who=manager, when=when)
        return Pressed(t(language, "desk_handover_done"), Reply(f"{card_text}\n\n{done}"))

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
            t(
                language,
                "desk_lessons_today" if days == 1 else "desk_lessons_week",
                zone=zone_time(rules.timezone, language),
            )
        ]
        day = None
        for lesson in lessons:
            if days > 1 and local_day(lesson.start, rules) != day:
                day = local_day(lesson.start, rules)
                lines.append(f"\n{day_label(day, language)}")
            lead = found.get(lesson.lead_id or "")
            lines.append(f"{time_label(lesson.start, rules)} — {_lesson_line(lead, lesson, language)}")
        return Reply("\n".join(lines))

    def _stats(self, payload: str) -> Reply:
        """The funnel of the leads that arrived in the last N days (default 30), per channel."""
        language = self.settings.language
        days = _days(payload)
        if days is None:
            return Reply(t(language, "desk_stats_usage"))
        counts = self.funnel() if self.funnel is not None else None
        if counts is None or self.clock is None:
            return Reply(t(language, "desk_stats_not_yet"))
        last = self.clock.now().astimezone(ZoneInfo(self.settings.timezone)).date()
        first = last - timedelta(days=days - 1)
        channels = since(counts.days, first, last)
        title = t(language, "desk_stats_title", days=days, first=f"{first:%d.%m}", last=f"{last:%d.%m}")
        updated = t(language, "desk_stats_updated", when=manager_time(counts.at, self.settings.timezone))
        if not channels:
            return Reply(f"{title}\n{t(language, 'desk_stats_no_leads')}\n\n{updated}")
        total = Counts()
        for found in channels.values():
            total.add(found)
        ordered = sorted(channels.items(), key=lambda item: (-item[1].leads, item[0]))
        lines = [title, _funnel_line(t(language, "desk_stats_total"), total, language), ""]
        lines += [_funnel_line(channel.label(), found, language) for channel, found in ordered]
        return Reply("\n".join([*lines, "", updated]))

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


def _days(payload: str) -> int | None:
    """`/stats`, `/stats 7`: the days to count (1 to 366); None for anything else."""
    text = payload.strip()
    if not text:
        return 30
    if not text.isdigit() or not 1 <= int(text) <= 366:
        return None
    return int(text)


def _funnel_line(label: str, c: Counts, language: str) -> str:
    return t(
        language,
        "desk_stats_line",
        channel=label,
        leads=c.leads,
        activated=c.activated,
        activated_pct=_pct(c.activated, c.leads),
        booked=c.booked,
        booked_pct=_pct(c.booked, c.activated),
        attended=c.attended,
        attended_pct=_pct(c.attended, c.booked),
        no_show=c.no_show,
        paid=c.paid,
        paid_pct=_pct(c.paid, c.leads),
    )


def _pct(part: int, whole: int) -> str:
    found = percent(part, whole)
    return f"{found}%" if found != "" else "—"


class _Gone(Exception):
    """The parent's chat is gone (their data deleted, or expired): nothing to send to."""


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
