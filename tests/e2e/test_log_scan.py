"""The functions' logs hold no personal data and no secret: a whole journey through every function with
distinctive values, then every log line the functions wrote in this run is read."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from tests.e2e.conftest import System
from tests.e2e.test_bot_booking import keyboard_message, lesson_start, press
from tests.factories import tilda_form, urlencoded

CHAT = 7004001
NAME, SURNAME, CHILD = "Снежана", "Волконская", "Ярослава"
PHONE_TYPED, PHONE = "+7 (916) 555-44-33", "+79165554433"
EMAIL, EMAIL_TYPED = "snezhana.volk@example.org", "Snezhana.Volk@Example.org"
FUNCTIONS = ("tilda_webhook", "tg_webhook", "email_chain", "reminders")
# Generic shapes of personal data, whoever's: an email address, a phone number in E.164.
EMAIL_SHAPE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE_SHAPE = re.compile(r"\+\d{10,15}\b")


def function_logs(system: System) -> dict[Path, list[str]]:
    """Every log file the functions wrote in this test session (restarted instances' too)."""
    folders = {s.log_path.parent for s in system.stack.services.values() if s.log_path is not None}
    return {
        path: path.read_text(errors="replace").splitlines()
        for folder in folders
        for name in FUNCTIONS
        for path in sorted(folder.glob(f"{name}-*.log"))
    }


def journey(system: System) -> str:
    """Tilda form → email1 with the deep link → the parent opens the bot by it, asks the assistant with
    their phone in the question, dictates a voice note, books, is reminded, and deletes their data.
    Returns the deep-link token."""
    form = tilda_form(Name=f"{NAME} {SURNAME}", Phone=PHONE_TYPED, Email=EMAIL_TYPED, child_age="7")
    response = system.http.post(
        system.stack.url("tilda_webhook"),
        content=urlencoded(form),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Tilda-Secret": "wrong"},
    )
    assert response.status_code == 401  # a forged form: its values are logged nowhere either
    assert system.post_tilda(form).status_code == 200
    system.advance(31 * 60)  # the sync and email1
    lead = system.leads().find_by(email=EMAIL.lower())
    assert lead is not None and any(lead.link_token in e["text"] for e in system.emails())

    slot = system.add_free_slot(lesson_start(system))
    system.parent_sends("command", CHAT, command="/start", payload=lead.link_token)
    press(system, CHAT, "Согласен")
    system.parent_sends("text", CHAT, text=f"Моя дочь {CHILD}, мой номер {PHONE_TYPED}, можно позвонить?")
    spoken = base64.b64encode(f"Это {NAME}, почта {EMAIL}".encode()).decode()
    system.parent_sends("voice", CHAT, file_id="voice-scan", duration=3, content_base64=spoken)
    system.parent_sends("command", CHAT, command="/start")
    if "Выберите день" not in keyboard_message(system, CHAT)["text"]:
        system.parent_sends("text", CHAT, text=NAME)  # the one question the form did not answer
    press(system, CHAT)  # the day
    press(system, CHAT)  # the time
    press(system, CHAT, "Подтвердить")
    assert system.calendar_event(slot)["summary"].endswith(NAME + " " + SURNAME)
    system.run_due()
    system.advance(2 * 24 * 3600)  # the reminder
    system.parent_sends("command", CHAT, command="/delete_me")
    press(system, CHAT, "Да, удалить")
    system.run_due()
    assert system.leads().get(lead.lead_id) is None
    return lead.link_token


def test_logs_hold_no_personal_data_and_no_secret(system: System) -> None:
    token = journey(system)
    secrets = {
        name: value
        for name, value in system.env.items()
        if re.search(r"TOKEN|SECRET|KEY|PASSWORD", name) and len(value) >= 8
    }
    needles = {
        "name": [NAME, SURNAME, CHILD],
        "phone": [PHONE, PHONE.removeprefix("+"), "916 555-44-33", "9165554433"],
        "email": [EMAIL, EMAIL_TYPED],
        "deep-link token": [token],
        **{f"secret {name}": [value] for name, value in secrets.items()},
    }
    logs = function_logs(system)
    # The journey was logged by every function, and read.
    assert {
        name for name in FUNCTIONS for path, lines in logs.items() if path.name.startswith(name) and lines
    } == set(FUNCTIONS)
    found = []
    for path, lines in logs.items():
        for number, line in enumerate(lines, 1):
            where = f"{path.name}:{number}"
            found += [
                f"{where}: {what}" for what, values in needles.items() if any(v in line for v in values)
            ]
            found += [f"{where}: an email address" for _ in EMAIL_SHAPE.findall(line)]
            found += [f"{where}: a phone number" for _ in PHONE_SHAPE.findall(line)]
    assert found == []
