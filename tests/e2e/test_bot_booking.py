"""Scenario 2, second half, end to end: date → time → confirm → Zoom link, CRM SCHEDULED, calendar event
taken, reminders at −24 h and −5 h; two parents racing for one slot; reschedule and cancel."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from tests.e2e.conftest import System

ANNA, BORIS = 7002001, 7002002


def keyboard_message(system: System, chat_id: int) -> dict[str, Any]:
    return next(
        m for m in reversed(system.bot_messages(chat_id)) if "inline_keyboard" in m.get("reply_markup", {})
    )


def press(system: System, chat_id: int, label: str = "", index: int = 0) -> int:
    """Press a button of the bot's latest keyboard: the one whose text contains `label`, else the index-th."""
    message = keyboard_message(system, chat_id)
    buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row if "callback_data" in b]
    chosen = next(b for b in buttons if label in b["text"]) if label else buttons[index]
    return system.parent_sends(
        "callback", chat_id, message_id=message["message_id"], callback_data=chosen["callback_data"]
    )


def register(system: System, chat_id: int, phone: str, email: str) -> None:
    system.parent_sends("command", chat_id, command="/start")
    press(system, chat_id, "Согласен")
    system.parent_sends("contact", chat_id, phone_number=phone)
    system.parent_sends("text", chat_id, text=email)
    system.parent_sends("text", chat_id, text="Анна")


