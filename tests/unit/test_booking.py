"""Booking on fakes: days, times, confirm, races, Zoom down, reschedule, cancel, reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fakeredis
import icalendar
import pytest

from shared.adapters.store_redis import RedisStore
from shared.bot import scenes
from shared.bot.callbacks import Confirm, Consent, encode
from shared.bot.keyboards import rebook_keyboard
from shared.bot.replies import Reply
from shared.domain.booking import BookingRules, time_label
from shared.domain.conversation import Incoming, Scene, Session
from shared.domain.jobs import AfterLesson, Reminder, ReminderKind, reminders_for
from shared.domain.leads import LeadStatus
from shared.flows.booking import BookingFlow
from shared.flows.crm_flush import FlushRequests
from shared.flows.lead_repository import LeadRepository
from shared.flows.marks import Marks, Refused
from shared.flows.outbox import DeliveryOutcome, Outbox
from shared.flows.reminders import Reminders
from shared.i18n import t
from tests.factories import outbox, scene_context
from tests.fakes import (
    FixedClock,
    RecordingCalendar,
    RecordingCrm,
    RecordingMeetings,
    RecordingNotifier,
    RecordingScheduler,
)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
RULES = BookingRules(timezone="Europe/Riga")
CONSENT = encode(Consent())


class Academy:
    """One store, calendar and Zoom shared by several parents' chats."""

    def __init__(self, manager_language: str = "ru") -> None:
        self.store = RedisStore(fakeredis.FakeRedis())
        self.leads = LeadRepository(self.store)
        self.scheduler = RecordingScheduler()
        self.clock = FixedClock(NOW)
        self.calendar = RecordingCalendar()
        self.meetings = RecordingMeetings()
        self.crm = RecordingCrm()
        self.booking = BookingFlow(
            store=self.store,
            leads=self.leads,
            calendar=self.calendar,
            meetings=self.meetings,
            scheduler=self.scheduler,
            clock=self.clock,
            rules=RULES,
            manager_language=manager_language,
        )
        self.scenes = scene_context(self.leads, self.scheduler, self.clock, booking=self.booking)
        self.calendar.add_slot("ev-tomorrow-10", NOW + timedelta(days=1, hours=1))
        self.calendar.add_slot("ev-tomorrow-14", NOW + timedelta(days=1, hours=5))
        self.calendar.add_slot("ev-too-soon", NOW + timedelta(hours=1))
        self.calendar.add_slot("ev-too-far", NOW + timedelta(days=20))


class Parent:
    def __init__(self, academy: Academy, user_id: int, phone: str, email: str) -> None:
        self.academy = academy
        self.user_id = user_id
        self.session = Session(chat_id=user_id)
        self.last: list[Reply] = []
        self.send("command", text="start")
        self.press(CONSENT)
        self.send(text=phone)
        self.send(text=email)
        self.send(text="Анна")

    def send(self, kind: str = "text", **fields: object) -> list[Reply]:
        event = Incoming(kind, chat_id=self.user_id, user_id=self.user_id, language_code="ru", **fields)  # type: ignore[arg-type]
        self.last = scenes.advance(self.academy.scenes, self.session, event).replies
        return self.last

    def press(self, data: str) -> list[Reply]:
        return self.send("callback", callback_data=data)

    def buttons(self) -> list[tuple[str, str]]:
        return [(b.text, b.callback_data or "") for r in self.last for row in r.buttons for b in row]

    def press_labelled(self, label: str) -> list[Reply]:
        return self.press(next(data for text, data in self.buttons() if label in text))

    def book_first_slot(self) -> list[Reply]:
        self.press(self.buttons()[0][1])  # the first day
        self.press(self.buttons()[0][1])  # its first time
        return self.press_labelled("Подтвердить")

    @property
    def lead(self):  # type: ignore[no-untyped-def]
        return self.academy.leads.get(self.session.lead_id or "")


