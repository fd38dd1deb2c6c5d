"""Handing a parent over to the managers, on fakes: who asks for a person, when the assistant gives up,
the relay both ways, ✔ Done, the lapse, the limits, and a manager's session changes under a step's lock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.bot.callbacks import HandoverAsk, HandoverDone, encode
from shared.bot.chat_document import SESSIONS, change_session
from shared.bot.conversation import Conversation
from shared.bot.desk import DeskSettings, ManagerDesk, Relayed
from shared.bot.replies import Reply
from shared.domain.handover import asks_for_person
from shared.flows.handover import HANDOVERS, Handover, HandoverSettings, forget_chat
from shared.flows.lead_repository import LeadRepository
from shared.flows.rate_limit import Limit, RateLimiter
from shared.i18n import t
from shared.ports import StoreConflict
from tests.fakes import RecordingNotifier
from tests.unit.test_assistant import MANAGER, USER, Parent

ASKS = [
    "позовите менеджера",
    "Позовите, пожалуйста, менеджера!",
    "можно поговорить с человеком?",
    "хочу живого человека",
    "Менеджер",
    "соедините с оператором",
    "Свяжите меня с менеджером",
    "talk to a human",
    "Can I speak to a manager please?",
    "I need a real person",
    "operator",
]
DOES_NOT_ASK = [
    "что делает менеджер курса?",
    "сколько человек в группе?",
    "Можно записать двух человек?",
    "Сколько стоит?",
    "My son is a human being who likes math",
    "how many people are in a group?",
    "Who is the manager of the course?",
]


@pytest.mark.parametrize("text", ASKS)
def test_a_request_for_a_person_is_recognised(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", DOES_NOT_ASK)
def test_questions_that_mention_people_are_not_requests(text: str) -> None:
    assert not asks_for_person(text)


class Handed(Parent):
    """A parent's chat with the managers' chat behind it."""

    def __init__(self, *, relay_per_window: int = 10) -> None:
        super().__init__()
        self.notifier = RecordingNotifier()
        leads = LeadRepository(self.store)
        limits = [Limit(relay_per_window, timedelta(minutes=10))]
        self.handover = Handover(
            store=self.store,
            notifier=self.notifier,
            leads=leads,
            limiter=RateLimiter(self.store, "handover_rate", limits, self.clock),
            summary=self.assistant.summary,
            recent=self.assistant.recent,
            done_markup=lambda chat_id: {"inline_keyboard": [[{"text": "✔", "callback_data": "x"}]]},
            settings=HandoverSettings(language="ru", timezone="Europe/Riga"),
        )
        self.conversation = Conversation(
            store=self.store,
            scenes=lambda: self.scenes,
            assistant=lambda: self.assistant,
            voice=lambda: self.voice_input,
            clock=self.clock,
            handover=lambda: self.handover,
        )
        self.desk = ManagerDesk(
            leads=leads,
            marks=lambda: None,  # type: ignore[arg-type,return-value]
            settings=DeskSettings(language="ru", timezone="Europe/Riga", phone_region="RU"),
            clock=self.clock,
            handover=lambda: self.handover,
            change_session=self.change,
        )
        self.manager_updates = 5000

    def change(self, chat_id: int, edit: Any) -> bool | None:
        now = lambda: self.clock.now().timestamp()  # noqa: E731
        return change_session(self.store, chat_id, edit, now=now, retention=None, wait=0.2)

    def cards(self) -> list[str]:
        """Handover cards in the managers' chat (not the relayed messages under them)."""
        return [text for m, text in self.notifier.cards.items() if self.notifier.replies_to[m] is None]

    def manager_replies(self, to: int, text: str) -> Relayed | None:
        self.manager_updates += 1
        return self.desk.reply(to, text, self.manager_updates)


def offers_a_manager(reply: Reply) -> bool:
    return any(button.callback_data == encode(HandoverAsk()) for row in reply.buttons for button in row)


def test_two_unhelpful_answers_in_a_row_offer_a_manager_not_two_apart() -> None:
    parent = Handed()
    parent.consent()
    parent.model.answers = [
        f"Не знаю, спросите менеджера: {MANAGER}",  # the model sends them on: no help
        "Занятия идут 60 минут.",
        f"Лучше спросите менеджера: {MANAGER}",
    ]
    assert not offers_a_manager(parent.ask_ai("Есть ли робототехника?"))
    assert not offers_a_manager(parent.ask_ai("Сколько длится урок?"))
    assert not offers_a_manager(parent.ask_ai("А шахматы?"))
    assert parent.session.ai_misses == 1
    parent.model.fail_next = 1  # the model is down: no help either
    reply = parent.ask_ai("А рисование?")
    assert reply.text == t("ru", "ai_unavailable") and offers_a_manager(reply)  # offered, not forced
    assert parent.cards() == []
    [called] = parent.send("callback", callback_data=encode(HandoverAsk()))
    assert called.text == t("ru", "handover_started_not_helped")
    [card] = parent.cards()
    assert card.startswith("🙋 Ассистент дважды подряд не смог помочь родителю")
    assert "👤 А шахматы?" in card and "Коротко:" in card  # the history (answered turns), summed up
    assert parent.session.handover is not None and parent.session.ai_misses == 0
    [again] = parent.send("callback", callback_data=encode(HandoverAsk()))  # a second tap
    assert again.text == t("ru", "handover_already") and len(parent.cards()) == 1


def test_price_questions_are_the_schools_policy_not_a_miss() -> None:
    parent = Handed()
    parent.consent()
    assert parent.ask_ai("Сколько стоит обучение?").text.startswith("Стоимость")
    assert not offers_a_manager(parent.ask_ai("А всё-таки, какая цена?"))
    assert parent.session.ai_misses == 0 and parent.cards() == []


