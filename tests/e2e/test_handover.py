"""A parent handed over from the assistant to the managers and back, end to end through the Telegram fake:
the card with the summary, the parent's messages relayed under it, a manager's reply relayed to the
parent, ✔ Done."""

from __future__ import annotations

from typing import Any

from shared.i18n import t
from tests.e2e.conftest import System
from tests.e2e.test_bot_assistant import callbacks, openai_calls, press, script
from tests.e2e.test_bot_booking import press as parent_presses
from tests.e2e.test_bot_booking import register
from tests.e2e.test_desk import MANAGER, OUTSIDER, manager_types, managers
from tests.e2e.test_desk import press as manager_presses

__all__ = ["managers"]  # the managers' group fixture

PARENT = 920001
OLGA = {"id": MANAGER, "first_name": "Ольга", "username": "olga_m", "language_code": "ru"}


def texts(system: System, chat: int) -> list[str]:
    return [m.get("text", "") for m in system.bot_messages(chat)]


def manager_replies(
    system: System, chat: int, to: int, text: str, user: dict[str, Any] = OLGA
) -> dict[str, Any]:
    """A manager replies in the managers' group to the message `to`; the delivered update."""
    body = {"kind": "text", "user": user, "chat_id": chat, "text": text, "reply_to_message_id": to}
    response = system.http.post(f"{system.stack.fakes_url['telegram']}/_fake/updates", json=body)
    assert response.json()["webhook_status"] == 200, response.text
    return dict(response.json()["update"])


def reactions(system: System, chat: int, message_id: int) -> list[str]:
    state = system.http.get(f"{system.stack.fakes_url['telegram']}/_fake/state").json()
    return next(
        (r["emoji"] for r in state["reactions"] if (r["chat_id"], r["message_id"]) == (chat, message_id)),
        [],
    )


def test_a_parent_asks_for_a_manager_talks_to_one_and_gets_the_bot_back(
    system: System, managers: int
) -> None:
    register(system, PARENT, "79161230001", "handover@example.com")
    script(system, reply="Пробный урок длится 60 минут.")
    assert system.parent_sends("text", PARENT, text="Сколько длится урок?") == 200
    script(system, reply="Родитель хочет перенести урок на субботу.", match="позовите")
    assert system.parent_sends("text", PARENT, text="Позовите менеджера, пожалуйста") == 200
    assert texts(system, PARENT)[-1] == t("ru", "handover_started_asked")

    [card] = [m for m in system.bot_messages(managers) if "просит менеджера" in m["text"]]
    lines = card["text"].splitlines()
    assert lines[0] == "🙋 Родитель просит менеджера"
    assert lines[1] == f"Анна @anna_p (Telegram id {PARENT})" and lines[2] == "Имя: Анна"  # the lead's card
    assert "Телефон: +79161230001" in lines
    assert "Коротко: Родитель хочет перенести урок на субботу." in lines
    recent = lines[lines.index("Последние сообщения:") + 1 :][:3]
    assert recent == [
        "👤 Сколько длится урок?",
        "🤖 Пробный урок длится 60 минут.",
        "👤 Позовите менеджера, пожалуйста",
    ]
    [[done]] = card["reply_markup"]["inline_keyboard"]
    assert done["text"] == "✔ Готово"
    # The summary went through the model with the conversation, in the managers' language.
    summary_call = openai_calls(system)[-1]["body"]["messages"]
    assert summary_call[0]["content"] == t("ru", "handover_summary_prompt")
    assert "Сколько длится урок?" in summary_call[1]["content"]

    # The parent's next message goes to the managers, under the card; the assistant stays silent.
    asked = len(openai_calls(system))
    parent_texts = texts(system, PARENT)
    assert system.parent_sends("text", PARENT, text="Можно перенести на субботу в 12?") == 200
    assert texts(system, PARENT) == parent_texts and len(openai_calls(system)) == asked
    relayed = system.bot_messages(managers)[-1]
    assert relayed["text"] == f"👤 Анна @anna_p (Telegram id {PARENT}):\nМожно перенести на субботу в 12?"
    assert relayed["reply_to_message"]["message_id"] == card["message_id"]

    # A manager's reply to the relayed message reaches the parent as the school's message, once.
    update = manager_replies(system, managers, relayed["message_id"], "Да, записала вас на субботу 12:00.")
    assert texts(system, PARENT)[-1] == "💬 Менеджер All In Academy:\nДа, записала вас на субботу 12:00."
    assert reactions(system, managers, update["message"]["message_id"]) == ["👌"]
    redelivered = system.http.post(
        f"{system.stack.fakes_url['telegram']}/_fake/redeliver", json={"update_id": update["update_id"]}
    )
    assert redelivered.json()["webhook_status"] == 200
    assert texts(system, PARENT).count("💬 Менеджер All In Academy:\nДа, записала вас на субботу 12:00.") == 1
    # Only managers speak for the school; the managers' own talk is not sent anywhere.
    manager_replies(
        system, managers, card["message_id"], "Я возьму", user={"id": OUTSIDER, "first_name": "Гость"}
    )
    help_answer = manager_types(system, managers, "/help")  # a bot's message that is no handover's
    manager_replies(system, managers, help_answer["message_id"], "Кто это?")
    assert not any("Я возьму" in text or "Кто это?" in text for text in texts(system, PARENT))

    refused = manager_presses(system, managers, OUTSIDER, card, "✔ Готово")
    assert refused["answer"] == "Эти кнопки — для менеджеров школы."
    closed = manager_presses(system, managers, MANAGER, card, "✔ Готово")
    assert closed["answer"] == "Бот снова отвечает родителю."
    assert "✔ Готово: Ольга (@olga_m)" in closed["card"]["text"] and not closed["card"].get("reply_markup")
    assert texts(system, PARENT)[-1] == t("ru", "handover_ended")
    again = manager_presses(system, managers, MANAGER, card, "✔ Готово", stale=True)
    assert again["answer"] == "Этот чат уже вернулся к боту."

    # The bot answers again.
    script(system, reply="Уроки проходят в Zoom.")
    assert system.parent_sends("text", PARENT, text="Где проходят уроки?") == 200
    assert texts(system, PARENT)[-1] == "Уроки проходят в Zoom."