def academy_outbox(academy: Academy, notifier: RecordingNotifier) -> Outbox:
    return outbox(academy.store, academy.clock, academy.leads, academy.crm, notifier)


@pytest.fixture
def academy() -> Academy:
    return Academy()


def test_days_offered_after_registration_respect_notice_and_horizon(academy: Academy) -> None:
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    assert parent.session.scene is Scene.DATES
    assert [text for text, _ in parent.buttons()] == ["Ср, 25 ноя"]
    times = parent.press(parent.buttons()[0][1])
    assert [text for text, _ in parent.buttons()] == [
        "12:00",
        "16:00",
        "← Назад",
    ]  # Riga is UTC+2 in November
    assert "(по рижскому времени)" in times[0].text  # the zone as people say it


def test_the_calendar_entry_is_in_the_managers_language_and_zoom_in_the_parents() -> None:
    academy = Academy(manager_language="en")
    Parent(academy, 1, "+79161234567", "anna@example.com").book_first_slot()
    event = academy.calendar.events["ev-tomorrow-10"]
    assert event["summary"] == "Trial lesson: Анна"
    assert "Parent: Анна" in event["description"] and "Phone: +79161234567" in event["description"]
    assert academy.meetings.topics == ["All In Academy: пробный урок (Анна)"]


def test_booking_takes_the_slot_creates_zoom_and_schedules_reminders(academy: Academy) -> None:
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    done = parent.book_first_slot()
    assert "https://zoom.us/j/" in done[-1].text and "12:00 по рижскому времени" in done[-1].text
    lead = parent.lead
    assert lead.status is LeadStatus.SCHEDULED and lead.calendar_event_id == "ev-tomorrow-10"
    assert lead.zoom_link and lead.lesson_at == NOW + timedelta(days=1, hours=1)
    event = academy.calendar.events["ev-tomorrow-10"]
    assert event["summary"] == "Пробный урок: Анна" and lead.zoom_link in event["description"]
    reminders = {job.run_at for job in academy.scheduler.jobs.values() if job.target == "reminders"}
    assert reminders == {lead.lesson_at - timedelta(hours=24), lead.lesson_at - timedelta(hours=5)}
    assert any(job.payload.get("event") == "scheduled" for job in academy.scheduler.jobs.values())
    assert parent.session.scene is Scene.SCHEDULED
    assert {label for label, _ in parent.send(text="привет") and parent.buttons()} == {
        "🔁 Перенести",
        "✖ Отменить",
    }


def test_reminder_already_in_the_past_is_skipped(academy: Academy) -> None:
    academy.calendar.events.clear()
    academy.calendar.add_slot("ev-soon", NOW + timedelta(hours=4))
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    parent.book_first_slot()
    kinds = [job.payload["kind"] for job in academy.scheduler.jobs.values() if job.target == "reminders"]
    assert kinds == []  # −24 h and −5 h are both before now


def test_two_parents_confirming_one_slot_end_with_one_booking(academy: Academy) -> None:
    anna = Parent(academy, 1, "+79161234567", "anna@example.com")
    boris = Parent(academy, 2, "+79162223344", "boris@example.com")
    for parent in (anna, boris):  # both look at the same slot
        parent.press(parent.buttons()[0][1])
        parent.press(parent.buttons()[0][1])
    anna.press_labelled("Подтвердить")
    refused = boris.press_labelled("Подтвердить")
    assert "только что заняли" in refused[0].text
    assert anna.lead.status is LeadStatus.SCHEDULED and boris.lead.status is LeadStatus.ACTIVATED
    boris.press(boris.buttons()[0][1])
    assert [text for text, _ in boris.buttons()] == ["16:00", "← Назад"]  # fresh slots, the taken one gone
    assert len(academy.meetings.created) == 1


