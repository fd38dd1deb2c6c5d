"""The OpenAI fake driven by the real `openai` SDK: chat, transcriptions, errors, faults, scripts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from local.fakes import start_fakes
from local.fakes.openai import (
    DEFAULT_REPLY_EN,
    DEFAULT_REPLY_RU,
    DEFAULT_TRANSCRIPT_EN,
    DEFAULT_TRANSCRIPT_RU,
    OpenAIFake,
)
from local.httpserver import ServerThread

KEY = "sk-test-openai-key"
MODEL = "gpt-4o-mini"


@pytest.fixture(scope="module")
def openai_server() -> Iterator[tuple[OpenAIFake, ServerThread]]:
    fake = OpenAIFake(api_keys=[KEY])
    with fake.server() as server:
        yield fake, server


@pytest.fixture
def fake(openai_server: tuple[OpenAIFake, ServerThread]) -> Iterator[OpenAIFake]:
    fake = openai_server[0]
    fake.reset()
    yield fake
    fake.clear_faults()  # releases a request still hanging in a fault, so the server stops at once


@pytest.fixture
def url(openai_server: tuple[OpenAIFake, ServerThread]) -> str:
    return openai_server[1].url


def make_client(url: str, *, key: str = KEY, timeout: float = 5, max_retries: int = 0) -> OpenAI:
    return OpenAI(api_key=key, base_url=url + "/v1", max_retries=max_retries, timeout=timeout)


@pytest.fixture
def client(url: str, fake: OpenAIFake) -> OpenAI:
    return make_client(url)


def ask(client: OpenAI, text: str, **kwargs: Any) -> Any:
    return client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": text}], **kwargs)


# ---- chat completions ------------------------------------------------------------------------------------
def test_chat_happy_path(client: OpenAI, fake: OpenAIFake) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are the academy's assistant."},
            {"role": "user", "content": [{"type": "text", "text": "What courses do you have?"}]},
        ],
        temperature=0.3,
        max_completion_tokens=200,
        user="tg-1001",
    )

    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == MODEL
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == DEFAULT_REPLY_EN
    assert choice.message.refusal is None
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert (
        completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    (call,) = fake.calls("/v1/chat/completions")
    assert call["status"] == 200
    assert call["headers"]["Authorization"] == f"Bearer {KEY}"
    assert call["body"]["messages"][0] == {"role": "system", "content": "You are the academy's assistant."}
    assert call["body"]["user"] == "tg-1001"
    assert fake.chats()[0]["last_user_message"] == "What courses do you have?"


def test_default_reply_follows_the_language_of_the_last_user_message(client: OpenAI) -> None:
    assert ask(client, "Какие у вас есть курсы?").choices[0].message.content == DEFAULT_REPLY_RU
    english = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "Привет"},
            {"role": "assistant", "content": "Здравствуйте!"},
            {"role": "user", "content": "Sorry, English please"},
        ],
    )
    assert english.choices[0].message.content == DEFAULT_REPLY_EN
    assert "stand-in" in DEFAULT_REPLY_EN


def test_wrong_or_missing_key_is_authentication_error(url: str, fake: OpenAIFake) -> None:
    with pytest.raises(openai.AuthenticationError) as wrong:
        ask(make_client(url, key="sk-wrong-key-1234567890"), "hi")
    assert wrong.value.code == "invalid_api_key"
    assert "sk-wrong" in wrong.value.message and "567890" not in wrong.value.message  # masked like the API

    missing = httpx.post(f"{url}/v1/chat/completions", json={"model": MODEL, "messages": []})
    assert missing.status_code == 401
    assert set(missing.json()["error"]) == {"message", "type", "param", "code"}
    assert "didn't provide an API key" in missing.json()["error"]["message"]
    assert fake.chats() == []


@pytest.mark.parametrize(
    ("messages", "param", "code"),
    [
        (None, "messages", "missing_required_parameter"),
        ([], "messages", "empty_array"),
        ("hello", "messages", "invalid_type"),
        ([{"role": "robot", "content": "hi"}], "messages[0].role", "invalid_value"),
        ([{"content": "hi"}], "messages[0].role", "missing_required_parameter"),
        ([{"role": "user"}], "messages[0].content", "missing_required_parameter"),
        ([{"role": "user", "content": 5}], "messages[0].content", "invalid_type"),
        (
            [{"role": "user", "content": [{"text": "hi"}]}],
            "messages[0].content[0].type",
            "missing_required_parameter",
        ),
        (
            [{"role": "system", "content": [{"type": "image_url"}]}],
            "messages[0].content[0].type",
            "invalid_value",
        ),
        ([{"role": "tool", "content": "42"}], "messages[0].tool_call_id", "missing_required_parameter"),
    ],
)
def test_bad_messages_are_bad_request(client: OpenAI, messages: Any, param: str, code: str) -> None:
    body: dict[str, Any] = {"model": MODEL}
    if messages is not None:
        body["messages"] = messages
    with pytest.raises(openai.BadRequestError) as error:
        client.post("/chat/completions", cast_to=object, body=body)
    assert (error.value.param, error.value.code, error.value.type) == (param, code, "invalid_request_error")


def test_bad_role_message_lists_the_supported_roles(client: OpenAI) -> None:
    messages: Any = [{"role": "robot", "content": "hi"}]
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=messages)
    assert "Invalid value: 'robot'" in error.value.message and "'developer'" in error.value.message


def test_other_bad_parameters(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as unknown:
        ask(client, "hi", extra_body={"temprature": 0.5})
    assert "Unrecognized request argument supplied: temprature" in unknown.value.message
    with pytest.raises(openai.BadRequestError) as hot:
        ask(client, "hi", temperature=3)
    assert (hot.value.param, hot.value.code) == ("temperature", "decimal_above_max_value")
    hi = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.BadRequestError) as no_model:
        client.post("/chat/completions", cast_to=object, body={"messages": hi})
    assert "must provide a model" in no_model.value.message
    with pytest.raises(openai.BadRequestError) as streaming:
        client.post(
            "/chat/completions", cast_to=object, body={"model": MODEL, "stream": True, "messages": hi}
        )
    assert streaming.value.param == "stream"


def test_reasoning_models_refuse_max_tokens_and_temperature(client: OpenAI) -> None:
    messages: Any = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.BadRequestError) as max_tokens:
        client.chat.completions.create(model="gpt-5-mini", messages=messages, max_tokens=50)
    assert (max_tokens.value.param, max_tokens.value.code) == ("max_tokens", "unsupported_parameter")
    with pytest.raises(openai.BadRequestError) as temperature:
        client.chat.completions.create(model="o4-mini", messages=messages, temperature=0.2)
    assert temperature.value.code == "unsupported_value"
    ok = client.chat.completions.create(model="gpt-5-mini", messages=messages, max_completion_tokens=50)
    assert ok.choices[0].message.content


def test_max_tokens_cuts_the_reply(client: OpenAI) -> None:
    completion = ask(client, "hello", max_tokens=3)
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == DEFAULT_REPLY_EN[:12]


def test_unknown_model_is_not_found(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-9-ultra", messages=[{"role": "user", "content": "hi"}])
    assert unknown.value.code == "model_not_found"
    assert "gpt-9-ultra" in unknown.value.message
    with pytest.raises(openai.NotFoundError) as whisper:
        client.chat.completions.create(model="whisper-1", messages=[{"role": "user", "content": "hi"}])
    assert "not a chat model" in whisper.value.message and whisper.value.param == "model"


def test_scripted_replies_match_and_count(client: OpenAI, fake: OpenAIFake) -> None:
    fake.script_reply("Trial lessons are free.", match="TRIAL", times=2)
    fake.script_reply("Anything else?")  # no match: the next request of any kind, once

    assert ask(client, "Is the trial lesson paid?").choices[0].message.content == "Trial lessons are free."
    assert ask(client, "What is the price?").choices[0].message.content == "Anything else?"
    assert ask(client, "What is the price?").choices[0].message.content == DEFAULT_REPLY_EN
    assert ask(client, "And the trial?").choices[0].message.content == "Trial lessons are free."
    assert ask(client, "And the trial?").choices[0].message.content == DEFAULT_REPLY_EN
    assert [chat["scripted"] for chat in fake.chats()] == [True, True, False, True, False]

    fake.script_reply("Always this.", times=-1)
    for _ in range(3):
        assert ask(client, "anything").choices[0].message.content == "Always this."
    assert fake.state()["replies"] == [{"text": "Always this.", "match": None, "times": -1}]
    fake.reset()
    assert ask(client, "anything").choices[0].message.content == DEFAULT_REPLY_EN


def test_scripts_over_http(client: OpenAI, fake: OpenAIFake, url: str) -> None:
    ok = httpx.post(f"{url}/_fake/script", json={"reply": "Over HTTP", "match": "http", "times": 1})
    assert ok.status_code == 200 and ok.json()["ok"] is True
    both = httpx.post(f"{url}/_fake/script", json={"reply": "a", "transcript": "b"})
    assert both.status_code == 400
    bad_times = httpx.post(f"{url}/_fake/script", json={"transcript": "b", "times": 0})
    assert bad_times.status_code == 400
    assert httpx.post(f"{url}/_fake/script", json={"transcript": "Spoken", "times": 2}).status_code == 200

    assert httpx.get(f"{url}/_fake/script").json()["transcripts"] == [{"text": "Spoken", "times": 2}]
    assert ask(client, "via HTTP?").choices[0].message.content == "Over HTTP"
    state = httpx.get(f"{url}/_fake/state").json()
    assert state["counts"] == {"chat_completions": 1, "transcriptions": 0}
    assert state["replies"] == []
    assert all(not call["path"].startswith("/_fake") for call in fake.calls())
    assert httpx.delete(f"{url}/_fake/script").status_code == 200
    assert fake.scripts() == {"replies": [], "transcripts": []}


# ---- faults ----------------------------------------------------------------------------------------------
def test_fault_500_is_internal_server_error(client: OpenAI, fake: OpenAIFake) -> None:
    fake.add_fault(500, match="chat/completions")
    with pytest.raises(openai.InternalServerError) as error:
        ask(client, "hi")
    assert error.value.status_code == 500
    assert error.value.type == "server_error"
    assert error.value.request_id is not None and error.value.request_id.startswith("req_")
    assert ask(client, "hi").choices[0].message.content == DEFAULT_REPLY_EN


def test_rate_limit_fault_has_retry_after(client: OpenAI, fake: OpenAIFake, url: str) -> None:
    fake.add_fault(429, retry_after=7)
    with pytest.raises(openai.RateLimitError) as error:
        ask(client, "hi")
    assert error.value.code == "rate_limit_exceeded"
    assert error.value.response.headers["retry-after"] == "7"
    assert error.value.response.headers["retry-after-ms"] == "7000"

    # The SDK retries a 429 on its own; the fake sees the retry count it sends.
    fake.clear_calls()
    fake.add_fault(429, retry_after=0)
    retrying = make_client(url, max_retries=1)
    assert ask(retrying, "hi").choices[0].message.content == DEFAULT_REPLY_EN
    assert [c["headers"]["X-Stainless-Retry-Count"] for c in fake.calls()] == ["0", "1"]
    assert [c["status"] for c in fake.calls()] == [429, 200]


def test_hang_makes_the_client_time_out(url: str, fake: OpenAIFake) -> None:
    fake.add_fault(hang=30, match="chat/completions")
    with pytest.raises(openai.APITimeoutError):
        ask(make_client(url, timeout=0.3), "hi")
    assert fake.chats() == []


# ---- transcriptions --------------------------------------------------------------------------------------
def transcribe(client: OpenAI, data: bytes, name: str = "voice.oga", **kwargs: Any) -> Any:
    kwargs.setdefault("model", "whisper-1")
    return client.audio.transcriptions.create(file=(name, data, "audio/ogg"), **kwargs)


def test_transcription_returns_uploaded_utf8_text(client: OpenAI, fake: OpenAIFake) -> None:
    result = transcribe(client, "Хочу записаться на пробный урок".encode(), language="ru")
    assert result.text == "Хочу записаться на пробный урок"

    (call,) = fake.calls("/v1/audio/transcriptions")
    assert call["body"]["model"] == "whisper-1" and call["body"]["language"] == "ru"
    assert call["body"]["_files"] == {"file": "voice.oga"}
    (record,) = fake.transcriptions()
    assert record["filename"] == "voice.oga" and record["size"] == len(
        "Хочу записаться на пробный урок".encode()
    )
    assert record["scripted"] is False


def test_transcription_default_phrase_for_binary_audio(client: OpenAI) -> None:
    audio = b"OggS\x00\x02\x00\x00\xff\xfe\x80\x81 not text"
    assert transcribe(client, audio, language="ru").text == DEFAULT_TRANSCRIPT_RU
    assert transcribe(client, audio).text == DEFAULT_TRANSCRIPT_RU
    assert transcribe(client, audio, language="en").text == DEFAULT_TRANSCRIPT_EN


def test_scripted_transcript(client: OpenAI, fake: OpenAIFake) -> None:
    fake.script_transcript("Сколько стоит курс?", times=2)
    assert transcribe(client, b"\xff\xfe").text == "Сколько стоит курс?"
    assert transcribe(client, b"typed text", name="voice.mp3").text == "Сколько стоит курс?"
    assert transcribe(client, b"typed text", name="voice.mp3").text == "typed text"
    assert [item["scripted"] for item in fake.transcriptions()] == [True, True, False]


def test_transcription_formats(client: OpenAI) -> None:
    text = transcribe(client, b"Hello there", response_format="text")
    assert isinstance(text, str) and text.strip() == "Hello there"
    verbose = transcribe(client, "Привет".encode(), response_format="verbose_json")
    assert (verbose.text, verbose.language) == ("Привет", "russian")
    assert verbose.duration > 0 and verbose.segments and verbose.segments[0].text.strip() == "Привет"
    srt = transcribe(client, b"Hi", response_format="srt")
    assert isinstance(srt, str) and srt.startswith("1\n00:00:00,000 --> ")
    gpt4o = transcribe(client, b"Hi", model="gpt-4o-mini-transcribe")
    assert gpt4o.text == "Hi"
    with pytest.raises(openai.BadRequestError) as unsupported:
        transcribe(client, b"Hi", model="gpt-4o-transcribe", response_format="verbose_json")
    assert unsupported.value.param == "response_format"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"name": "voice.txt"}, "Invalid file format"),
        ({"name": "voice"}, "Invalid file format"),
        ({"language": "russian"}, "ISO-639-1"),
        ({"language": "RU"}, "ISO-639-1"),
        ({"temperature": 1.5}, "temperature"),
        ({"model": "gpt-4o-mini"}, "Invalid value: 'gpt-4o-mini'"),
        ({"response_format": "xml"}, "Invalid value: 'xml'"),
    ],
)
def test_transcription_bad_requests(client: OpenAI, kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        transcribe(client, b"some words", **kwargs)
    assert needle in error.value.message
    assert error.value.type == "invalid_request_error"


def test_transcription_unknown_model_empty_file_and_auth(client: OpenAI, url: str) -> None:
    with pytest.raises(openai.NotFoundError):
        transcribe(client, b"words", model="whisper-2")
    with pytest.raises(openai.BadRequestError) as empty:
        transcribe(client, b"")
    assert empty.value.code == "audio_too_short"
    with pytest.raises(openai.AuthenticationError):
        transcribe(make_client(url, key="sk-nope"), b"words")


def test_upload_over_25_mb_is_413(client: OpenAI, fake: OpenAIFake) -> None:
    with pytest.raises(openai.APIStatusError) as error:
        transcribe(client, b"\x00" * (25 * 1024 * 1024 + 1), name="long.wav")
    assert error.value.status_code == 413
    assert "Maximum content size limit (26214400) exceeded" in error.value.message
    assert fake.transcriptions() == []
    assert fake.calls()[0]["body"]["_files"] == {"file": "long.wav"}  # the call log holds no audio bytes


# ---- runner ----------------------------------------------------------------------------------------------
def test_start_fakes_serves_openai_when_given_a_port() -> None:
    env = {"OPENAI_API_KEY": "sk-from-env", "OPENAI_MODEL": "gpt-4.1-mini-2099-01-01"}
    with start_fakes(env, openai_port=0) as fakes:
        app_env = fakes.app_env()
        assert fakes.openai is not None and fakes.openai_url is not None
        assert app_env["OPENAI_BASE_URL"] == fakes.openai_url + "/v1"
        client = OpenAI(api_key="sk-from-env", base_url=app_env["OPENAI_BASE_URL"], max_retries=0, timeout=5)
        fakes.openai.script_reply("from the runner")
        reply = client.chat.completions.create(
            model="gpt-4.1-mini-2099-01-01", messages=[{"role": "user", "content": "hi"}]
        )
        assert reply.choices[0].message.content == "from the runner"
        fakes.reset()
        assert fakes.openai.calls() == [] and fakes.openai.scripts()["replies"] == []

    with start_fakes({}) as plain:
        assert plain.openai is None and plain.openai_url is None
        assert "OPENAI_BASE_URL" not in plain.app_env()
