"""Fake of the OpenAI API (https://api.openai.com/v1) for the `openai` Python SDK to run against.

Point the SDK at it with `OpenAI(api_key=..., base_url=fake_url + "/v1")` (or `OPENAI_BASE_URL`). Serves:

    POST /v1/chat/completions      non-streaming chat completions -> a `chat.completion` object
    POST /v1/audio/transcriptions  multipart upload -> {"text"} / plain text / verbose_json / srt / vtt
    GET  /v1/models[/{id}]         the models the fake knows

Every /v1 call needs `Authorization: Bearer <key>` with one of `api_keys`: without one it is 401 "You didn't
provide an API key..." (code null), with another 401 "Incorrect API key provided: sk-ab***wxyz..." (code
`invalid_api_key`). Errors are OpenAI's `{"error": {"message", "type", "param", "code"}}`, so the SDK raises
the same classes as in production (400 BadRequestError, 401 AuthenticationError, 404 NotFoundError, 413
APIStatusError, 429 RateLimitError, 5xx InternalServerError). Checked like the real API:

* chat: `model` required ("you must provide a model parameter"), unknown -> 404 `model_not_found`, a
  transcription model -> 404 "This is not a chat model..." (param `model`); `messages` a non-empty array
  (`missing_required_parameter` / `invalid_type` / `empty_array`) of objects with a `role` among system,
  developer, user, assistant, tool, function (`invalid_value`, param `messages[i].role`) and `content` a
  string or a non-empty array of typed parts (assistant may omit it when it has tool calls; a tool message
  needs `tool_call_id` and a preceding `tool_calls`); unknown body fields -> "Unrecognized request argument
  supplied: x"; `temperature` 0-2, `max_tokens` / `max_completion_tokens` >= 1, `n` 1-128; reasoning models
  (o1/o3/o4, gpt-5) refuse `max_tokens` (`unsupported_parameter`) and a temperature other than 1
  (`unsupported_value`). `stream: true` is refused with 400: the fake does not stream.
* transcription: multipart/form-data with `file` and `model` (whisper-1, gpt-4o-transcribe,
  gpt-4o-mini-transcribe, ...); the file name's extension must be one of flac, m4a, mp3, mp4, mpeg, mpga,
  oga, ogg, wav, webm ("Invalid file format. Supported formats: [...]"); a request over 25 MB is 413
  "Maximum content size limit (26214400) exceeded (N bytes read)" (type `server_error`); an empty file is
  400 `audio_too_short`; `language` must be a 2-letter ISO-639-1 code; `response_format` json (default),
  text, srt, verbose_json, vtt (the gpt-4o models: json only); `temperature` 0-1.

What it answers: scripted text first (`script_reply(text, match=..., times=...)` for chat, matched as a
case-insensitive substring of the last user message; `script_transcript(text, times=...)`; `times=-1`
keeps a script forever; also `POST /_fake/script {"reply": ..., "match": ..., "times": ...}` or
`{"transcript": ..., "times": ...}`, `GET` lists and `DELETE` clears them). Without a script, chat answers
a short polite line saying it is the local stand-in assistant, in Russian when the last user message has
Cyrillic letters, else in English; max_tokens cuts it with `finish_reason: "length"`. A transcription
without a script is the uploaded file itself when it is UTF-8 text (so a test "dictates" by uploading
text), else a fixed question about the courses, in English for `language=en`, otherwise in Russian.

Python helpers: `chats()`, `transcriptions()` (what was answered), `script_reply()`, `script_transcript()`,
`clear_scripts()`, `scripts()`. Faults come from the base class; injected errors use OpenAI's format, and
429 carries `retry-after` / `retry-after-ms` as the real API does.
"""

from __future__ import annotations

import math
import random
import re
import string
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from local.fakes.base import CONTROL_PREFIX, FakeService, JSONDict, json_response