def test_slot_changed_in_the_calendar_meanwhile_is_refused(academy: Academy) -> None:
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    parent.press(parent.buttons()[0][1])
    parent.press(parent.buttons()[0][1])
    academy.calendar.edit("ev-tomorrow-10", "FREE (moved by a manager)")
    refused = parent.press_labelled("Подтвердить")
    assert "только что заняли" in refused[0].text and parent.lead.status is LeadStatus.ACTIVATED
    assert academy.meetings.deleted == list(academy.meetings.created)  # the meeting made for it is gone


def test_zoom_down_keeps_the_booking_and_says_a_manager_sends_the_link(academy: Academy) -> None:
    academy.meetings.down = True
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    done = parent.book_first_slot()
    assert "менеджер" in done[-1].text.lower() and parent.lead.status is LeadStatus.SCHEDULED
    assert parent.lead.zoom_link is None


def test_reschedule_frees_everything_and_offers_days_again(academy: Academy) -> None:
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    parent.book_first_slot()
    old = parent.lead
    parent.send(text="?")
    parent.press_labelled("Перенести")
    assert academy.calendar.events["ev-tomorrow-10"]["summary"] == "FREE"
    assert academy.meetings.deleted == [old.zoom_meeting_id]
    assert {r.task_name() for r in reminders_for(old.lead_id, old.booking_id)} <= set(
        academy.scheduler.cancelled
    )
    assert parent.session.scene is Scene.DATES and parent.lead.booking_id is None
    parent.book_first_slot()  # the freed slot can be booked again
    assert parent.lead.calendar_event_id == "ev-tomorrow-10"


def test_cancel_and_cutoff(academy: Academy) -> None:
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    parent.book_first_slot()
    parent.send(text="?")
    academy.clock.advance(hours=24)  # 1 h before the lesson: inside the 2 h cut-off
    refused = parent.press_labelled("Отменить")
    assert "менеджер" in refused[0].text.lower() and parent.lead.status is LeadStatus.SCHEDULED
    academy.clock.advance(hours=-24)
    parent.send(text="?")
    parent.press_labelled("Отменить")
    assert parent.lead.status is LeadStatus.CANCELLED and parent.lead.lesson_at is None


def test_forged_button_cannot_touch_another_parents_booking(academy: Academy) -> None:
    anna = Parent(academy, 1, "+79161234567", "anna@example.com")
    anna.book_first_slot()
    boris = Parent(academy, 2, "+79162223344", "boris@example.com")
    boris.press(f"cancel:{anna.lead.booking_id}")
    boris.press("slot:ffffff:0")
    assert (
        anna.lead.status is LeadStatus.SCHEDULED
        and academy.calendar.events["ev-tomorrow-10"]["summary"] != "FREE"
    )


def test_slots_are_cached_for_thirty_seconds(academy: Academy) -> None:
    Parent(academy, 1, "+79161234567", "anna@example.com")
    Parent(academy, 2, "+79162223344", "boris@example.com")
    assert academy.calendar.list_calls == 1


def test_times_follow_daylight_saving() -> None:
    # Riga moves to summer time on 29 March 2026: 10:00 UTC is 12:00 before and 13:00 after.
    assert time_label(datetime(2026, 3, 28, 10, 0, tzinfo=UTC), RULES) == "12:00"
    assert time_label(datetime(2026, 3, 30, 10, 0, tzinfo=UTC), RULES) == "13:00"


