"""A parent in New York, end to end (time moved, not waited): asked once about their zone, they see the
days and times in their own time with Riga's beside it, across the autumn changes of both zones (Europe
goes back on the last Sunday of October, the US a week later), and the booked message and the reminder
say the same."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.e2e.conftest import System
from tests.e2e.test_bot_booking import keyboard_message, press, register
from tests.e2e.test_waitlist import press_offer

PARENT = 7015001


def last_sunday_of_october(year: int) -> date:
    day = date(year, 10, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def labels(message: dict) -> list[str]:  # type: ignore[type-arg]
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


def test_a_parent_in_new_york_sees_their_times_across_both_dst_changes(system: System) -> None:
    europe_back = last_sunday_of_october(system.now().year + 1)  # always ahead of the emulator's clock
    us_back = europe_back + timedelta(days=7)  # the first Sunday of November
    start = datetime.combine(europe_back - timedelta(days=4), datetime.min.time(), UTC) + timedelta(hours=6)
    system.advance((start - system.now()).total_seconds())

    def at_one_utc(day: date) -> datetime:
        return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=13)

    slots = [at_one_utc(europe_back - timedelta(days=2)), at_one_utc(europe_back + timedelta(days=2))]
    slots.append(at_one_utc(us_back + timedelta(days=1)))
    for slot in slots:
        system.add_free_slot(slot)

    register(system, PARENT, "+12125550123", "ny.parent@example.com")
    ask = system.bot_messages(PARENT)[-2]
    assert (
        "живёте по нью-йоркскому времени" in ask["text"]
        and "школа работает по рижскому времени" in ask["text"]
    )
    assert "America/" not in ask["text"]  # the zone as people say it, not its IANA id
    assert press_offer(system, PARENT, ask, "Да, по нью-йоркскому времени") == 200
    assert any(
        "время показываю по нью-йоркскому времени" in m["text"] for m in system.bot_messages(PARENT)[-2:]
    )

    # Each day's one time: 13:00 UTC is 16:00 in Riga before Europe's change and 15:00 after; in New York
    # it stays 09:00 until the US change, then 08:00.
    expected = ["09:00 (16:00 Рига)", "09:00 (15:00 Рига)", "08:00 (15:00 Рига)"]
    for index, label in enumerate(expected):
        days = keyboard_message(system, PARENT)
        assert "Выберите день" in days["text"]
        press(system, PARENT, index=index)
        times = keyboard_message(system, PARENT)
        assert "по нью-йоркскому времени" in times["text"] and labels(times)[0] == label
        press(system, PARENT, "Назад")

    press(system, PARENT, index=2)  # the day after the US change
    press(system, PARENT)  # its time
    assert press(system, PARENT, "Подтвердить") == 200
    booked = system.bot_messages(PARENT)[-1]["text"]
    assert "Готово" in booked and "08:00 по нью-йоркскому времени; 15:00 по рижскому времени" in booked

    system.run_due()
    system.advance((slots[2] - timedelta(hours=24) - system.now()).total_seconds() + 1)
    reminder = system.bot_messages(PARENT)[-1]["text"]
    assert (
        "завтра пробный урок" in reminder
        and "08:00 по нью-йоркскому времени; 15:00 по рижскому времени" in reminder
    )


def test_a_parent_with_a_latvian_number_is_not_asked(system: System) -> None:
    system.add_free_slot((system.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0))
    register(system, PARENT, "+37120000123", "riga.parent@example.com")
    assert not any("Судя по номеру" in m.get("text", "") for m in system.bot_messages(PARENT))
    press(system, PARENT)
    assert "(по рижскому времени)" in keyboard_message(system, PARENT)["text"]
