"""The OpenAI API's models, limits and error bodies, the parameter checks, and scripted answers."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from local.fakes.base import json_response

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