class TestReminders:
    def test_sent_once_and_never_for_an_old_booking(self, academy: Academy) -> None:
        notifier = RecordingNotifier()
        reminders = Reminders(academy.leads, academy_outbox(academy, notifier), RULES)
        parent = Parent(academy, 1, "+79161234567", "anna@example.com")
        parent.book_first_slot()
        first = parent.lead
        day_before = Reminder(kind=ReminderKind.H24, lead_id=first.lead_id, booking_id=first.booking_id)
        assert reminders.run(day_before) == "sent"
        assert reminders.run(day_before) == "duplicate"
        assert notifier.parents[0][0] == 1 and first.zoom_link in notifier.parents[0][1]
        parent.send(text="?")
        parent.press_labelled("Перенести")
        parent.book_first_slot()
        old = Reminder(kind=ReminderKind.H5, lead_id=first.lead_id, booking_id=first.booking_id)
        assert reminders.run(old) == "skipped"
        assert len(notifier.parents) == 1

    def test_telegram_down_keeps_the_reminder_until_it_is_back(self, academy: Academy) -> None:
        notifier = RecordingNotifier(fail_next=1)
        box = academy_outbox(academy, notifier)
        reminders = Reminders(academy.leads, box, RULES)
        parent = Parent(academy, 1, "+79161234567", "anna@example.com")
        parent.book_first_slot()
        booked = parent.lead
        job = Reminder(kind=ReminderKind.H24, lead_id=booked.lead_id, booking_id=booked.booking_id)
        assert reminders.run(job) == "pending" and notifier.parents == []
        academy.clock.advance(minutes=5)
        assert box.redrive() == {DeliveryOutcome.DONE: 1}
        assert len(notifier.parents) == 1 and booked.zoom_link in notifier.parents[0][1]
        assert box.redrive() == {}
        assert reminders.run(job) == "duplicate" and len(notifier.parents) == 1

    def test_a_moved_lesson_never_gets_its_pending_reminder(self, academy: Academy) -> None:
        notifier = RecordingNotifier(fail_next=1)
        box = academy_outbox(academy, notifier)
        parent = Parent(academy, 1, "+79161234567", "anna@example.com")
        parent.book_first_slot()
        first = parent.lead
        job = Reminder(kind=ReminderKind.H5, lead_id=first.lead_id, booking_id=first.booking_id)
        assert Reminders(academy.leads, box, RULES).run(job) == "pending"
        parent.send(text="?")
        parent.press_labelled("Отменить")
        academy.clock.advance(minutes=5)
        assert box.redrive() == {DeliveryOutcome.DONE: 1}  # done: there is nothing left to remind of
        assert notifier.parents == []

    def test_a_blocked_bot_stops_the_reminder_and_is_noted_for_the_crm(self, academy: Academy) -> None:
        notifier = RecordingNotifier(blocked={1})
        box = academy_outbox(academy, notifier)
        parent = Parent(academy, 1, "+79161234567", "anna@example.com")
        parent.book_first_slot()
        lead = parent.lead
        job = Reminder(kind=ReminderKind.H24, lead_id=lead.lead_id, booking_id=lead.booking_id)
        assert Reminders(academy.leads, box, RULES).run(job) == "blocked"
        assert parent.lead.bot_blocked
        five_hours = Reminder(kind=ReminderKind.H5, lead_id=lead.lead_id, booking_id=lead.booking_id)
        assert Reminders(academy.leads, box, RULES).run(five_hours) == "skipped"  # no second try
        academy.clock.advance(minutes=5)
        assert box.redrive() == {DeliveryOutcome.DONE: 2}  # the CRM row and its Log row
        assert academy.crm.row(lead.lead_id)["bot_blocked"] is True
        assert [entry.event for entry in academy.crm.log] == ["BOT_BLOCKED"]


def test_calendar_down_tells_the_parent_and_books_nothing(academy: Academy) -> None:
    academy.calendar.fail = True
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    assert "расписание" in parent.last[-1].text and "https://t.me/allin_manager" in parent.last[-1].text
    assert parent.session.scene is Scene.REGISTERED and parent.lead.status is LeadStatus.ACTIVATED
    academy.calendar.fail = False
    parent.send(text="?")  # asking again once the calendar is back offers the days
    assert parent.session.scene is Scene.DATES


def test_stale_day_button_from_an_old_offer_gets_fresh_days(academy: Academy) -> None:
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    old_day = parent.buttons()[0][1]
    parent.press("back:days")  # a new offer replaces the old one
    replies = parent.press(old_day)
    assert parent.session.scene is Scene.DATES and "кнопками" in replies[0].text


