"""/privacy and /delete_me end to end: a booked parent is forgotten by every part of the system."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import System
from tests.e2e.test_bot_booking import keyboard_message, lesson_start, press, register

ANNA, BORIS = 7003001, 7003002
ANNA_PHONE, ANNA_EMAIL = "79161234567", "anna@example.com"


def mentioning(system: System, *needles: str) -> list[str]:
    """The documents whose path or content holds one of `needles`."""
    texts = [
        (path, json.dumps(snapshot.to_dict(), ensure_ascii=False, default=str))
        for path, snapshot in system.documents()
    ]
    return [path for path, text in texts if any(n in path or n in text for n in needles)]


def last_text(system: System, chat_id: int) -> str:
    return str(system.bot_messages(chat_id)[-1]["text"])


def book(system: System, chat_id: int, phone: str, email: str) -> Any:
    register(system, chat_id, phone, email)
    press(system, chat_id)  # the day
    press(system, chat_id)  # the time
    press(system, chat_id, "Подтвердить")
    return system.leads().find_by(email=email)


def test_a_booked_parent_deletes_their_data(system: System) -> None:
    anna_slot = system.add_free_slot(lesson_start(system, days=2))
    system.add_free_slot(lesson_start(system, days=3))
    lead = book(system, ANNA, ANNA_PHONE, ANNA_EMAIL)
    boris = book(system, BORIS, "79162223344", "boris@example.com")
    system.parent_sends("text", ANNA, text="Что взять на урок?")  # the assistant's history
    system.run_due()  # the sync tasks: CRM rows and the managers' messages
    assert system.crm_row(lead.lead_id)["phone"] == f"+{ANNA_PHONE}"
    meeting_id = lead.zoom_meeting_id
    assert any(lead.lead_id in task["name"] for task in system.pending_tasks())  # her reminders

    system.parent_sends("command", ANNA, command="/privacy")
    assert "365 дней" in last_text(system, ANNA) and "/delete_me" in last_text(system, ANNA)
    press(system, ANNA, "Удалить мои данные")
    assert "будет отменён" in last_text(system, ANNA)
    press(system, ANNA, "Нет, оставить")
    assert system.leads().get(lead.lead_id) is not None  # changing one's mind deletes nothing

    system.parent_sends("command", ANNA, command="/delete_me")
    assert press(system, ANNA, "Да, удалить") == 200
    assert "данные удалены" in last_text(system, ANNA) and "отменён" in last_text(system, ANNA)

    # The slot is free again with nothing of her in it, her Zoom meeting is gone, her tasks too.
    event = system.calendar_event(anna_slot)
    assert event["summary"] == "FREE" and "Анна" not in json.dumps(event, ensure_ascii=False)
    zoom = system.http.get(f"{system.stack.fakes_url['zoom']}/_fake/state").json()
    assert [m["id"] for m in zoom["deleted_meetings"]] == [int(meeting_id)]
    assert not [task for task in system.pending_tasks() if lead.lead_id in task["name"]]
    # The store: nothing about her (the erasure's own records name the lead id, nothing else).
    assert mentioning(system, ANNA_PHONE, ANNA_EMAIL, str(ANNA), "Что взять") == []
    assert all("-erased" in path for path in mentioning(system, lead.lead_id))

    system.run_due()  # the batched writer
    row = system.crm_row(lead.lead_id)
    assert row["status"] == "DELETED"
    assert all(row.get(column, "") == "" for column in ("name", "phone", "email", "tg_id", "zoom_link"))
    assert system.sheet("Log")[-1]["event"] == "DELETED"
    assert lead.lead_id in system.manager_messages()[-1] and "слот свободен" in system.manager_messages()[-1]
    assert mentioning(system, ANNA_PHONE, ANNA_EMAIL, str(ANNA)) == []

    # Boris is untouched; Anna's reminders never come; /start begins anew.
    assert system.leads().get(boris.lead_id) == boris
    assert system.crm_row(boris.lead_id)["phone"] == "+79162223344"
    sent = len(system.bot_messages(ANNA))
    system.advance(3 * 24 * 3600)
    assert len(system.bot_messages(ANNA)) == sent
    system.parent_sends("command", ANNA, command="/start")
    assert "Согласен" in json.dumps(keyboard_message(system, ANNA), ensure_ascii=False)