def lesson_start(system: System, days: int = 2) -> datetime:
    return (system.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


def test_booking_to_reminders(system: System) -> None:
    start = lesson_start(system)
    event_id = system.add_free_slot(start)
    register(system, ANNA, "79161234567", "anna@example.com")
    assert "Выберите день" in keyboard_message(system, ANNA)["text"]
    press(system, ANNA)  # the day
    press(system, ANNA)  # the time
    assert press(system, ANNA, "Подтвердить") == 200
    booked = system.bot_messages(ANNA)[-1]["text"]
    assert "Готово" in booked and "https://zoom.us/j/" in booked and "по рижскому времени" in booked

    event = system.calendar_event(event_id)
    assert event["summary"] == "Пробный урок: Анна" and "zoom.us/j/" in event["description"]
    lead = system.leads().find_by(email="anna@example.com")
    assert lead is not None and lead.status.value == "SCHEDULED" and lead.lesson_at == start

    system.run_due()  # the sync tasks: CRM row and the managers' message
    row = system.crm_row(lead.lead_id)
    assert (
        row["status"] == "SCHEDULED"
        and row["zoom_link"] == lead.zoom_link
        and row["calendar_event_id"] == event_id
    )
    assert "Записан на пробный урок" in system.manager_messages()[-1]
    assert system.sheet("Log")[-1]["event"] == "LESSON_SCHEDULED"

    system.advance((start - timedelta(hours=24) - system.now()).total_seconds() + 1)
    assert "завтра пробный урок" in system.bot_messages(ANNA)[-1]["text"]
    system.advance(19 * 3600)
    last = system.bot_messages(ANNA)[-1]["text"]
    assert "Через 5 часов" in last and lead.zoom_link in last


def test_two_parents_racing_for_one_slot(system: System) -> None:
    event_id = system.add_free_slot(lesson_start(system))
    for chat_id, phone, email in (
        (ANNA, "79161234567", "anna@example.com"),
        (BORIS, "79162223344", "boris@example.com"),
    ):
        register(system, chat_id, phone, email)
        press(system, chat_id)
        press(system, chat_id)
    threads = [
        threading.Thread(target=press, args=(system, chat_id, "Подтвердить")) for chat_id in (ANNA, BORIS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted(
        "booked" if "Готово" in text else "taken" if "только что заняли" in text else text
        for text in (
            next(
                m["text"]
                for m in reversed(system.bot_messages(chat_id))
                if "Готово" in m.get("text", "") or "заняли" in m.get("text", "")
            )
            for chat_id in (ANNA, BORIS)
        )
    )
    assert outcomes == ["booked", "taken"]
    assert system.calendar_event(event_id)["summary"] == "Пробный урок: Анна"
    zoom = system.http.get(f"{system.stack.fakes_url['zoom']}/_fake/state").json()
    assert len(zoom["meetings"]) == 1  # the loser never got (or no longer has) a meeting


def test_reschedule_then_cancel_and_old_reminders_never_fire(system: System) -> None:
    first = lesson_start(system, days=2)
    second = lesson_start(system, days=3)
    first_id = system.add_free_slot(first)
    second_id = system.add_free_slot(second)
    register(system, ANNA, "79161234567", "anna@example.com")
    press(system, ANNA)
    press(system, ANNA)
    press(system, ANNA, "Подтвердить")

    system.parent_sends("text", ANNA, text="Что взять на урок?")  # a question for the assistant ...
    press(system, ANNA, "Вернуться")  # ... whose back button shows the booking with its buttons
    press(system, ANNA, "Перенести")
    assert system.calendar_event(first_id)["summary"] == "FREE"
    press(system, ANNA, index=1)  # the second day
    press(system, ANNA)
    press(system, ANNA, "Подтвердить")
    assert system.calendar_event(second_id)["summary"] == "Пробный урок: Анна"

    system.parent_sends("command", ANNA, command="/start")  # /start shows the booking too
    press(system, ANNA, "Отменить")
    assert "отменена" in system.bot_messages(ANNA)[-1]["text"]
    assert system.calendar_event(second_id)["summary"] == "FREE"
    lead = system.leads().find_by(email="anna@example.com")
    assert lead is not None and lead.status.value == "CANCELLED"
    sent_before = len(system.bot_messages(ANNA))
    system.advance(4 * 24 * 3600)  # past both lessons: no reminder of either booking fires
    assert len(system.bot_messages(ANNA)) == sent_before
    assert system.crm_row(lead.lead_id)["status"] == "CANCELLED"


def test_the_booked_message_itself_reschedules_and_cancels(system: System) -> None:
    first = lesson_start(system, days=2)
    second = lesson_start(system, days=3)
    first_id = system.add_free_slot(first)
    second_id = system.add_free_slot(second)
    register(system, ANNA, "79161234567", "anna@example.com")
    press(system, ANNA)
    press(system, ANNA)
    press(system, ANNA, "Подтвердить")

    booked = keyboard_message(system, ANNA)  # the success message carries the buttons, not the old confirm
    assert "Готово" in booked["text"] and booked["message_id"] == system.bot_messages(ANNA)[-1]["message_id"]
    labels = [b["text"] for row in booked["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["🔁 Перенести", "✖ Отменить"]

    press(system, ANNA, "Перенести")  # straight from the success message
    assert system.calendar_event(first_id)["summary"] == "FREE"
    assert "Выберите день" in keyboard_message(system, ANNA)["text"]
    press(system, ANNA, index=1)  # the second day
    press(system, ANNA)
    press(system, ANNA, "Подтвердить")
    assert system.calendar_event(second_id)["summary"] == "Пробный урок: Анна"

    press(system, ANNA, "Отменить")  # from the new success message
    assert "отменена" in system.bot_messages(ANNA)[-1]["text"]
    assert system.calendar_event(second_id)["summary"] == "FREE"
    lead = system.leads().find_by(email="anna@example.com")
    assert lead is not None and lead.status.value == "CANCELLED" and lead.booking_id is None


def test_telegram_refusing_the_confirmation_still_tells_the_parent_later(system: System) -> None:
    system.add_free_slot(lesson_start(system))
    register(system, ANNA, "79161234567", "anna@example.com")
    press(system, ANNA)  # the day
    press(system, ANNA)  # the time
    # A flood wait holds every send to the chat (the calendar file is best effort: it is not kept).
    system.fault("telegram", status=429, retry_after=30, times=-1, match="/send")
    assert press(system, ANNA, "Подтвердить") == 200  # handled: no redelivery, no error message
    lead = system.leads().find_by(email="anna@example.com")
    assert lead is not None and lead.status.value == "SCHEDULED"  # the booking itself is done
    assert "Готово" not in system.bot_messages(ANNA)[-1]["text"]
    system.http.delete(f"{system.stack.fakes_url['telegram']}/_fake/faults").raise_for_status()
    system.advance(3 * 60)
    assert system.reconcile() == {"done": 1}
    booked = system.bot_messages(ANNA)[-1]
    assert "Готово" in booked["text"] and "https://zoom.us/j/" in booked["text"]
    assert [b["text"] for row in booked["reply_markup"]["inline_keyboard"] for b in row] == [
        "🔁 Перенести",
        "✖ Отменить",
    ]
    assert system.reconcile() == {}
    press(system, ANNA, "Отменить")  # the late message's buttons work
    lead = system.leads().find_by(email="anna@example.com")
    assert lead is not None and lead.status.value == "CANCELLED"


def test_a_failing_answer_callback_query_never_drops_the_press(system: System) -> None:
    system.add_free_slot(lesson_start(system))
    register(system, ANNA, "79161234567", "anna@example.com")
    press(system, ANNA)
    press(system, ANNA)
    system.fault(
        "telegram", status=400, times=-1, match="answerCallbackQuery", message="Bad Request: query is too old"
    )
    assert press(system, ANNA, "Подтвердить") == 200
    assert "Готово" in system.bot_messages(ANNA)[-1]["text"]