def test_the_booked_message_carries_reschedule_and_cancel(academy: Academy) -> None:
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    calendar_file, done = parent.book_first_slot()
    assert "Готово" in done.text
    assert [label for label, _ in parent.buttons()] == ["📅 В Google Календарь", "🔁 Перенести", "✖ Отменить"]
    link = calendar_file.buttons[0][0].url
    assert link is not None and "dates=20261125T100000Z%2F20261125T110000Z" in link
    assert calendar_file.document is not None and calendar_file.document.filename == "trial-lesson.ics"
    [lesson] = icalendar.Calendar.from_ical(calendar_file.document.content).walk("VEVENT")
    assert lesson.decoded("DTSTART") == NOW + timedelta(days=1, hours=1)
    cancelled = parent.press_labelled("Отменить")  # straight from the success message
    assert parent.lead.status is LeadStatus.CANCELLED and parent.session.scene is Scene.REGISTERED
    assert cancelled[0].document is not None and cancelled[-1].text == t("ru", "cancelled")
    removed = icalendar.Calendar.from_ical(cancelled[0].document.content)
    assert removed["METHOD"] == "CANCEL" and removed.walk("VEVENT")[0]["UID"] == lesson["UID"]


def test_an_old_day_button_never_books_a_second_lesson(academy: Academy) -> None:
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    old_day = parent.buttons()[0][1]
    parent.book_first_slot()
    booked = parent.lead
    replies = parent.press(old_day)  # the day picker above the booking, pressed again
    assert "кнопками" in replies[0].text and parent.session.scene is Scene.SCHEDULED
    parent.press("back:days")
    assert parent.session.scene is Scene.SCHEDULED and parent.lead.booking_id == booked.booking_id
    assert len(academy.meetings.created) == 1


class Killed(BaseException):
    """The process dies here (a SIGKILL, a lost instance): nothing after it runs, nothing is undone."""


def _at_confirm(academy: Academy) -> tuple[Parent, str]:
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    parent.press(parent.buttons()[0][1])  # the first day
    parent.press(parent.buttons()[0][1])  # its first time
    return parent, next(data for text, data in parent.buttons() if "Подтвердить" in text)


@pytest.mark.parametrize("dies", ["after_zoom", "after_calendar", "after_the_lead"])
def test_a_booking_killed_half_way_is_finished_when_the_press_comes_again(
    academy: Academy, monkeypatch: pytest.MonkeyPatch, dies: str
) -> None:
    parent, confirm = _at_confirm(academy)
    book, schedule = academy.calendar.book, academy.scheduler.schedule

    def calendar_book(slot, summary, description):  # type: ignore[no-untyped-def]
        if dies == "after_calendar":
            book(slot, summary, description)
        raise Killed

    def scheduler_schedule(job, run_at=None):  # type: ignore[no-untyped-def]
        raise Killed

    if dies == "after_the_lead":
        monkeypatch.setattr(academy.scheduler, "schedule", scheduler_schedule)
    else:
        monkeypatch.setattr(academy.calendar, "book", calendar_book)
    with pytest.raises(Killed):
        parent.press(confirm)
    monkeypatch.setattr(academy.calendar, "book", book)
    monkeypatch.setattr(academy.scheduler, "schedule", schedule)

    replies = parent.press(confirm)  # Telegram delivers the unanswered press again
    assert "Готово" in replies[-1].text
    lead = parent.lead
    assert lead.status is LeadStatus.SCHEDULED and lead.calendar_event_id == "ev-tomorrow-10"
    (meeting,) = academy.meetings.created.values()  # no second Zoom meeting
    assert lead.zoom_link == meeting.join_url and meeting.join_url in replies[-1].text
    assert academy.calendar.events["ev-tomorrow-10"]["summary"] == "Пробный урок: Анна"
    kinds = sorted(
        job.payload.get("kind") or job.payload["step"]
        for job in academy.scheduler.jobs.values()
        if job.payload.get("lead_id") == lead.lead_id and job.payload.get("step") != "email1"
    )
    assert "remind24h" in kinds and "sync" in kinds  # reminders and the CRM sync are not lost either


