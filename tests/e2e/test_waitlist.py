"""The waitlist end to end (time moved, not waited): a parent for whom no slot fits joins it; a slot
another parent frees is offered to them with a hold, hidden from everyone else while held, and booked
with one press; a hold not taken in time goes to the next parent; leaving takes one press."""

from __future__ import annotations

from typing import Any

from shared.i18n import t
from tests.e2e.conftest import System
from tests.e2e.test_bot_booking import keyboard_message, lesson_start, press, register

ANNA, BORIS, VERA, GLEB = 7014001, 7014002, 7014003, 7014004


def book_only_slot(system: System) -> str:
    """Anna books the one free slot; returns its event id."""
    event_id = system.add_free_slot(lesson_start(system))
    register(system, ANNA, "79161110001", "anna.w@example.com")
    press(system, ANNA)  # the day
    press(system, ANNA)  # the time
    assert press(system, ANNA, "Подтвердить") == 200
    assert "Готово" in system.bot_messages(ANNA)[-1]["text"]
    return event_id


def join_waitlist(system: System, chat_id: int, phone: str, email: str) -> None:
    """A parent finds no free slot and joins the waitlist: any day, any time."""
    register(system, chat_id, phone, email)
    offer = keyboard_message(system, chat_id)
    assert offer["text"].startswith(t("ru", "no_slots", manager_link=system.env["MANAGER_LINK"]))
    assert press(system, chat_id, "лист ожидания") == 200
    assert press(system, chat_id, "Любой день") == 200
    assert press(system, chat_id, "Любое время") == 200
    joined = keyboard_message(system, chat_id)
    assert "вы в листе ожидания" in joined["text"] and "30 минут" in joined["text"]


def cancel(system: System, chat_id: int) -> None:
    assert press(system, chat_id, "Отменить") == 200
    assert "Запись отменена" in system.bot_messages(chat_id)[-1]["text"]


def offers(system: System, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in system.bot_messages(chat_id) if "Освободилось время" in m.get("text", "")]


def test_a_freed_slot_is_held_for_the_first_on_the_waitlist_and_booked(system: System) -> None:
    event_id = book_only_slot(system)
    join_waitlist(system, BORIS, "79161110002", "boris.w@example.com")

    cancel(system, ANNA)
    system.run_due()
    [offer] = offers(system, BORIS)
    assert "30 минут" in offer["text"] and "по рижскому времени" in offer["text"]

    # While held, nobody else sees the slot: a new parent is told there is none.
    register(system, VERA, "79161110003", "vera.w@example.com")
    assert keyboard_message(system, VERA)["text"].startswith(
        t("ru", "no_slots", manager_link=system.env["MANAGER_LINK"])
    )

    assert press(system, BORIS, "Записаться") == 200
    assert "Готово" in system.bot_messages(BORIS)[-1]["text"]
    boris = system.leads().find_by(email="boris.w@example.com")
    assert boris is not None and boris.status.value == "SCHEDULED" and boris.calendar_event_id == event_id
    assert "boris" not in str(system.store().get("waitlist", "queue"))  # off the list once booked

    # A second press of the same offer books nothing more: the lesson that stands is shown.
    press_offer(system, BORIS, offer, "Записаться")
    again = system.bot_messages(BORIS)[-1]["text"]
    assert "Готово" not in again and "уже отпущено" not in again and "Ваш пробный урок" in again
    assert system.leads().get(boris.lead_id).booking_id == boris.booking_id  # type: ignore[union-attr]
    system.run_due()
    assert system.crm_row(boris.lead_id)["status"] == "SCHEDULED"


def press_offer(system: System, chat_id: int, message: dict[str, Any], label: str) -> int:
    """Press a button of an older message (the offer), as a parent scrolling up would."""
    buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
    chosen = next(b for b in buttons if label in b["text"])
    return system.parent_sends(
        "callback", chat_id, message_id=message["message_id"], callback_data=chosen["callback_data"]
    )


