"""`OpenAIFake`: the endpoint, authentication, models and the /_fake/ control endpoints."""

from __future__ import annotations

import random
import string
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from werkzeug.wrappers import Request, Response

from local.fakes.base import CONTROL_PREFIX, FakeService, JSONDict, json_response
from local.fakes.openai.api import (
    DEFAULT_CHAT_MODELS,
    FAULT_CODES,
    FAULT_MESSAGES,
    TRANSCRIPTION_MODELS,
    OpenAIApiError,
    Script,
    _mask_key,
)
from local.fakes.openai.audio import Transcriptions
from local.fakes.openai.chat import ChatCompletions


class OpenAIFake(ChatCompletions, Transcriptions, FakeService):
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