class TestConfirmation:
    """✅ I'll be there under the reminders; a lesson left unconfirmed at the last one is news."""

    def reminders(self, academy: Academy, notifier: RecordingNotifier) -> Reminders:
        def buttons(booking_id: str, language: str) -> dict[str, object]:
            data = encode(Confirm(booking_id))
            return {"inline_keyboard": [[{"text": t(language, "attend_button"), "callback_data": data}]]}

        box = academy_outbox(academy, notifier)
        return Reminders(academy.leads, box, RULES, scheduler=academy.scheduler, buttons=buttons)

    def unconfirmed(self, academy: Academy) -> list[str]:
        return [
            name for name, job in academy.scheduler.jobs.items() if job.payload.get("event") == "unconfirmed"
        ]

    def test_a_confirmed_lesson_is_thanked_and_told_to_the_managers_once(self, academy: Academy) -> None:
        notifier = RecordingNotifier()
        reminders = self.reminders(academy, notifier)
        parent = Parent(academy, 1, "+79161234567", "anna@example.com")
        parent.book_first_slot()
        booked = parent.lead
        day_before = Reminder(kind=ReminderKind.H24, lead_id=booked.lead_id, booking_id=booked.booking_id)
        assert reminders.run(day_before) == "sent"
        [markup] = notifier.markups
        assert markup is not None
        [[attend]] = markup["inline_keyboard"]
        assert attend["text"] == "✅ Буду"
        [thanks] = parent.press(attend["callback_data"])
        assert thanks.text == "Спасибо! Ждём вас: Ср, 25 ноя, 12:00 по рижскому времени."
        assert parent.lead.confirmed_at == NOW and parent.session.scene is Scene.SCHEDULED
        confirmed = [j for j in academy.scheduler.jobs.values() if j.payload.get("event") == "confirmed"]
        assert len(confirmed) == 1
        parent.press(attend["callback_data"])  # pressed twice: told once
        assert len([j for j in academy.scheduler.jobs.values() if j.payload.get("event") == "confirmed"]) == 1
        last_call = Reminder(kind=ReminderKind.H5, lead_id=booked.lead_id, booking_id=booked.booking_id)
        assert reminders.run(last_call) == "sent"
        assert notifier.markups[-1] is None and self.unconfirmed(academy) == []  # no need to ask again

    def test_an_unconfirmed_lesson_is_asked_again_then_told_to_the_managers(self, academy: Academy) -> None:
        notifier = RecordingNotifier()
        reminders = self.reminders(academy, notifier)
        parent = Parent(academy, 1, "+79161234567", "anna@example.com")
        parent.book_first_slot()
        booked = parent.lead
        last_call = Reminder(kind=ReminderKind.H5, lead_id=booked.lead_id, booking_id=booked.booking_id)
        assert reminders.run(last_call) == "sent" and notifier.markups[-1] is not None
        assert len(self.unconfirmed(academy)) == 1
        assert reminders.run(last_call) == "duplicate" and len(self.unconfirmed(academy)) == 1

    def test_a_confirm_from_an_old_booking_changes_nothing(self, academy: Academy) -> None:
        parent = Parent(academy, 1, "+79161234567", "anna@example.com")
        parent.book_first_slot()
        old = parent.lead.booking_id
        parent.send(text="?")
        parent.press_labelled("Перенести")
        parent.book_first_slot()
        replies = parent.press(encode(Confirm(old)))
        assert replies[0].text == t("ru", "use_buttons") and parent.lead.confirmed_at is None
        assert "Пробный урок" in replies[1].text or "урок" in replies[1].text  # what stands now


MANAGER_LINK = "https://t.me/allin_manager"


