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

    api.py    the API's models, limits, errors and parameter checks; scripted answers
    fake.py   `OpenAIFake`: the endpoint, authentication, models and the control endpoints
    chat.py   /v1/chat/completions
    audio.py  /v1/audio/transcriptions
"""

from local.fakes.openai.api import (
    DEFAULT_CHAT_MODELS,
    DEFAULT_REPLY_EN,
    DEFAULT_REPLY_RU,
    DEFAULT_TRANSCRIPT_EN,
    DEFAULT_TRANSCRIPT_RU,
    TRANSCRIPTION_MODELS,
    OpenAIApiError,
)
from local.fakes.openai.fake import OpenAIFake

__all__ = [
    "DEFAULT_CHAT_MODELS",
    "TRANSCRIPTION_MODELS",
    "DEFAULT_REPLY_EN",
    "DEFAULT_REPLY_RU",
    "DEFAULT_TRANSCRIPT_EN",
    "DEFAULT_TRANSCRIPT_RU",
    "OpenAIApiError",
    "OpenAIFake",
]
