"""After the trial lesson, end to end (time moved, not waited): a manager marks the lesson on the lead's
card, and ten minutes later the parent is thanked, or (a no-show) offered a new time and books it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shared.i18n import t
from tests.e2e.conftest import System
from tests.e2e.test_bot_booking import keyboard_message, lesson_start, press, register
from tests.e2e.test_desk import MANAGER, cards, managers
from tests.e2e.test_desk import press as manager_presses

__all__ = ["managers"]  # the managers' group fixture

PARENT = 7004001


def lesson_marked(system: System, managers: int, label: str, email: str) -> None:
    """A parent books, the lesson passes, a manager presses `label` on the card."""
    start = lesson_start(system)
    system.add_free_slot(start)
    register(system, PARENT, "79165550201", email)
    press(system, PARENT)  # the day
    press(system, PARENT)  # the time
    assert press(system, PARENT, "Подтвердить") == 200
    system.run_due()
    system.advance((start - system.now()).total_seconds() + 3600)  # the reminders came, the lesson ended
    card = [c for c in cards(system, managers) if "SCHEDULED" in c["text"]][-1]  # reposted: unconfirmed
    marked = manager_presses(system, managers, MANAGER, card, label)
    assert marked["answer"] == label


def test_a_parent_who_came_is_thanked(system: System, managers: int) -> None:
    lesson_marked(system, managers, "✅ Был на уроке", "came@example.com")
    before = len(system.bot_messages(PARENT))
    system.advance(9 * 60)
    assert len(system.bot_messages(PARENT)) == before  # a corrected press would still settle
    system.advance(2 * 60)
    link = system.env["MANAGER_LINK"]
    assert system.bot_messages(PARENT)[-1]["text"] == t("ru", "after_attended", manager_link=link)
    system.run_due()
    assert [row["event"] for row in system.sheet("Log")][-1] == "FOLLOW_UP_ATTENDED"
    # The Log tells the lead's story, one row per event, in the academy's time.
    story = [row for row in system.sheet("Log") if row["event"] != "DELETED"]
    events = [row["event"] for row in story]
    assert events[:3] == ["BOT_ACTIVATED", "LESSON_SCHEDULED", "REMINDER_24H_SENT"]
    assert set(events[3:5]) == {"REMINDER_5H_SENT", "LESSON_UNCONFIRMED"}  # the same moment, either order
    assert events[5:] == ["STATUS_ATTENDED", "FOLLOW_UP_ATTENDED"]
    zone = ZoneInfo(system.env.get("ACADEMY_TIMEZONE", "Europe/Riga"))
    shown = [row["time"] for row in system.sheet("Log", formatted=True) if row["event"] != "DELETED"]
    assert all(isinstance(row["time"], int | float) for row in story)  # real date-times, shown as dates
    last = datetime.strptime(shown[-1], "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    assert abs(last - system.now()) < timedelta(hours=1)  # the academy's wall clock (UTC's is 2 h off)


def test_a_no_show_picks_a_new_time_and_books_it(system: System, managers: int) -> None:
    lesson_marked(system, managers, "❌ Не пришёл", "missed@example.com")
    again = lesson_start(system, days=3)
    system.add_free_slot(again)
    system.advance(11 * 60)
    offer = keyboard_message(system, PARENT)
    assert offer["text"] == t("ru", "after_no_show")
    assert press(system, PARENT, "Выбрать новое время") == 200
    assert "Выберите день" in keyboard_message(system, PARENT)["text"]
    press(system, PARENT)  # the day
    press(system, PARENT)  # the time
    assert press(system, PARENT, "Подтвердить") == 200
    assert "Готово" in system.bot_messages(PARENT)[-1]["text"]
    lead = system.leads().find_by(email="missed@example.com")
    assert lead is not None and lead.status.value == "SCHEDULED" and lead.lesson_at == again
    system.run_due()
    assert "FOLLOW_UP_REBOOK" in [row["event"] for row in system.sheet("Log")]
    assert lead.lesson_at - timedelta(hours=24) > system.now()  # its reminders are ahead
