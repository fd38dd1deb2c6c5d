"""The CRM sheet through a lead's whole life, end to end: managers keep their own cells in it (their
status, notes and a column of their own) while the bot registers, books, reminds and follows up the
lead; the bot's times read as the academy's wall clock, as real dates."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e.conftest import System
from tests.e2e.test_bot_booking import lesson_start, press, register
from tests.e2e.test_desk import MANAGER, cards, managers
from tests.e2e.test_desk import press as manager_presses

__all__ = ["managers"]  # the managers' group fixture

PARENT = 7016001
EMAIL = "crm.life@example.com"


def manager_types(system: System, cell: str, value: str) -> None:
    """A manager types into the Leads sheet (as the Sheets UI does: USER_ENTERED)."""
    sheet_id = system.env["SHEETS_SPREADSHEET_ID"]
    system.http.put(
        f"{system.stack.fakes_url['sheets']}/v4/spreadsheets/{sheet_id}/values/Leads!{cell}",
        params={"valueInputOption": "USER_ENTERED"},
        json={"values": [[value]]},
        headers={"Authorization": "Bearer manager"},
    ).raise_for_status()


def test_managers_cells_stay_through_a_leads_whole_life(system: System, managers: int) -> None:
    start = lesson_start(system, days=3)
    system.add_free_slot(start)
    register(system, PARENT, "79165550301", EMAIL)
    system.run_due()
    header = system.sheet_header("Leads")
    row = next(i for i, r in enumerate(system.sheet("Leads")) if r.get("email") == EMAIL) + 2

    def column(name: str) -> str:
        return chr(ord("A") + header.index(name))

    own = chr(ord("A") + len(header))  # a column the managers add at the end
    manager_types(system, f"{own}1", "sum_paid")
    manager_types(system, f"{column('manager_status')}{row}", "CALLED")
    manager_types(system, f"{column('notes')}{row}", "звонить после 18")
    manager_types(system, f"{own}{row}", "120")

    press(system, PARENT)  # the day
    press(system, PARENT)  # the time
    assert press(system, PARENT, "Подтвердить") == 200
    system.run_due()
    system.advance((start - system.now()).total_seconds() + 3600)  # the reminders came, the lesson ended
    card = [c for c in cards(system, managers) if "SCHEDULED" in c["text"]][-1]
    assert manager_presses(system, managers, MANAGER, card, "✅ Был на уроке")["answer"] == "✅ Был на уроке"
    system.advance(15 * 60)  # the follow-up
    system.run_due()

    [lead] = [r for r in system.sheet("Leads", formatted=True) if r.get("email") == EMAIL]
    assert (lead["manager_status"], lead["notes"], lead["sum_paid"]) == ("CALLED", "звонить после 18", "120")
    assert lead["status"] == "ATTENDED"
    riga = ZoneInfo(system.env.get("ACADEMY_TIMEZONE", "Europe/Riga"))
    assert lead["lesson_at"] == f"{start.astimezone(riga):%Y-%m-%d %H:%M}"  # the academy's wall clock
    updated = datetime.strptime(lead["updated_at"], "%Y-%m-%d %H:%M").replace(tzinfo=riga)
    assert abs(updated - system.now()) < timedelta(hours=1)  # UTC's would be 2 hours off
    events = [r["event"] for r in system.sheet("Log") if r["lead_id"] == lead["lead_id"]]
    assert events[:2] == ["BOT_ACTIVATED", "LESSON_SCHEDULED"] and "STATUS_ATTENDED" in events
