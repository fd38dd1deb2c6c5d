"""/v1/chat/completions: the request checks the real API makes, and the answer."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from local.fakes.base import JSONDict, json_response
from local.fakes.openai.api import (
    _CYRILLIC,
    _REASONING,
    CHAT_PARAMS,
    DEFAULT_REPLY_EN,
    DEFAULT_REPLY_RU,
    PART_TYPES,
    ROLES,
    OpenAIApiError,
    _invalid_type,
    _invalid_value,
    _missing,
    _number,
    _text_of,
    _tokens,
)


class ChatCompletions:
    """/v1/chat/completions (mixed into OpenAIFake)."""

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