def test_the_parents_messages_go_to_the_managers_and_a_reply_comes_back() -> None:
    parent = Handed()
    parent.send("command", text="start")
    assert parent.ask("Позовите менеджера").text == t("ru", "handover_started_asked")
    [card_id] = [m for m in parent.notifier.cards if parent.notifier.replies_to[m] is None]
    requests = len(parent.model.requests)
    assert parent.send(text="Хочу узнать про расписание") == []  # nothing back: a person will answer
    assert len(parent.model.requests) == requests
    relayed = max(parent.notifier.cards)
    assert parent.notifier.replies_to[relayed] == card_id
    assert parent.notifier.cards[relayed].endswith(":\nХочу узнать про расписание")
    assert parent.manager_replies(relayed, "Пишу вам в личку") == Relayed()
    assert parent.notifier.parents[-1] == (USER, "💬 Менеджер All In Academy:\nПишу вам в личку")
    assert parent.manager_replies(999, "своё") is None  # not a handover's message: the managers' talk
    assert parent.manager_replies(relayed, "") == Relayed(t("ru", "desk_reply_text_only"))  # a photo
    # A button or a command in the meantime is the bot's as always.
    [language] = parent.send("command", text="language")
    assert language.buttons


def test_done_gives_the_chat_back_and_a_later_reply_opens_it_again() -> None:
    parent = Handed()
    parent.send("command", text="start")
    parent.ask("Позовите менеджера")
    [card_id] = parent.notifier.cards
    done = parent.desk.handover_done(HandoverDone(USER), "Ольга", "карточка")
    assert done.card is not None and done.card.text.startswith("карточка\n\n✔ Готово: Ольга, ")
    assert parent.notifier.parents[-1] == (USER, t("ru", "handover_ended"))
    assert parent.session.handover is None
    assert parent.ask("Как проходит урок?").text == "Пробный урок длится 60 минут."  # the bot again
    again = parent.desk.handover_done(HandoverDone(USER), "Ольга", "карточка")
    assert again.answer == t("ru", "desk_handover_already_done") and again.card is None
    assert parent.manager_replies(card_id, "Ещё вопрос: удобно в субботу?") == Relayed()
    assert parent.session.handover is not None  # the parent's answer reaches the manager
    assert parent.send(text="Да, удобно") == []


def test_a_handover_no_manager_answers_lapses_after_a_day() -> None:
    parent = Handed()
    parent.send("command", text="start")
    parent.ask("Позовите менеджера")
    parent.clock.advance(hours=23)
    assert parent.send(text="Есть кто-нибудь?") == []
    parent.clock.advance(hours=2)
    assert parent.ask("Как проходит урок?").text == "Пробный урок длится 60 минут."


def test_relayed_messages_are_limited_like_questions() -> None:
    parent = Handed(relay_per_window=2)
    parent.send("command", text="start")
    parent.ask("Позовите менеджера")
    assert parent.send(text="раз") == [] and parent.send(text="два") == []
    assert parent.ask("три").text == t("ru", "handover_rate_limited")
    assert [text.split("\n")[-1] for text in parent.notifier.cards.values()][-2:] == ["раз", "два"]


def test_unreachable_managers_leave_the_assistant_on() -> None:
    parent = Handed()
    parent.send("command", text="start")
    parent.notifier.fail_next = 1
    assert parent.ask("Позовите менеджера").text == t("ru", "handover_unreachable", manager_link=MANAGER)
    assert parent.session.handover is None


def test_a_reply_to_a_forgotten_parent_is_not_sent() -> None:
    parent = Handed()
    parent.send("command", text="start")
    parent.ask("Позовите менеджера")
    [card_id] = parent.notifier.cards
    parent.store.delete(SESSIONS, str(USER))  # /delete_me
    sent = len(parent.notifier.parents)
    assert parent.manager_replies(card_id, "Здравствуйте!") == Relayed(t("ru", "desk_handover_gone"))
    assert len(parent.notifier.parents) == sent
    assert parent.store.get(HANDOVERS, f"m{card_id}") is not None  # a month, unless the parent is erased


def test_a_managers_change_waits_for_a_step_holding_the_chats_lock() -> None:
    parent = Handed()
    parent.send("command", text="start")
    parent.ask("Позовите менеджера")
    found = parent.store.get(SESSIONS, str(USER))
    assert found is not None
    until = parent.clock.now().timestamp() + 60
    parent.store.put(SESSIONS, str(USER), {**found.data, "lock": {"update_id": 1, "until": until}})
    with pytest.raises(StoreConflict):
        parent.desk.handover_done(HandoverDone(USER), "Ольга", "карточка")
    assert parent.session.handover is not None
    parent.clock.advance(seconds=61)  # the holder died: its lease ends
    assert parent.desk.handover_done(HandoverDone(USER), "Ольга", "карточка").card is not None
    assert parent.session.handover is None


def test_erasing_a_parent_forgets_where_their_handover_messages_lead() -> None:
    parent = Handed()
    parent.send("command", text="start")
    parent.ask("Позовите менеджера")
    parent.send(text="Алло")
    other = {"chat_id": 42, "language": "ru", "card": 7}
    parent.store.put(HANDOVERS, "m7", other)
    assert len(parent.store.keys(HANDOVERS, "m")) == 3
    forget_chat(parent.store, USER)
    assert parent.store.keys(HANDOVERS, "m") == ["m7"]
    assert parent.store.get("handover_rate", str(USER)) is None
