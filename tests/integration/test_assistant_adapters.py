"""The OpenAI adapter and the Telegram file download against the fakes, and the assistant flow with the
real SDK: what reaches the API, what errors become, and what never leaves the bot."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import fakeredis
import pytest

from local.fakes import OpenAIFake, TelegramFake
from shared.adapters.openai_ai import OpenAIClient
from shared.adapters.store_redis import RedisStore
from shared.adapters.telegram_files import TelegramFiles
from shared.flows.assistant import AssistantFlow
from shared.flows.rate_limit import Limit, RateLimiter
from shared.i18n import t
from shared.ports import AssistantUnavailable, ChatTurn, FileUnavailable, TranscriptionFailed
from tests.corpora import INJECTIONS, PRICE_QUESTIONS
from tests.factories import assistant_settings
from tests.fakes import FixedClock

KEY = "sk-adapter-test"
TOKEN = "123456:files-test"
MANAGER = "https://t.me/allin_manager"


@pytest.fixture(scope="module")
def openai_server() -> Iterator[tuple[OpenAIFake, str]]:
    fake = OpenAIFake(api_keys=[KEY])
    with fake.server() as server:
        yield fake, server.url


@pytest.fixture
def fake(openai_server: tuple[OpenAIFake, str]) -> Iterator[OpenAIFake]:
    fake = openai_server[0]
    fake.reset()
    yield fake
    fake.clear_faults()


def client(openai_server: tuple[OpenAIFake, str], *, key: str = KEY, timeout: float = 5) -> OpenAIClient:
    return OpenAIClient(
        api_key=key,
        base_url=openai_server[1] + "/v1",
        model="gpt-4o-mini",
        transcribe_model="whisper-1",
        timeout=timeout,
        max_retries=1,
        max_answer_tokens=300,
    )


def test_answer_sends_the_system_prompt_and_the_turns(openai_server, fake: OpenAIFake) -> None:  # type: ignore[no-untyped-def]
    fake.script_reply("Уроки идут по 60 минут.")
    turns = [ChatTurn("user", "Привет"), ChatTurn("assistant", "Здравствуйте!"), ChatTurn("user", "Урок?")]
    assert client(openai_server).answer("Ты помощник школы.", turns) == "Уроки идут по 60 минут."
    [call] = fake.calls("/chat/completions")
    assert call["body"]["messages"] == [
        {"role": "system", "content": "Ты помощник школы."},
        {"role": "user", "content": "Привет"},
        {"role": "assistant", "content": "Здравствуйте!"},
        {"role": "user", "content": "Урок?"},
    ]
    assert call["body"]["max_completion_tokens"] == 300 and call["body"]["model"] == "gpt-4o-mini"


def test_server_errors_are_retried_once_then_unavailable(openai_server, fake: OpenAIFake) -> None:  # type: ignore[no-untyped-def]
    fake.add_fault(500, times=2, match="/chat/completions")
    with pytest.raises(AssistantUnavailable, match="500"):
        client(openai_server).answer("system", [ChatTurn("user", "вопрос")])
    assert len(fake.calls("/chat/completions")) == 2  # the SDK's one retry
    fake.add_fault(500, times=1, match="/chat/completions")
    assert client(openai_server).answer("system", [ChatTurn("user", "вопрос")])  # the retry succeeds


def test_retry_after_cannot_stretch_a_call_past_its_budget(openai_server, fake: OpenAIFake) -> None:  # type: ignore[no-untyped-def]
    # The SDK would wait the 100 s the API asks for; the adapter retries once, at once, and gives up.
    fake.add_fault(429, times=-1, match="/chat/completions", retry_after=100)
    with pytest.raises(AssistantUnavailable, match="429"):
        client(openai_server).answer("system", [ChatTurn("user", "вопрос")])
    assert len(fake.calls("/chat/completions")) == 2


def test_a_hanging_api_times_out_as_unavailable(openai_server, fake: OpenAIFake) -> None:  # type: ignore[no-untyped-def]
    fake.add_fault(hang=10, times=-1, match="/chat/completions")
    with pytest.raises(AssistantUnavailable, match="APITimeoutError"):
        client(openai_server, timeout=0.3).answer("system", [ChatTurn("user", "вопрос")])


def test_a_wrong_key_is_an_error_for_developers(openai_server, fake: OpenAIFake, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.WARNING), pytest.raises(AssistantUnavailable, match="401"):
        client(openai_server, key="sk-wrong").answer("system", [ChatTurn("user", "вопрос")])
    assert [r.levelno for r in caplog.records if r.name == "shared.adapters.openai_ai"] == [logging.ERROR]


def test_transcription_sends_the_language_and_the_file_name(openai_server, fake: OpenAIFake) -> None:  # type: ignore[no-untyped-def]
    text = client(openai_server).transcribe(b"anna@example.com", "file_3.oga", "en")
    assert text == "anna@example.com"
    [call] = fake.calls("/audio/transcriptions")
    assert call["body"]["language"] == "en" and call["body"]["model"] == "whisper-1"
    assert call["body"]["_files"] == {"file": "file_3.oga"}


def test_transcription_errors_fail_the_transcription(openai_server, fake: OpenAIFake) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TranscriptionFailed, match="BadRequestError 400"):
        client(openai_server).transcribe(b"OggS", "voice.exe", "ru")
    fake.add_fault(503, times=-1, match="/audio/")
    with pytest.raises(TranscriptionFailed, match="503"):
        client(openai_server).transcribe(b"OggS", "voice.oga", "ru")


@pytest.fixture
def telegram() -> Iterator[tuple[TelegramFake, TelegramFiles]]:
    fake = TelegramFake(tokens=[TOKEN])
    with fake.server() as server:
        yield fake, TelegramFiles(api_url=server.url, token=TOKEN)


def test_voice_files_are_downloaded_through_the_bot_api(telegram) -> None:  # type: ignore[no-untyped-def]
    fake, files = telegram
    fake.add_file("voice-9", "voice", content=b"OggS spoken words", duration=3)
    content, path = files.download("voice-9", max_bytes=1024)
    assert content == b"OggS spoken words" and path.endswith(".oga")
    with pytest.raises(FileUnavailable, match="larger than 8 bytes"):
        files.download("voice-9", max_bytes=8)
    with pytest.raises(FileUnavailable, match="getFile 400"):
        files.download("no-such-file", max_bytes=1024)


def test_no_price_question_or_injection_reaches_the_api(openai_server, fake: OpenAIFake) -> None:  # type: ignore[no-untyped-def]
    store = RedisStore(fakeredis.FakeRedis())
    flow = AssistantFlow(
        store=store,
        assistant=lambda: client(openai_server),
        limiter=RateLimiter(store, "ai_rate", [Limit(1000, timedelta(minutes=10))], FixedClock()),
        clock=FixedClock(),
        settings=assistant_settings(history_turns=3),
    )
    canned = {
        t(lang, key, manager_link=MANAGER) for lang in ("ru", "en") for key in ("ai_price", "ai_injection")
    }
    for question in [*PRICE_QUESTIONS, *INJECTIONS]:
        for language in ("ru", "en"):
            assert flow.answer(1, question, language).text in canned, question
    assert fake.calls("/v1/") == []
    assert flow.answer(1, "Какие курсы есть для 8 лет?", "ru").text  # an ordinary question does reach it
    assert len(fake.calls("/chat/completions")) == 1
