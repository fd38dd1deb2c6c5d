"""The managers' desk end to end: commands typed in the managers' group, answered with a lead's card."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import System
from tests.factories import tilda_form

MANAGER = 910001
OUTSIDER = 910002
PARENT = 910003


@pytest.fixture
def managers(system: System) -> int:
    """The managers' group (MANAGER_CHAT_ID) with one manager in it."""
    chat = int(system.env["MANAGER_CHAT_ID"])
    response = system.http.post(
        f"{system.stack.fakes_url['telegram']}/_fake/groups",
        json={"chat_id": chat, "title": "All In managers", "members": [MANAGER]},
    )
    assert response.json() == {"ok": True}
    return chat


def manager_types(system: System, chat: int, command: str, payload: str = "") -> dict[str, Any]:
    """The manager types `/command payload` in the managers' group; the bot's answer there."""
    before = len(system.bot_messages(chat))
    manager = {"id": MANAGER, "first_name": "Ольга", "language_code": "ru"}
    body = {"kind": "command", "user": manager, "chat_id": chat, "command": command, "payload": payload}
    response = system.http.post(f"{system.stack.fakes_url['telegram']}/_fake/updates", json=body)
    assert response.json()["webhook_status"] == 200, response.text
    answers = system.bot_messages(chat)[before:]
    assert len(answers) == 1, answers
    return answers[0]


def test_a_manager_finds_a_lead_by_phone_email_or_id(system: System, managers: int) -> None:
    lead_id = system.post_tilda(tilda_form()).json()["lead_id"]
    by_phone = manager_types(system, managers, "/lead", "8 916 123-45-67")
    assert "Анна Петрова" in by_phone["text"] and "+79161234567" in by_phone["text"]
    assert "NEW" in by_phone["text"] and lead_id in by_phone["text"]
    [[sheet]] = by_phone["reply_markup"]["inline_keyboard"]
    assert sheet["url"].startswith("https://docs.google.com/spreadsheets/d/")
    assert manager_types(system, managers, "/lead", "Anna.Petrova@example.com")["text"] == by_phone["text"]
    assert (
        manager_types(system, managers, f"/lead@{bot_username(system)}", lead_id)["text"] == by_phone["text"]
    )


def test_nonsense_and_unknown_leads_get_a_clear_answer(system: System, managers: int) -> None:
    assert "/lead +7" in manager_types(system, managers, "/lead")["text"]  # how to use it
    assert "/lead +7" in manager_types(system, managers, "/lead", "Анна")["text"]  # names: not searchable
    assert "не найден" in manager_types(system, managers, "/lead", "+7 999 000-00-00")["text"]
    assert "/lead" in manager_types(system, managers, "/help")["text"]


def test_the_desk_is_only_in_the_managers_chat(system: System, managers: int) -> None:
    system.post_tilda(tilda_form())
    # A parent typing the managers' command in their own chat gets the parents' bot, not a card.
    assert system.parent_sends("command", PARENT, command="/lead", payload="+79161234567") == 200
    [answer] = system.bot_messages(PARENT)
    assert "+79161234567" not in answer["text"]
    # Telegram lets only members write in the group: the fake refuses an outsider's message there.
    response = system.http.post(
        f"{system.stack.fakes_url['telegram']}/_fake/updates",
        json={"kind": "command", "user": {"id": OUTSIDER}, "chat_id": managers, "command": "/lead"},
    )
    assert response.status_code == 400 and "not a member" in response.json()["error"]


def bot_username(system: System) -> str:
    return str(system.telegram_api("getMe")["username"])