#: Chat models accepted by default (a mix of current and older ids the app may be configured with).
DEFAULT_CHAT_MODELS = (
    "gpt-4o-mini",
    "gpt-4o-mini-2024-07-18",
    "gpt-4o",
    "gpt-4o-2024-08-06",
    "gpt-4o-2024-11-20",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5-chat-latest",
    "o3",
    "o3-mini",
    "o4-mini",
    "gpt-4-turbo",
    "gpt-4",
    "gpt-3.5-turbo",
)
#: Transcription models (the SDK's AudioModel, less the diarizing one the fake does not imitate).
TRANSCRIPTION_MODELS = (
    "whisper-1",
    "gpt-4o-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15",
    "gpt-transcribe",
)
AUDIO_FORMATS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
MAX_UPLOAD_BYTES = 26214400  # 25 MB, the limit the real API names in its 413
ROLES = ("system", "assistant", "user", "function", "tool", "developer")
PART_TYPES = {
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal"),
}
RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt", "diarized_json")
CHAT_PARAMS = frozenset(
    "messages model audio frequency_penalty function_call functions logit_bias logprobs max_completion_tokens"
    " max_tokens metadata modalities moderation n parallel_tool_calls prediction presence_penalty"
    " prompt_cache_key prompt_cache_options prompt_cache_retention reasoning_effort response_format"
    " safety_identifier seed service_tier stop store stream stream_options temperature tool_choice tools"
    " top_logprobs top_p user verbosity web_search_options".split()
)
LANGUAGE_NAMES = {
    "ru": "russian",
    "en": "english",
    "uk": "ukrainian",
    "lv": "latvian",
    "lt": "lithuanian",
    "et": "estonian",
    "de": "german",
    "fr": "french",
    "es": "spanish",
}

DEFAULT_REPLY_RU = (
    "Здравствуйте! Я локальный тестовый ассистент (заглушка OpenAI) и отвечаю всем одинаково. "
    "Спасибо за сообщение!"
)
DEFAULT_REPLY_EN = (
    "Hello! I am the local stand-in assistant (an OpenAI fake) and give everyone the same answer. "
    "Thank you for your message!"
)
DEFAULT_TRANSCRIPT_RU = "Здравствуйте! Расскажите, пожалуйста, о ваших курсах."
DEFAULT_TRANSCRIPT_EN = "Hello! Could you tell me about your courses, please?"

# The real API's generic messages for injected faults.
FAULT_MESSAGES = {
    400: "Bad request.",
    401: "Incorrect API key provided.",
    403: "Country, region, or territory not supported",
    404: "The requested resource was not found.",
    429: "Rate limit reached for requests",
    500: "The server had an error while processing your request. Sorry about that!",
    502: "Bad gateway.",
    503: "The engine is currently overloaded, please try again later.",
}
FAULT_CODES = {
    401: "invalid_api_key",
    403: "unsupported_country_region_territory",
    429: "rate_limit_exceeded",
}

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_REASONING = re.compile(r"^(o\d|gpt-5)(?!.*chat)")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


class OpenAIApiError(Exception):
    """An API error, answered as `{"error": {"message", "type", "param", "code"}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type_, param, code

    def response(self) -> Response:
        error = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        return json_response({"error": error}, self.status)


def _json_type(value: Any) -> str:
    """The name the real API uses for a JSON value's type in `invalid_type` errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "decimal"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _missing(param: str) -> OpenAIApiError:
    return OpenAIApiError(
        400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def _invalid_type(param: str, expected: str, value: Any) -> OpenAIApiError:
    message = f"Invalid type for '{param}': expected {expected}, but got {_json_type(value)} instead."
    return OpenAIApiError(400, message, param=param, code="invalid_type")


def _invalid_value(param: str, value: Any, allowed: Iterable[str]) -> OpenAIApiError:
    quoted = [f"'{item}'" for item in allowed]
    choices = ", ".join(quoted[:-1]) + f", and {quoted[-1]}"
    message = f"Invalid value: '{value}'. Supported values are: {choices}."
    return OpenAIApiError(400, message, param=param, code="invalid_value")


def _number(param: str, value: Any, low: float, high: float | None, *, integer: bool = False) -> float:
    """A numeric parameter in [low, high], with the real API's wording for what is wrong."""
    kind = "integer" if integer else "decimal"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (integer and not isinstance(value, int))
    ):
        raise _invalid_type(param, f"an {kind}" if integer else "a decimal", value)
    if value < low:
        message = f"Invalid '{param}': {kind} below minimum value. Expected a value >= {low:g}"
        message += f", but got {value} instead."
        raise OpenAIApiError(400, message, param=param, code=f"{kind}_below_min_value")
    if high is not None and value > high:
        message = f"Invalid '{param}': {kind} above maximum value. Expected a value <= {high:g}"
        message += f", but got {value} instead."
        raise OpenAIApiError(400, message, param=param, code=f"{kind}_above_max_value")
    return float(value)


