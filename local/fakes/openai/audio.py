"""/v1/audio/transcriptions: multipart upload checks, formats and the transcript."""

from __future__ import annotations

import math
from typing import Any

from werkzeug.wrappers import Request, Response

from local.fakes.base import JSONDict, json_response
from local.fakes.openai.api import (
    _CYRILLIC,
    _LANGUAGE,
    AUDIO_FORMATS,
    DEFAULT_TRANSCRIPT_EN,
    DEFAULT_TRANSCRIPT_RU,
    LANGUAGE_NAMES,
    MAX_UPLOAD_BYTES,
    RESPONSE_FORMATS,
    OpenAIApiError,
    _invalid_value,
    _missing,
    _number,
    _timestamp,
    _tokens,
)


class Transcriptions:
    """/v1/audio/transcriptions (mixed into OpenAIFake)."""

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