def test_a_hold_not_taken_in_time_goes_to_the_next_parent(system: System) -> None:
    event_id = book_only_slot(system)
    join_waitlist(system, BORIS, "79161110002", "boris.w@example.com")
    join_waitlist(system, VERA, "79161110003", "vera.w@example.com")
    cancel(system, ANNA)
    system.run_due()
    [offer] = offers(system, BORIS)
    assert offers(system, VERA) == []  # Boris joined first

    system.advance(31 * 60)  # the hold ends
    assert "больше не держу" in system.bot_messages(BORIS)[-1]["text"]
    system.run_due()
    [second] = offers(system, VERA)

    # Boris's offer, pressed too late: said so, and the slot (Vera's now) is not his.
    assert press_offer(system, BORIS, offer, "Записаться") == 200
    late = [m["text"] for m in system.bot_messages(BORIS)[-2:]]
    assert any("уже отпущено" in text for text in late)
    boris = system.leads().find_by(email="boris.w@example.com")
    assert boris is not None and boris.status.value != "SCHEDULED"

    assert press_offer(system, VERA, second, "Записаться") == 200
    assert "Готово" in system.bot_messages(VERA)[-1]["text"]
    vera = system.leads().find_by(email="vera.w@example.com")
    assert vera is not None and vera.calendar_event_id == event_id


def test_a_parent_who_lets_the_slot_go_passes_it_on_at_once(system: System) -> None:
    book_only_slot(system)
    join_waitlist(system, BORIS, "79161110002", "boris.w@example.com")
    join_waitlist(system, VERA, "79161110003", "vera.w@example.com")
    cancel(system, ANNA)
    system.run_due()
    [offer] = offers(system, BORIS)
    assert press_offer(system, BORIS, offer, "Не подходит") == 200
    assert "предложу это время другим" in system.bot_messages(BORIS)[-1]["text"]
    system.run_due()
    assert len(offers(system, VERA)) == 1
    assert len(offers(system, BORIS)) == 1  # the slot he let go is not offered to him again


def test_a_stale_picker_loses_to_the_hold(system: System) -> None:
    """Gleb chose the slot before Anna booked it, and presses ✅ on that old choice after Anna cancelled:
    the slot is held for Boris from the waitlist, and the hold wins (one winner)."""
    start = lesson_start(system)
    event_id = system.add_free_slot(start)
    register(system, GLEB, "79161110004", "gleb.w@example.com")
    press(system, GLEB)  # the day
    press(system, GLEB)  # the time: Gleb now looks at ✅ for the slot
    register(system, ANNA, "79161110001", "anna.w@example.com")
    press(system, ANNA)
    press(system, ANNA)
    assert press(system, ANNA, "Подтвердить") == 200
    join_waitlist(system, BORIS, "79161110002", "boris.w@example.com")
    cancel(system, ANNA)
    system.run_due()
    assert len(offers(system, BORIS)) == 1

    assert press(system, GLEB, "Подтвердить") == 200
    assert any("только что заняли" in m.get("text", "") for m in system.bot_messages(GLEB)[-2:])
    assert press(system, BORIS, "Записаться") == 200
    boris = system.leads().find_by(email="boris.w@example.com")
    assert boris is not None and boris.calendar_event_id == event_id


def test_leaving_the_waitlist_takes_one_press(system: System) -> None:
    book_only_slot(system)
    join_waitlist(system, BORIS, "79161110002", "boris.w@example.com")
    assert press(system, BORIS, "Выйти из листа ожидания") == 200
    assert "Вы вышли из листа ожидания" in system.bot_messages(BORIS)[-1]["text"]
    cancel(system, ANNA)
    system.run_due()
    assert offers(system, BORIS) == []
    assert press(system, BORIS, "Выйти из листа ожидания") == 200  # the same button again
    assert "Вас нет в листе ожидания" in system.bot_messages(BORIS)[-1]["text"]


def test_none_of_these_fit_then_a_new_slot_that_fits_is_offered(system: System) -> None:
    """Boris wants weekday evenings; the only slot is not one, so he joins from the picker. A manager
    adds an evening slot: the next time the calendar is read, it is offered to him first."""
    morning = lesson_start(system, days=3).replace(hour=7)  # 09:00 or 10:00 in Riga
    system.add_free_slot(morning)
    register(system, BORIS, "79161110002", "boris.w@example.com")
    assert press(system, BORIS, "Ничего не подходит") == 200
    assert press(system, BORIS, "Любой день") == 200
    assert press(system, BORIS, "Вечер") == 200
    system.run_due()
    assert offers(system, BORIS) == []  # the morning slot is not his wish

    evening = lesson_start(system, days=4).replace(hour=16)  # 18:00 or 19:00 in Riga
    system.add_free_slot(evening)
    system.store().delete("slot_cache", "free")  # its 30 s are over (the store's TTL runs on real time)
    register(system, VERA, "79161110003", "vera.w@example.com")  # the calendar is read again
    system.run_due()
    [offer] = offers(system, BORIS)
    assert "Вечер" not in offer["text"] and ":00" in offer["text"]
