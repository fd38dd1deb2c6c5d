"""The PTB runtime against the Telegram fake: the global error handler and updates the bot ignores."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from local.fakes import TelegramFake
from shared.adapters import round_trips
from shared.bot.replies import Reply
from shared.bot.runtime import BotRuntime
from shared.domain.conversation import Incoming

TOKEN = "123456:runtime-test"


class Exploding:
    def handle(self, event: Incoming) -> list[Reply]:
        raise RuntimeError("the store went away")


class Slow:
    def __init__(self) -> None:
        self.release = threading.Event()

    def handle(self, event: Incoming) -> list[Reply]:
        self.release.wait(10)
        return [Reply("late but once")]


class Echo:
    def __init__(self) -> None:
        self.events: list[Incoming] = []

    def handle(self, event: Incoming) -> list[Reply]:
        self.events.append(event)
        return [Reply(f"echo {event.kind}")]


@pytest.fixture
def telegram() -> Iterator[tuple[TelegramFake, str]]:
    fake = TelegramFake(tokens=[TOKEN])
    with fake.server() as server:
        yield fake, server.url


def runtime(url: str, conversation: object) -> BotRuntime:
    return BotRuntime(
        token=TOKEN,
        api_url=url,
        conversation=lambda: conversation,  # type: ignore[arg-type, return-value]
        manager_link="https://t.me/allin_manager",
    )


def test_an_error_is_logged_and_the_parent_told_in_their_language(telegram) -> None:  # type: ignore[no-untyped-def]
    fake, url = telegram
    parent = fake.user(501, language_code="en")
    runtime(url, Exploding()).process(fake.command_update(parent, "/start"))
    [reply] = fake.messages(501)
    assert (
        reply["text"] == "Something went wrong. Try /start or write to a manager: https://t.me/allin_manager"
    )


def test_group_messages_and_edits_are_ignored(telegram) -> None:  # type: ignore[no-untyped-def]
    fake, url = telegram
    bot = runtime(url, Echo())
    group_message = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": -100500, "type": "group", "title": "parents"},
            "from": {"id": 502, "is_bot": False, "first_name": "B"},
            "text": "hello",
        },
    }
    bot.process(group_message)
    edited = {
        "update_id": 2,
        "edited_message": {
            **group_message["message"],
            "chat": {"id": 502, "type": "private"},
            "edit_date": 1,
        },
    }
    bot.process(edited)
    assert fake.messages(-100500) == [] and fake.messages(502) == []
    bot.process(fake.text_update(fake.user(503), "hi"))
    assert [m["text"] for m in fake.messages(503)] == ["echo text"]


def test_a_press_or_message_in_someone_elses_chat_is_ignored(telegram) -> None:  # type: ignore[no-untyped-def]
    fake, url = telegram
    echo = Echo()
    bot = runtime(url, echo)
    victim = {"id": 601, "type": "private", "first_name": "A"}
    attacker = {"id": 602, "is_bot": False, "first_name": "M"}
    bot_message = {
        "message_id": 7,
        "date": 0,
        "chat": victim,
        "from": {"id": 123456, "is_bot": True, "first_name": "Bot"},
    }
    press = {"id": "1", "from": attacker, "chat_instance": "1", "message": bot_message, "data": "erase:yes"}
    bot.process({"update_id": 1, "callback_query": press})
    message = {"message_id": 8, "date": 0, "chat": victim, "from": attacker, "text": "/delete_me"}
    bot.process({"update_id": 2, "message": message})
    assert echo.events == []
    bot.process({"update_id": 3, "callback_query": {**press, "from": {**attacker, "id": 601}}})
    assert [(e.kind, e.chat_id) for e in echo.events] == [("callback", 601)]  # the chat's own parent


def test_voice_notes_and_long_ai_commands_reach_the_conversation_whole(telegram) -> None:  # type: ignore[no-untyped-def]
    fake, url = telegram
    echo = Echo()
    bot = runtime(url, echo)
    parent = fake.user(504)
    bot.process(fake.voice_update(parent, "voice-1", 7, file_size=4321))
    question = "как проходит пробный урок? " * 5
    bot.process(fake.command_update(parent, "/ai", question))
    voice, command = echo.events
    assert (voice.kind, voice.voice_file_id, voice.voice_seconds, voice.voice_bytes) == (
        "voice",
        "voice-1",
        7,
        4321,
    )
    assert (command.kind, command.text, command.payload) == ("command", "ai", question.strip())


def test_an_update_outliving_its_time_is_finished_in_the_background_not_failed(telegram) -> None:  # type: ignore[no-untyped-def]
    fake, url = telegram
    slow = Slow()
    bot = runtime(url, slow)
    bot.process(fake.text_update(fake.user(505), "вопрос"), timeout=0.2)  # returns: Telegram gets its 200
    assert fake.messages(505) == []
    slow.release.set()
    deadline = threading.Event()
    for _ in range(100):
        if fake.messages(505):
            break
        deadline.wait(0.05)
    assert [m["text"] for m in fake.messages(505)] == ["late but once"]


class Duplicates:
    """A conversation that has handled every update already, after touching the store once."""

    def handle(self, event: Incoming) -> list[Reply]:
        from shared.bot.conversation import UpdateHandled

        round_trips.count()  # in the conversation's worker thread, counted for the caller's request
        raise UpdateHandled(event.update_id)


def test_an_update_runs_in_its_callers_context_and_reports_a_duplicate(telegram) -> None:  # type: ignore[no-untyped-def]
    fake, url = telegram
    parent = fake.user(503)
    with round_trips.counting() as counted:
        outcome = runtime(url, Duplicates()).process(fake.command_update(parent, "/start"))
    assert (outcome, counted()) == ("duplicate", 1)
    assert fake.messages(503) == []  # a duplicate is not answered, not even with the error message