class TestAfterLesson:
    """The parent's message after the trial lesson, decided by the lead's status when it runs."""

    def reminders(self, academy: Academy, notifier: RecordingNotifier) -> Reminders:
        box = academy_outbox(academy, notifier)
        return Reminders(academy.leads, box, RULES, rebook_button=rebook_keyboard, manager_link=MANAGER_LINK)

    def marked(self, academy: Academy, parent: Parent, status: LeadStatus) -> AfterLesson:
        """The lesson is over and a manager marked it (the desk's Marks, with its scheduled message)."""
        academy.clock.advance(days=2)
        flushes = FlushRequests(academy.store, academy.scheduler, academy.clock, timedelta(seconds=5))
        marks = Marks(academy.store, academy.leads, flushes, academy.clock, scheduler=academy.scheduler)
        press = f"press-{academy.clock.now().timestamp():.0f}"  # each callback query has its own id
        assert not isinstance(marks.mark(parent.lead.lead_id, status, "Ольга", press), Refused)
        [job] = [
            j for name, j in academy.scheduler.jobs.items() if f"-after-{parent.lead.booking_id}" in name
        ]
        assert job.run_at == academy.clock.now() + timedelta(minutes=10)  # a corrected press settles first
        return AfterLesson.model_validate(job.payload)

    def test_attended_is_thanked_once(self, academy: Academy) -> None:
        notifier = RecordingNotifier()
        parent = Parent(academy, 1, "+79161234567", "anna@example.com")
        parent.book_first_slot()
        job = self.marked(academy, parent, LeadStatus.ATTENDED)
        reminders = self.reminders(academy, notifier)
        assert reminders.after_lesson(job) == "sent" and reminders.after_lesson(job) == "duplicate"
        assert notifier.parents == [(1, t("ru", "after_attended", manager_link=MANAGER_LINK))]
        reply = parent.send("command", text="start")[-1]  # the trial is behind them: no past "booking"
        assert reply.text == t("ru", "after_attended", manager_link=MANAGER_LINK)

    def test_a_no_show_is_offered_a_new_time_once_in_the_leads_life(self, academy: Academy) -> None:
        notifier = RecordingNotifier()
        reminders = self.reminders(academy, notifier)
        academy.calendar.add_slot("ev-later", NOW + timedelta(days=3, hours=1))
        parent = Parent(academy, 1, "+79161234567", "anna@example.com")
        parent.book_first_slot()
        job = self.marked(academy, parent, LeadStatus.NO_SHOW)
        assert reminders.after_lesson(job) == "sent"
        assert notifier.parents[-1] == (1, t("ru", "after_no_show"))
        [[rebook]] = notifier.markups[-1]["inline_keyboard"]  # type: ignore[index]
        days = parent.press(rebook["callback_data"])
        assert parent.session.scene is Scene.DATES and "Выберите день" in days[-1].text
        parent.press(parent.buttons()[0][1])
        parent.press(parent.buttons()[0][1])
        assert "Готово" in parent.press_labelled("Подтвердить")[-1].text
        assert parent.lead.status is LeadStatus.SCHEDULED
        assert parent.press(rebook["callback_data"])[0].text.startswith("Ваш пробный урок")  # stale
        again = self.marked(academy, parent, LeadStatus.NO_SHOW)  # missed the second one too
        assert reminders.after_lesson(again) == "sent"
        assert notifier.parents[-1] == (1, t("ru", "after_no_show_again", manager_link=MANAGER_LINK))
        assert notifier.markups[-1] is None
        reply = parent.send("command", text="start")[-1]
        assert reply.text == t("ru", "after_no_show_again", manager_link=MANAGER_LINK)

    def test_a_mark_taken_back_or_a_new_booking_sends_nothing(self, academy: Academy) -> None:
        notifier = RecordingNotifier()
        parent = Parent(academy, 1, "+79161234567", "anna@example.com")
        parent.book_first_slot()
        job = self.marked(academy, parent, LeadStatus.NO_SHOW)
        academy.leads.update(parent.lead.lead_id, lambda lead: lead.model_copy(update={"booking_id": "beef"}))
        assert self.reminders(academy, notifier).after_lesson(job) == "skipped" and notifier.parents == []
