"""The managers' desk end to end: commands typed in the managers' group, answered with a lead's card."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.conftest import System
from tests.factories import tilda_form

MANAGER = 910001
OUTSIDER = 910002  # in the group, not in MANAGER_IDS
PARENT = 910003


@pytest.fixture
def managers(system: System) -> int:
    """The managers' group (MANAGER_CHAT_ID) with one manager in it."""
    chat = int(system.env["MANAGER_CHAT_ID"])
    response = system.http.post(
        f"{system.stack.fakes_url['telegram']}/_fake/groups",
        json={"chat_id": chat, "title": "All In managers", "members": [MANAGER, OUTSIDER]},
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
    marks, [sheet] = by_phone["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in marks] == ["📞 Дозвонились", "🔕 Не дозвонились"]
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
    # Telegram lets only members write in the group: the fake refuses a stranger's message there.
    response = system.http.post(
        f"{system.stack.fakes_url['telegram']}/_fake/updates",
        json={"kind": "command", "user": {"id": PARENT}, "chat_id": managers, "command": "/lead"},
    )
    assert response.status_code == 400 and "not a member" in response.json()["error"]


def bot_username(system: System) -> str:
    return str(system.telegram_api("getMe")["username"])


def press(
    system: System, chat: int, user_id: int, card: dict[str, Any], label: str, *, stale: bool = False
) -> dict[str, Any]:
    """`user_id` presses the button `label` of the card; the callback's answer, and the card as it is now."""
    data = next(
        b["callback_data"]
        for row in card["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"] == label
    )
    body = {
        "kind": "callback",
        "user": {"id": user_id, "first_name": "Ольга", "username": "olga_m"},
        "chat_id": chat,
        "message_id": card["message_id"],
        "callback_data": data,
        "check_keyboard": not stale,  # stale: a second tap that reached Telegram before the redraw
    }
    response = system.http.post(f"{system.stack.fakes_url['telegram']}/_fake/updates", json=body)
    assert response.json()["webhook_status"] == 200, response.text
    query_id = response.json()["update"]["callback_query"]["id"]
    [answer] = [
        a
        for a in system.http.get(f"{system.stack.fakes_url['telegram']}/_fake/callback_answers").json()
        if a["callback_query_id"] == query_id
    ]
    [now] = [m for m in system.bot_messages(chat) if m["message_id"] == card["message_id"]]
    return {"answer": answer["text"], "card": now}


def test_a_managers_press_marks_the_lead_in_the_store_the_crm_and_the_log(
    system: System, managers: int
) -> None:
    lead_id = system.post_tilda(tilda_form()).json()["lead_id"]
    system.run_due()  # the new lead's row
    card = manager_types(system, managers, "/lead", lead_id)
    refused = press(system, managers, OUTSIDER, card, "📞 Дозвонились")
    assert (
        refused["answer"] == "Эти кнопки — для менеджеров школы." and refused["card"]["text"] == card["text"]
    )
    no_answer = press(system, managers, MANAGER, card, "🔕 Не дозвонились")
    assert no_answer["answer"] == "🔕 Не дозвонились" and "Статус: NO_ANSWER" in no_answer["card"]["text"]
    called = press(system, managers, MANAGER, no_answer["card"], "📞 Дозвонились")  # the next try got through
    assert called["answer"] == "📞 Дозвонились"
    assert (
        "Статус: CALLED" in called["card"]["text"] and "Отметил(а): Ольга (@olga_m)" in called["card"]["text"]
    )
    again = press(system, managers, MANAGER, card, "📞 Дозвонились")  # a double press: once is enough
    assert again["answer"] == "📞 Дозвонились"
    system.run_due()  # the batched writer
    assert system.crm_row(lead_id)["status"] == "CALLED"
    marks = [row for row in system.sheet("Log") if row["event"] == "STATUS_CALLED"]
    assert [(row["lead_id"], row["details"]) for row in marks] == [(lead_id, "Ольга (@olga_m)")]
    lead = system.leads().get(lead_id)
    assert lead is not None and lead.status.value == "CALLED"


def cards(system: System, chat: int) -> list[dict[str, Any]]:
    """The bot's messages in the managers' chat that are lead cards (they carry buttons)."""
    return [m for m in system.bot_messages(chat) if m.get("reply_markup")]


def test_a_leads_card_follows_it_through_its_life(system: System, managers: int) -> None:
    from tests.e2e.test_bot_booking import lesson_start, register
    from tests.e2e.test_bot_booking import press as parent_presses

    start = lesson_start(system)
    system.add_free_slot(start)
    lead_id = system.post_tilda(tilda_form(Phone="+7 916 555-44-33", Email="card@example.com")).json()[
        "lead_id"
    ]
    system.run_due()  # the batched writer: the row, and the managers' card
    [card] = cards(system, managers)
    assert card["text"].endswith("🆕 Новая заявка с сайта") and "Статус: NEW" in card["text"]
    assert [b["text"] for b in card["reply_markup"]["inline_keyboard"][0]] == [
        "📞 Дозвонились",
        "🔕 Не дозвонились",
    ]

    register(system, PARENT, "79165554433", "card@example.com")  # the same parent, in the bot
    parent_presses(system, PARENT)  # the day
    parent_presses(system, PARENT)  # the time
    assert parent_presses(system, PARENT, "Подтвердить") == 200
    system.run_due()
    [same] = cards(system, managers)  # edited in place, not a message per event
    assert same["message_id"] == card["message_id"] and "Статус: SCHEDULED" in same["text"]
    lines = same["text"].split("\n\n")[-1].splitlines()
    assert lines[0] == "🆕 Новая заявка с сайта" and lines[1].startswith("🤖 Родитель в боте")
    assert lines[2].startswith("📅 Записан на пробный урок")
    assert [b["text"] for b in same["reply_markup"]["inline_keyboard"][0]] == [
        "✅ Был на уроке",
        "❌ Не пришёл",
    ]
    assert manager_types(system, managers, "/today")["text"] == "Сегодня уроков нет."  # it is in two days
    week = manager_types(system, managers, "/week")["text"].splitlines()
    assert week[0] == "📅 Уроки на неделю (по рижскому времени):"
    assert week[-1].endswith(f"— Анна (8) · SCHEDULED · {system.leads().get(lead_id).zoom_link}")  # type: ignore[union-attr]
    early = press(system, managers, MANAGER, same, "✅ Был на уроке")
    assert early["answer"].startswith("Урок ещё не начался")

    system.advance((start - system.now()).total_seconds() + 60)  # the lesson has begun
    attended = press(system, managers, MANAGER, same, "✅ Был на уроке")  # on the card in the chat
    assert attended["answer"] == "✅ Был на уроке" and "Статус: ATTENDED" in attended["card"]["text"]
    system.run_due()
    assert system.crm_row(lead_id)["status"] == "ATTENDED"
    corrected = press(system, managers, MANAGER, attended["card"], "❌ Не пришёл")  # a mistake put right
    assert corrected["answer"] == "❌ Не пришёл" and "Статус: NO_SHOW" in corrected["card"]["text"]
    system.run_due()
    assert system.crm_row(lead_id)["status"] == "NO_SHOW"


def test_a_manager_forgets_a_tilda_only_lead_at_the_parents_request(system: System, managers: int) -> None:
    lead_id = system.post_tilda(tilda_form(Phone="+7 916 777-66-55", Email="forget@example.com")).json()[
        "lead_id"
    ]
    system.run_due()  # the row and the card; email1 waits
    assert any(lead_id in task["name"] for task in system.pending_tasks())
    asked = manager_types(system, managers, "/forget", "+7 916 777-66-55")
    assert asked["text"].endswith("Это необратимо: контакты, запись, напоминания, история.")
    assert "/forget +7" in manager_types(system, managers, "/forget", "Анна")["text"]
    refused = press(system, managers, OUTSIDER, asked, "🗑 Удалить данные")
    assert (
        refused["answer"] == "Эти кнопки — для менеджеров школы." and system.leads().get(lead_id) is not None
    )
    done = press(system, managers, MANAGER, asked, "🗑 Удалить данные")
    assert done["answer"] == done["card"]["text"] == f"🗑 Данные лида {lead_id} удалены."
    assert system.leads().get(lead_id) is None and system.leads().find_by(email="forget@example.com") is None
    assert not any(lead_id in task["name"] for task in system.pending_tasks())  # no email chain any more
    system.run_due()
    row = system.crm_row(lead_id)
    assert row["status"] == "DELETED" and row["phone"] == "" and row["email"] == ""
    [log] = [r for r in system.sheet("Log") if r["lead_id"] == lead_id and r["event"] == "DELETED"]
    assert log["details"] == "by Ольга (@olga_m)"
    assert any(
        f"Менеджер Ольга (@olga_m) удалил данные лида {lead_id}" in m for m in system.manager_messages()
    )
    again = press(system, managers, MANAGER, asked, "🗑 Удалить данные", stale=True)  # a double tap
    assert again["answer"] == "Этого лида больше нет (данные удалены)."


def test_stats_and_the_funnel_sheet_count_leads_by_channel(system: System, managers: int) -> None:
    from tests.e2e.test_bot_booking import register

    assert manager_types(system, managers, "/stats")["text"].startswith("Цифр пока нет")
    system.post_tilda(tilda_form())  # from instagram / autumn (its UTM cookie)
    register(system, PARENT, "79165550011", "stats@example.com")  # found the bot by themselves
    system.run_due()
    system.reconcile()  # the reconciler counts the funnel from the CRM
    [tilda, bot] = sorted(system.sheet("Funnel"), key=lambda row: str(row["source"]), reverse=True)
    assert (tilda["utm_source"], tilda["utm_campaign"], tilda["leads"], tilda["activated"]) == (
        "instagram",
        "autumn",
        1,
        0,
    )
    assert tilda["activated_%"] == 0 and tilda.get("booked_%", "") == ""  # nothing to divide: blank
    assert (bot["source"], bot["leads"], bot["activated"], bot["activated_%"]) == ("direct_bot", 1, 1, 100)
    assert tilda["week"] == bot["week"] == f"{system.now().date() - timedelta(days=system.now().weekday())}"
    stats = manager_types(system, managers, "/stats", "7")["text"].splitlines()
    assert stats[1] == (
        "Всего: заявок 2 → в боте 1 (50%) → записались 0 (0%) → пришли 0 (—), не пришли 0, оплатили 0 (0%)"
    )
    assert {stats[3].split(":")[0], stats[4].split(":")[0]} == {"tilda / instagram / autumn", "direct_bot"}
    assert "/stats 7" in manager_types(system, managers, "/stats", "неделя")["text"]

    # A manager marks the Tilda family PAID in their own column of the sheet; the next count has it.
    spreadsheet = system.http.get(f"{system.stack.fakes_url['sheets']}/_fake/state").json()["spreadsheets"]
    [leads] = [t for t in spreadsheet[system.env["SHEETS_SPREADSHEET_ID"]]["sheets"] if t["title"] == "Leads"]
    header = leads["values"][0]
    row = next(i for i, r in enumerate(system.sheet("Leads")) if r.get("source") == "tilda") + 2
    column = chr(ord("A") + header.index("manager_status"))
    system.http.put(
        f"{system.stack.fakes_url['sheets']}/v4/spreadsheets/{system.env['SHEETS_SPREADSHEET_ID']}/values/Leads!{column}{row}",
        params={"valueInputOption": "USER_ENTERED"},
        json={"values": [["PAID"]]},
        headers={"Authorization": "Bearer manager"},
    ).raise_for_status()
    system.advance(16 * 60)  # the funnel is counted at most every quarter of an hour
    system.reconcile()
    [tilda] = [r for r in system.sheet("Funnel") if r["source"] == "tilda"]
    assert (tilda["paid"], tilda["paid_%"]) == (1, 100)
    stats = manager_types(system, managers, "/stats", "7")["text"].splitlines()
    assert stats[1].endswith("оплатили 1 (50%)")
    assert system.sheet("Leads")[row - 2]["manager_status"] == "PAID"  # the bot never wrote it back