def test_the_assistant_failing_twice_offers_a_manager(system: System, managers: int) -> None:
    system.parent_sends("command", PARENT, command="/start")  # not consented: nothing kept, still helped
    system.fault("openai", status=500, times=-1, match="/chat/completions")
    assert system.parent_sends("text", PARENT, text="Есть ли занятия по робототехнике?") == 200
    first = system.bot_messages(PARENT)[-1]
    assert first["text"] == t("ru", "ai_unavailable") and callbacks(first) == ["ai:back"]
    assert system.parent_sends("text", PARENT, text="А по шахматам?") == 200
    second = system.bot_messages(PARENT)[-1]
    assert second["text"] == t("ru", "ai_unavailable")  # the same text; a manager is one tap away
    assert callbacks(second) == ["handover:ask", "ai:back"]
    assert not [m for m in system.bot_messages(managers) if "🙋" in m.get("text", "")]
    assert press(system, second, "handover:ask", PARENT) == 200
    assert texts(system, PARENT)[-1] == t("ru", "handover_started_not_helped")
    [card] = [m for m in system.bot_messages(managers) if "🙋" in m.get("text", "")]
    assert card["text"].startswith("🙋 Ассистент дважды подряд не смог помочь родителю")
    assert "Коротко:" not in card["text"]  # nothing kept before consent, and no model: no summary


def test_unreachable_managers_never_leave_the_parent_waiting(system: System, managers: int) -> None:
    system.parent_sends("command", PARENT, command="/start")
    parent_presses(system, PARENT, "Согласен")  # at the phone step: the request is no phone number
    system.fault("telegram", status=400, times=1, message="Bad Request: chat not found", match="sendMessage")
    assert system.parent_sends("text", PARENT, text="Позовите менеджера") == 200
    assert texts(system, PARENT)[-1] == t(
        "ru", "handover_unreachable", manager_link=system.env["MANAGER_LINK"]
    )
    assert system.parent_sends("text", PARENT, text="Позовите менеджера") == 200  # reachable again
    assert texts(system, PARENT)[-1] == t("ru", "handover_started_asked")
    assert system.parent_sends("text", PARENT, text="+7 916 123-45-67") == 200  # the step's answer still
    assert texts(system, PARENT)[-1] == t("ru", "ask_email")
