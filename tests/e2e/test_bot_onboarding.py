"""Scenario 2, first half, end to end: a parent registers in the bot (tg_webhook as a real process, the
Telegram fake delivering updates the way Telegram does, with the secret header)."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import System
from tests.factories import tilda_form

PARENT = 7001001
HALF_HOUR = 30 * 60


def last_text(system: System, chat_id: int = PARENT) -> str:
    return system.bot_messages(chat_id)[-1].get("text", "")


def button(message: dict[str, Any], data: str) -> dict[str, Any]:
    rows = message["reply_markup"]["inline_keyboard"]
    return next(b for row in rows for b in row if b.get("callback_data") == data)


def press(system: System, data: str, chat_id: int = PARENT) -> int:
    message = next(
        m for m in reversed(system.bot_messages(chat_id)) if "inline_keyboard" in m.get("reply_markup", {})
    )
    button(message, data)  # the button really is on the message
    return system.parent_sends("callback", chat_id, message_id=message["message_id"], callback_data=data)


def test_start_to_registered_lead(system: System) -> None:
    assert system.parent_sends("command", PARENT, command="/start") == 200
    messages = system.bot_messages(PARENT)
    assert "All In Academy" in messages[0]["text"]
    assert any("video_note" in m for m in messages)
    assert press(system, "consent") == 200
    contact_keyboard = system.bot_messages(PARENT)[-1]["reply_markup"]["keyboard"]
    assert contact_keyboard[0][0]["request_contact"] is True

    system.parent_sends("contact", PARENT, phone_number="79161234567")
    system.parent_sends("text", PARENT, text="anna@example.com")
    system.parent_sends("text", PARENT, text="Анна")
    assert "Спасибо, Анна" in system.bot_messages(PARENT)[-2]["text"]

    lead = system.leads().find_by(email="anna@example.com")
    assert (
        lead is not None and lead.bot_activated and lead.tg_id == PARENT and lead.source.value == "direct_bot"
    )
    system.run_due()  # the sync task writes the CRM and tells the managers
    row = system.crm_row(lead.lead_id)
    assert (row["status"], row["source"], str(row["tg_id"]), row["bot_activated"]) == (
        "ACTIVATED",
        "direct_bot",
        str(PARENT),
        True,  # a real boolean cell (RAW JSON true), not the text "TRUE"
    )
    assert "Родитель в боте" in system.manager_messages()[-1]


def test_deep_link_from_the_email_links_the_tilda_lead_and_stops_the_chain(system: System) -> None:
    response = system.post_tilda(tilda_form())
    lead_id = response.json()["lead_id"]
    system.run_due()
    system.advance(HALF_HOUR)
    [email] = system.emails()
    token = re.search(r"start=([A-Za-z0-9_-]+)", email["text"]).group(1)  # type: ignore[union-attr]

    system.parent_sends("command", PARENT, command="/start", payload=token)
    assert "Анна Петрова" in system.bot_messages(PARENT)[0]["text"]
    assert not [t for t in system.pending_tasks() if t["name"].endswith(("email2", "call-alert"))]
    press(system, "consent")
    texts = [m.get("text", "") for m in system.bot_messages(PARENT)]
    assert not any("номер телефона" in t or "email —" in t or "Как вас зовут" in t for t in texts)
    lead = system.leads().get(lead_id)
    assert lead is not None and lead.bot_activated and lead.tg_id == PARENT

    system.advance(24 * 3600)
    system.advance(24 * 3600)
    assert len(system.emails()) == 1  # no email2, no call alert


def test_bad_requests_to_the_webhook(system: System) -> None:
    url = system.stack.url("tg_webhook")
    secret = {"X-Telegram-Bot-Api-Secret-Token": system.env["TELEGRAM_WEBHOOK_SECRET"]}
    assert system.http.post(url, json={"update_id": 1}).status_code == 403
    assert (
        system.http.post(
            url, json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "x"}
        ).status_code
        == 403
    )
    assert system.http.post(url, content=b"{oops", headers=secret).status_code == 400
    assert system.http.post(url, json={"message": {}}, headers=secret).status_code == 400
    assert system.http.post(url, content=b"x" * 300_000, headers=secret).status_code == 413
    unknown = {
        "update_id": 990001,
        "edited_channel_post": {"message_id": 1, "date": 0, "chat": {"id": -1, "type": "channel"}},
    }
    assert system.http.post(url, json=unknown, headers=secret).status_code == 200
    assert system.bot_messages(-1) == []


def test_unreadable_updates_are_acknowledged_once_and_reported_once(system: System) -> None:
    url = system.stack.url("tg_webhook")
    secret = {"X-Telegram-Bot-Api-Secret-Token": system.env["TELEGRAM_WEBHOOK_SECRET"]}
    poison = [
        {"update_id": 991001, "message": "str"},
        {"update_id": 991002, "callback_query": {"from": {"id": "x"}}},
        {
            "update_id": 991003,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 5, "type": "private"},
                "text": "/start",
                "entities": [{"type": "bot_command", "length": 6}],
            },
        },
        # Found by the fuzz test: PTB reads these, then chokes on the id (or would key a session by it).
        {"update_id": 991004, "my_chat_member": {"from": {"is_bot": False, "first_name": "", "id": []}}},
        {
            "update_id": 991005,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": [5], "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "A"},
                "text": "hi",
            },
        },
    ]
    for update in poison:
        first = system.http.post(url, json=update, headers=secret)
        again = system.http.post(url, json=update, headers=secret)  # a duplicate delivery
        assert (first.status_code, again.status_code) == (200, 200), (first.text, again.text)
        assert first.json()["status"] == again.json()["status"] == "ignored"
    alerts = [
        m["text"]
        for m in system._state("telegram")["messages"]
        if str(m["chat"]["id"]) == system.env["DEV_CHAT_ID"]
    ]
    assert len(alerts) == 1 and "given up" in alerts[0]  # once an hour, however many
    assert system.store().get("sessions", "5") is None and system.store().get("sessions", "[5]") is None


def test_same_update_twice_and_a_huge_message(system: System) -> None:
    system.parent_sends("command", PARENT, command="/start")
    press(system, "consent")
    sent = len(system.bot_messages(PARENT))
    updates = system.http.get(f"{system.stack.fakes_url['telegram']}/_fake/updates").json()
    last = updates[-1]["update_id"] if isinstance(updates, list) else updates["updates"][-1]["update_id"]
    redelivered = system.http.post(
        f"{system.stack.fakes_url['telegram']}/_fake/redeliver", json={"update_id": last}
    )
    assert redelivered.json()["webhook_status"] == 200
    assert len(system.bot_messages(PARENT)) == sent  # handled once

    assert system.parent_sends("text", PARENT, text="7" * 10_000) == 200
    assert "номер" in last_text(system)  # asked again, nothing broke


def test_someone_elses_contact(system: System) -> None:
    system.parent_sends("command", PARENT, command="/start")
    press(system, "consent")
    system.parent_sends("contact", PARENT, phone_number="79161234567", contact_user_id=PARENT + 5)
    assert "чужой" in last_text(system)


def test_a_callback_and_a_message_at_once_keep_both_changes(system: System) -> None:
    import threading

    system.parent_sends("command", PARENT, command="/start")
    consent_message = system.bot_messages(PARENT)[-1]
    system.parent_sends("command", PARENT, command="/language")
    language_message = system.bot_messages(PARENT)[-1]
    statuses: list[int] = []
    presses = [
        (consent_message["message_id"], "consent"),
        (language_message["message_id"], "lang:en"),
    ]
    threads = [
        threading.Thread(
            target=lambda m=m, d=d: statuses.append(
                system.parent_sends("callback", PARENT, message_id=m, callback_data=d)
            )
        )
        for m, d in presses
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
    session = system.store().get("sessions", str(PARENT))
    assert session is not None
    assert (
        session.data["language"] == "en" and session.data["consent_at"] and session.data["scene"] == "phone"
    )