def _tokens(text: str) -> int:
    """A deterministic token estimate (about four characters a token)."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of an array."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _mask_key(key: str) -> str:
    """How the real API echoes a wrong key: its start and its last four characters."""
    if len(key) <= 12:
        return "*" * len(key)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


@dataclass
class Script:
    """A scripted answer: `times` < 0 means "until cleared"; `match` only for chat replies."""

    text: str
    match: str | None = None
    times: int = 1

    def matches(self, message: str) -> bool:
        return self.match is None or self.match.lower() in message.lower()

    @classmethod
    def checked(cls, text: Any, match: Any = None, times: Any = 1) -> Script:
        if not isinstance(text, str):
            raise ValueError("the scripted text must be a string")
        if match is not None and not isinstance(match, str):
            raise ValueError("'match' must be a string")
        if isinstance(times, bool) or not isinstance(times, int) or times == 0 or times < -1:
            raise ValueError("'times' must be a positive integer (or -1 for unlimited)")
        return cls(text, match, times)


class OpenAIFake(FakeService):
    """Stateful OpenAI fake. `api_keys` are the accepted keys; `chat_models` / `transcription_models` the
    models it knows (anything else is 404 `model_not_found`)."""

    name = "openai"
    recorded_headers = ("Authorization", "Content-Type", "User-Agent", "X-Stainless-Retry-Count")

    def __init__(
        self,
        api_keys: Iterable[str] = ("sk-test-key",),
        *,
        chat_models: Iterable[str] = DEFAULT_CHAT_MODELS,
        transcription_models: Iterable[str] = TRANSCRIPTION_MODELS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.api_keys = set(api_keys)
        self.transcription_models = tuple(dict.fromkeys(transcription_models))
        self.chat_models = tuple(m for m in dict.fromkeys(chat_models) if m not in self.transcription_models)
        self._replies: list[Script] = []
        self._transcripts: list[Script] = []
        self._chats: list[JSONDict] = []
        self._transcriptions: list[JSONDict] = []
        self._rng = random.Random(0)

    # ---- Python helpers --------------------------------------------------------------------------------
    def script_reply(self, text: str, *, match: str | None = None, times: int = 1) -> None:
        """The next `times` chat completions whose last user message contains `match` answer `text`."""
        script = Script.checked(text, match, times)
        with self.lock:
            self._replies.append(script)

    def script_transcript(self, text: str, *, times: int = 1) -> None:
        """The next `times` transcriptions return `text`."""
        script = Script.checked(text, None, times)
        with self.lock:
            self._transcripts.append(script)

    def clear_scripts(self) -> None:
        with self.lock:
            self._replies, self._transcripts = [], []

    def scripts(self) -> JSONDict:
        with self.lock:
            return {
                "replies": [asdict(script) for script in self._replies],
                "transcripts": [{"text": s.text, "times": s.times} for s in self._transcripts],
            }

    def chats(self) -> list[JSONDict]:
        """Answered chat completions, oldest first: model, last user message, reply, whether scripted."""
        with self.lock:
            return [dict(chat) for chat in self._chats]

    def transcriptions(self) -> list[JSONDict]:
        """Answered transcriptions, oldest first: model, file name, type and size, language, text."""
        with self.lock:
            return [dict(item) for item in self._transcriptions]

    # ---- FakeService -------------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self._replies, self._transcripts = [], []
        self._chats, self._transcriptions = [], []
        self._rng = random.Random(0)

    def dump_state(self) -> JSONDict:
        return {
            **self.scripts(),
            "counts": {"chat_completions": len(self._chats), "transcriptions": len(self._transcriptions)},
            "chats": self.chats(),
            "transcriptions": self.transcriptions(),
        }

    def error_response(
        self, status: int, message: str | None = None, retry_after: int | None = None
    ) -> Response:
        default = FAULT_MESSAGES.get(status, "The server had an error processing your request.")
        kind = "server_error" if status >= 500 else ("requests" if status == 429 else "invalid_request_error")
        response = OpenAIApiError(
            status, message or default, type_=kind, code=FAULT_CODES.get(status)
        ).response()
        if status == 429 or retry_after is not None:
            seconds = retry_after if retry_after is not None else 1
            response.headers["retry-after"] = str(seconds)
            response.headers["retry-after-ms"] = str(seconds * 1000)
        if status == 429:
            response.headers["x-ratelimit-limit-requests"] = "500"
            response.headers["x-ratelimit-remaining-requests"] = "0"
            response.headers["x-ratelimit-reset-requests"] = (
                f"{retry_after if retry_after is not None else 1}s"
            )
        return response

    def dispatch(self, request: Request) -> Response:
        response = super().dispatch(request)
        if not request.path.startswith(CONTROL_PREFIX):
            # The SDK puts this on its errors as `request_id`.
            with self.lock:
                response.headers.setdefault("x-request-id", "req_" + self._random_id(32))
            response.headers.setdefault("openai-version", "2020-10-01")
        return response

    def handle(self, request: Request) -> Response:
        try:
            if not request.path.startswith("/v1/"):
                raise self._invalid_url(request)
            self._authenticate(request)
            path = request.path.rstrip("/")
            if path == "/v1/chat/completions" and request.method == "POST":
                return self._chat(request)
            if path == "/v1/audio/transcriptions" and request.method == "POST":
                return self._transcribe(request)
            if path == "/v1/models" and request.method == "GET":
                models = [self._model_object(m) for m in (*self.chat_models, *self.transcription_models)]
                return json_response({"object": "list", "data": models})
            if path.startswith("/v1/models/") and request.method == "GET":
                model = path[len("/v1/models/") :]
                self._check_known(model)
                return json_response(self._model_object(model))
            raise self._invalid_url(request)
        except OpenAIApiError as exc:
            return exc.response()

    # ---- control -----------------------------------------------------------------------------------------
    def _control(self, request: Request) -> Response:
        """`POST /_fake/script` {"reply", "match", "times"} or {"transcript", "times"}; GET, DELETE."""
        if request.path[len(CONTROL_PREFIX) :].strip("/") != "script":
            return super()._control(request)
        if request.method == "GET":
            return json_response(self.scripts())
        if request.method == "DELETE":
            self.clear_scripts()
            return json_response({"ok": True})
        if request.method != "POST":
            return json_response(
                {"ok": False, "error": f"{request.method} not allowed on /_fake/script"}, 405
            )
        spec = request.get_json(silent=True)
        try:
            if not isinstance(spec, dict) or ("reply" in spec) == ("transcript" in spec):
                raise ValueError(
                    'body must be {"reply": text, "match"?, "times"?} or {"transcript": text, "times"?}'
                )
            unknown = set(spec) - {"reply", "transcript", "match", "times"}
            if unknown:
                raise ValueError(f"unknown script fields: {sorted(unknown)}")
            if "reply" in spec:
                self.script_reply(spec["reply"], match=spec.get("match"), times=spec.get("times", 1))
            else:
                if "match" in spec:
                    raise ValueError("'match' applies to chat replies only")
                self.script_transcript(spec["transcript"], times=spec.get("times", 1))
        except ValueError as exc:
            return json_response({"ok": False, "error": str(exc)}, 400)
        return json_response({"ok": True, "scripts": self.scripts()})

    # ---- auth and models ---------------------------------------------------------------------------------
    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        key = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not key:
            raise OpenAIApiError(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header"
                " using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with"
                " blank username) if you're accessing the API from your browser and are prompted for a"
                " username and password. You can obtain an API key from"
                " https://platform.openai.com/account/api-keys.",
            )
        if key not in self.api_keys:
            raise OpenAIApiError(
                401,
                f"Incorrect API key provided: {_mask_key(key)}. You can find your API key at"
                " https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )

    @staticmethod
    def _invalid_url(request: Request) -> OpenAIApiError:
        return OpenAIApiError(404, f"Invalid URL ({request.method} {request.path})")

    def _check_known(self, model: str) -> None:
        if model not in self.chat_models and model not in self.transcription_models:
            raise OpenAIApiError(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )

    def _model_object(self, model: str) -> JSONDict:
        return {"id": model, "object": "model", "created": 1700000000, "owned_by": "system"}

    def _random_id(self, length: int) -> str:
        return "".join(self._rng.choice(string.ascii_letters + string.digits) for _ in range(length))

    # ---- chat completions --------------------------------------------------------------------------------
    def _chat(self, request: Request) -> Response:
        body = request.get_json(silent=True, force=True)
        if not isinstance(body, dict):
            raise OpenAIApiError(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using"
                " your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was"
                " not valid JSON.)",
            )
        unknown = sorted(set(body) - CHAT_PARAMS)
        if unknown:
            raise OpenAIApiError(400, f"Unrecognized request argument supplied: {unknown[0]}")
        model = body.get("model")
        if not model:
            raise OpenAIApiError(400, "you must provide a model parameter")
        if not isinstance(model, str):
            raise _invalid_type("model", "a string", model)
        if model in self.transcription_models:
            raise OpenAIApiError(
                404,
                "This is not a chat model and thus not supported in the v1/chat/completions endpoint. Did you"
                " mean to use v1/completions?",
                param="model",
            )
        self._check_known(model)
        messages = self._messages(body.get("messages"))
        limit = self._options(body, model)
        last_user = next((_text_of(m.get("content")) for m in reversed(messages) if m["role"] == "user"), "")

        script = next((s for s in self._replies if s.matches(last_user)), None)
        if script is not None:
            reply = script.text
            if script.times > 0:
                script.times -= 1
                if script.times == 0:
                    self._replies.remove(script)
        else:
            reply = DEFAULT_REPLY_RU if _CYRILLIC.search(last_user) else DEFAULT_REPLY_EN
        finish_reason = "stop"
        if limit is not None and _tokens(reply) > limit:
            reply, finish_reason = reply[: limit * 4], "length"

        prompt_tokens = 3 + sum(3 + _tokens(_text_of(m.get("content"))) for m in messages)
        n = int(body.get("n") or 1)
        completion_tokens = _tokens(reply) * n
        self._chats.append(
            {"model": model, "last_user_message": last_user, "reply": reply, "scripted": script is not None}
        )
        message: JSONDict = {"role": "assistant", "content": reply, "refusal": None, "annotations": []}
        return json_response(
            {
                "id": "chatcmpl-" + self._random_id(29),
                "object": "chat.completion",
                "created": int(self.clock()),
                "model": model,
                "choices": [
                    {"index": i, "message": dict(message), "logprobs": None, "finish_reason": finish_reason}
                    for i in range(n)
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                    "completion_tokens_details": {
                        "reasoning_tokens": 0,
                        "audio_tokens": 0,
                        "accepted_prediction_tokens": 0,
                        "rejected_prediction_tokens": 0,
                    },
                },
                "service_tier": "default",
                "system_fingerprint": "fp_local_fake",
            }
        )

    def _messages(self, messages: Any) -> list[JSONDict]:
        if messages is None:
            raise _missing("messages")
        if not isinstance(messages, list):
            raise _invalid_type("messages", "an array of objects", messages)
        if not messages:
            raise OpenAIApiError(
                400,
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty"
                " array instead.",
                param="messages",
                code="empty_array",
            )
        for i, message in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(message, dict):
                raise _invalid_type(where, "an object", message)
            role = message.get("role")
            if role is None:
                raise _missing(f"{where}.role")
            if role not in ROLES:
                raise _invalid_value(f"{where}.role", role, ROLES)
            content = message.get("content")
            if content is None:
                if not (role == "assistant" and (message.get("tool_calls") or message.get("function_call"))):
                    raise _missing(f"{where}.content")
            elif isinstance(content, list):
                self._parts(where, role, content)
            elif not isinstance(content, str):
                raise _invalid_type(f"{where}.content", "one of a string or array of objects", content)
            if role == "tool":
                if not message.get("tool_call_id"):
                    raise _missing(f"{where}.tool_call_id")
                previous = messages[i - 1] if i else {}
                if not (
                    isinstance(previous, dict)
                    and (previous.get("tool_calls") or previous.get("role") == "tool")
                ):
                    raise OpenAIApiError(
                        400,
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding"
                        " message with 'tool_calls'.",
                        param=f"{where}.role",
                    )
        return messages

    @staticmethod
    def _parts(where: str, role: str, parts: list[Any]) -> None:
        if not parts:
            raise OpenAIApiError(
                400,
                f"Invalid '{where}.content': empty array. Expected an array with minimum length 1, but got an"
                " empty array instead.",
                param=f"{where}.content",
                code="empty_array",
            )
        allowed = PART_TYPES.get(role, ("text",))
        for j, part in enumerate(parts):
            at = f"{where}.content[{j}]"
            if not isinstance(part, dict):
                raise _invalid_type(at, "an object", part)
            kind = part.get("type")
            if kind is None:
                raise _missing(f"{at}.type")
            if kind not in allowed:
                raise _invalid_value(f"{at}.type", kind, allowed)
            if kind == "text" and not isinstance(part.get("text"), str):
                raise (
                    _missing(f"{at}.text")
                    if "text" not in part
                    else _invalid_type(f"{at}.text", "a string", part["text"])
                )

    @staticmethod
    def _options(body: JSONDict, model: str) -> int | None:
        """Check the optional parameters; the output token limit, if any."""
        if body.get("stream"):
            raise OpenAIApiError(
                400,
                "The local OpenAI fake does not stream: send the request with stream=false.",
                param="stream",
            )
        reasoning = bool(_REASONING.match(model))
        if body.get("temperature") is not None:
            temperature = _number("temperature", body["temperature"], 0, 2)
            if reasoning and temperature != 1:
                raise OpenAIApiError(
                    400,
                    f"Unsupported value: 'temperature' does not support {body['temperature']} with this"
                    " model. Only the default (1) value is supported.",
                    param="temperature",
                    code="unsupported_value",
                )
        if body.get("top_p") is not None:
            _number("top_p", body["top_p"], 0, 1)
        if body.get("n") is not None:
            _number("n", body["n"], 1, 128, integer=True)
        if reasoning and body.get("max_tokens") is not None:
            raise OpenAIApiError(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use"
                " 'max_completion_tokens' instead.",
                param="max_tokens",
                code="unsupported_parameter",
            )
        limit: int | None = None
        for name in ("max_tokens", "max_completion_tokens"):
            if body.get(name) is not None:
                limit = int(_number(name, body[name], 1, None, integer=True))
        if body.get("user") is not None and not isinstance(body["user"], str):
            raise _invalid_type("user", "a string", body["user"])
        return limit

    # ---- transcriptions ----------------------------------------------------------------------------------
    def _transcribe(self, request: Request) -> Response:
        size = request.content_length or 0
        if size > MAX_UPLOAD_BYTES:
            raise OpenAIApiError(
                413,
                f"Maximum content size limit ({MAX_UPLOAD_BYTES}) exceeded ({size} bytes read)",
                type_="server_error",
            )
        if request.mimetype != "multipart/form-data":
            raise OpenAIApiError(
                400,
                f"Invalid Content-Type header ({request.mimetype or 'none'}), expected multipart/form-data.",
            )
        form = request.form
        model = form.get("model")
        if not model:
            raise OpenAIApiError(400, "you must provide a model parameter")
        if model not in self.transcription_models:
            self._check_known(model)
            raise _invalid_value("model", model, self.transcription_models)
        upload = request.files.get("file")
        if upload is None:
            raise _missing("file")
        filename = upload.filename or ""
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if extension not in AUDIO_FORMATS:
            raise OpenAIApiError(400, f"Invalid file format. Supported formats: {list(AUDIO_FORMATS)}")
        data = upload.read()
        if not data:
            raise OpenAIApiError(
                400,
                "Audio file is too short. Minimum audio length is 0.1 seconds.",
                param="file",
                code="audio_too_short",
            )
        language = form.get("language") or None
        if language is not None and not _LANGUAGE.match(language):
            raise OpenAIApiError(
                400,
                f"Invalid language '{language}'. Language parameter must be specified in ISO-639-1 format.",
                param="language",
                code="invalid_language_format",
            )
        response_format = form.get("response_format") or "json"
        if response_format not in RESPONSE_FORMATS:
            raise _invalid_value("response_format", response_format, RESPONSE_FORMATS)
        if response_format == "diarized_json" or (model != "whisper-1" and response_format != "json"):
            raise OpenAIApiError(
                400,
                f"response_format '{response_format}' is not compatible with model '{model}'.",
                param="response_format",
                code="unsupported_value",
            )
        if form.get("temperature"):
            try:
                temperature: Any = float(form["temperature"])
            except ValueError:
                temperature = form["temperature"]
            _number("temperature", temperature, 0, 1)
        if form.get("stream") == "true" and model != "whisper-1":
            raise OpenAIApiError(400, "The local OpenAI fake does not stream transcriptions.", param="stream")

        text, scripted = self._transcript(data, language)
        self._transcriptions.append(
            {
                "model": model,
                "filename": filename,
                "content_type": upload.mimetype,
                "size": len(data),
                "language": language,
                "response_format": response_format,
                "text": text,
                "scripted": scripted,
            }
        )
        duration = round(max(0.5, 0.4 * len(text.split())), 2)
        if response_format == "text":
            return Response(text + "\n", mimetype="text/plain")
        if response_format == "srt":
            return Response(
                f"1\n00:00:00,000 --> {_timestamp(duration, ',')}\n{text}\n\n", mimetype="text/plain"
            )
        if response_format == "vtt":
            return Response(
                f"WEBVTT\n\n00:00:00.000 --> {_timestamp(duration, '.')}\n{text}\n\n", mimetype="text/vtt"
            )
        usage: JSONDict = {"type": "duration", "seconds": math.ceil(duration)}
        if model != "whisper-1":
            audio_tokens = max(1, round(duration * 10))
            usage = {
                "type": "tokens",
                "input_tokens": audio_tokens,
                "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
                "output_tokens": _tokens(text),
                "total_tokens": audio_tokens + _tokens(text),
            }
        if response_format == "json":
            return json_response({"text": text, "usage": usage})
        detected = language or ("ru" if _CYRILLIC.search(text) else "en")
        segment = {
            "id": 0,
            "seek": 0,
            "start": 0.0,
            "end": duration,
            "text": " " + text,
            "tokens": list(range(50364, 50364 + _tokens(text))),
            "temperature": 0.0,
            "avg_logprob": -0.25,
            "compression_ratio": 1.0,
            "no_speech_prob": 0.01,
        }
        verbose: JSONDict = {
            "task": "transcribe",
            "language": LANGUAGE_NAMES.get(detected, detected),
            "duration": duration,
            "text": text,
            "segments": [segment],
            "usage": usage,
        }
        if "word" in form.getlist("timestamp_granularities[]"):
            words = text.split()
            step = duration / max(1, len(words))
            verbose["words"] = [
                {"word": word, "start": round(i * step, 2), "end": round((i + 1) * step, 2)}
                for i, word in enumerate(words)
            ]
        return json_response(verbose)

    def _transcript(self, data: bytes, language: str | None) -> tuple[str, bool]:
        """Scripted text, else the upload itself when it is UTF-8 text, else the fixed phrase."""
        if self._transcripts:
            script = self._transcripts[0]
            if script.times > 0:
                script.times -= 1
                if script.times == 0:
                    self._transcripts.pop(0)
            return script.text, True
        try:
            text = data.decode("utf-8").strip()
        except UnicodeDecodeError:
            text = ""
        if text and all(ch.isprintable() or ch in "\n\r\t" for ch in text):
            return text, False
        return (DEFAULT_TRANSCRIPT_EN if language == "en" else DEFAULT_TRANSCRIPT_RU), False
