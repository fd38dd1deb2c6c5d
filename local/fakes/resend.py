"""Fake of the Resend email API (https://api.resend.com) for the `resend` Python SDK to run against.

Point the SDK at it with `resend.api_url = fake_url` (or `RESEND_API_URL`) and `resend.api_key`.
Mirrors what the bot uses:

    POST /emails        send (Bearer auth, validation, `Idempotency-Key` semantics) -> {"id": "<uuid>"}
    GET  /emails/{id}   retrieve a sent email

Errors are the real API's JSON, `{"statusCode": 422, "message": "...", "name": "validation_error"}`, with the
status codes and names of https://resend.com/docs/api-reference/errors, so `resend.exceptions` maps them to
the same exception classes as in production. Idempotency follows
https://resend.com/docs/dashboard/emails/idempotency-keys: the same key with the same payload within 24 hours
returns the first response and sends nothing; the same key with another payload is 409
`invalid_idempotent_request`; a key outside 1-256 characters is 400 `invalid_idempotency_key`.
Nothing is delivered: sent emails are kept in `sent` (and in `/_fake/state`).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from local.fakes.base import FakeService, JSONDict, json_response

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
MAX_IDEMPOTENCY_KEY = 256
MAX_RECIPIENTS = 50

# Default message and `name` per status, as listed in Resend's error reference.
ERRORS: dict[int, tuple[str, str]] = {
    400: ("validation_error", "We found an error with one or more fields in the request."),
    401: ("missing_api_key", "Missing API key in the authorization header."),
    403: ("invalid_api_key", "API key is invalid."),
    404: ("not_found", "The requested endpoint does not exist."),
    405: ("method_not_allowed", "Method is not allowed for the requested path."),
    409: ("invalid_idempotent_request", "Same idempotency key used with a different request payload."),
    422: ("validation_error", "We found an error with one or more fields in the request."),
    429: (
        "rate_limit_exceeded",
        "Too many requests. You can only make 2 requests per second. See rate limit response headers for more"
        " information. Or contact support to increase rate limit.",
    ),
    500: ("application_error", "An unexpected error occurred, please try again later."),
    503: ("internal_server_error", "The service is temporarily unavailable, please try again later."),
}

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
_NAMED = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>\s]+)>\s*$")
_TAG = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FORMAT_HINT = (
    "The email address needs to follow the `email@example.com` or `Name <email@example.com>` format."
)


class ResendApiError(Exception):
    def __init__(self, status: int, message: str | None = None, name: str | None = None) -> None:
        default_name, default_message = ERRORS.get(status, ("application_error", "Unexpected error."))
        super().__init__(message or default_message)
        self.status = status
        self.message = message or default_message
        self.name = name or default_name


def resend_error(status: int, message: str | None = None, name: str | None = None) -> Response:
    err = ResendApiError(status, message, name)
    return json_response({"statusCode": status, "message": err.message, "name": err.name}, status)


def valid_address(value: str) -> bool:
    """`email@example.com` or `Name <email@example.com>`."""
    named = _NAMED.match(value)
    email = named.group("email") if named else value.strip()
    return bool(_EMAIL.match(email))


@dataclass
class SentEmail:
    """One accepted email, as the fake keeps it."""

    id: str
    from_: str
    to: list[str]
    subject: str
    html: str | None
    text: str | None
    cc: list[str]
    bcc: list[str]
    reply_to: list[str]
    headers: dict[str, str]
    tags: list[dict[str, str]]
    attachments: list[str]
    scheduled_at: str | None
    created_at: str
    idempotency_key: str | None
    api_key: str
    extra: JSONDict = field(default_factory=dict)

    def to_json(self) -> JSONDict:
        data = asdict(self)
        data["from"] = data.pop("from_")
        return data

    def api_object(self) -> JSONDict:
        """The email as GET /emails/{id} returns it."""
        return {
            "object": "email",
            "id": self.id,
            "to": self.to,
            "from": self.from_,
            "created_at": self.created_at,
            "subject": self.subject,
            "html": self.html,
            "text": self.text,
            "bcc": self.bcc or None,
            "cc": self.cc or None,
            "reply_to": self.reply_to or None,
            "last_event": "scheduled" if self.scheduled_at else "delivered",
            "scheduled_at": self.scheduled_at,
            "tags": self.tags or None,
        }


@dataclass
class _Idempotent:
    fingerprint: str
    email_id: str
    stored_at: float


def _as_list(value: Any, field_name: str, required: bool) -> list[str]:
    if value is None or value == "" or value == []:
        if required:
            raise ResendApiError(422, f"Missing `{field_name}` field.", "validation_error")
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ResendApiError(422, f"The `{field_name}` field must be a `string` or an `array` of strings.")
    for item in items:
        if not valid_address(item):
            raise ResendApiError(422, f"Invalid `{field_name}` field. {_FORMAT_HINT}")
    return items


class ResendFake(FakeService):
    """Stateful Resend fake. `api_keys` are the accepted keys (any other key is 403 `invalid_api_key`)."""

    name = "resend"
    recorded_headers = ("Authorization", "Content-Type", "User-Agent", "Idempotency-Key")

    def __init__(self, api_keys: Iterable[str] = ("re_test_key",), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_keys = set(api_keys)
        self._sent: list[SentEmail] = []
        self._idempotency: dict[tuple[str, str], _Idempotent] = {}

    # ---- Python helpers --------------------------------------------------------------------------------
    @property
    def sent(self) -> list[JSONDict]:
        """Every accepted email, oldest first (replays of an idempotent request are not in here)."""
        with self.lock:
            return [email.to_json() for email in self._sent]

    def emails(self, to: str | None = None) -> list[JSONDict]:
        """Accepted emails, optionally only those with `to` (an address) among their recipients."""
        return [
            email
            for email in self.sent
            if to is None or any(to.lower() in recipient.lower() for recipient in email["to"])
        ]

    # ---- FakeService -------------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self._sent = []
        self._idempotency = {}

    def dump_state(self) -> JSONDict:
        return {
            "sent": [email.to_json() for email in self._sent],
            "idempotency_keys": {
                key: {"email_id": entry.email_id, "stored_at": entry.stored_at}
                for (_, key), entry in self._idempotency.items()
            },
        }

    def error_response(
        self, status: int, message: str | None = None, retry_after: int | None = None
    ) -> Response:
        response = resend_error(status, message)
        if status == 429:
            # Resend's rate-limit headers (https://resend.com/docs/api-reference/rate-limit).
            response.headers["retry-after"] = str(retry_after if retry_after is not None else 1)
            response.headers["ratelimit-limit"] = "2"
            response.headers["ratelimit-remaining"] = "0"
            response.headers["ratelimit-reset"] = str(retry_after if retry_after is not None else 1)
        elif retry_after is not None:
            response.headers["retry-after"] = str(retry_after)
        return response

    def handle(self, request: Request) -> Response:
        try:
            path = request.path.rstrip("/")
            if path == "/emails":
                if request.method != "POST":
                    raise ResendApiError(405)
                api_key = self._authenticate(request)
                return self._send(request, api_key)
            match = re.fullmatch(r"/emails/([^/]+)", path)
            if match and match.group(1) != "batch":
                if request.method != "GET":
                    raise ResendApiError(405)
                self._authenticate(request)
                return self._get(match.group(1))
            raise ResendApiError(404)
        except ResendApiError as exc:
            return resend_error(exc.status, exc.message, exc.name)

    # ---- internals -------------------------------------------------------------------------------------
    def _authenticate(self, request: Request) -> str:
        header = request.headers.get("Authorization", "")
        key = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not key:
            raise ResendApiError(401)
        if key not in self.api_keys:
            raise ResendApiError(403)
        return key

    def _send(self, request: Request, api_key: str) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
            raise ResendApiError(400, "The key must be between 1-256 chars.", "invalid_idempotency_key")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ResendApiError(422, "Invalid JSON body.", "validation_error")
        now = self.clock()
        fingerprint = ""
        if key is not None:
            fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
            seen = self._idempotency.get((api_key, key))
            if seen is not None and now - seen.stored_at < IDEMPOTENCY_TTL_SECONDS:
                if seen.fingerprint != fingerprint:
                    raise ResendApiError(409)
                # The first answer again, and no second email.
                return json_response({"id": seen.email_id})
        email = self._validate(body, api_key, key, now)
        self._sent.append(email)
        if key is not None:
            # Only accepted requests are remembered: a failed validation can be retried with the same key.
            self._idempotency[(api_key, key)] = _Idempotent(fingerprint, email.id, now)
        return json_response({"id": email.id})

    def _validate(self, body: JSONDict, api_key: str, key: str | None, now: float) -> SentEmail:
        sender = body.get("from")
        if not sender:
            raise ResendApiError(422, "Missing `from` field.")
        if not isinstance(sender, str) or not valid_address(sender):
            raise ResendApiError(422, f"Invalid `from` field. {_FORMAT_HINT}")
        to = _as_list(body.get("to"), "to", required=True)
        if len(to) > MAX_RECIPIENTS:
            raise ResendApiError(422, f"Too many recipients in `to`: the maximum is {MAX_RECIPIENTS}.")
        subject = body.get("subject")
        if not subject:
            raise ResendApiError(422, "Missing `subject` field.")
        if not isinstance(subject, str):
            raise ResendApiError(422, "The `subject` field must be a `string`.")
        html, text, react = body.get("html"), body.get("text"), body.get("react")
        if not html and not text and not react:
            raise ResendApiError(422, "Missing `html` or `text` field.")
        for name, value in (("html", html), ("text", text)):
            if value is not None and not isinstance(value, str):
                raise ResendApiError(422, f"The `{name}` field must be a `string`.")
        headers = body.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ResendApiError(422, "The `headers` field must be an object of strings.")
        tags = body.get("tags") or []
        if not isinstance(tags, list):
            raise ResendApiError(422, "The `tags` field must be an `array`.")
        for tag in tags:
            if not isinstance(tag, dict) or not isinstance(tag.get("name"), str):
                raise ResendApiError(422, "Missing `name` field in `tags`.")
            for part in ("name", "value"):
                if part in tag and not _TAG.match(str(tag[part])):
                    raise ResendApiError(
                        422,
                        f"Invalid `tags` field. The tag {part} can only contain ASCII letters (a–z, A–Z),"
                        " numbers (0–9), underscores (_), or dashes (-). It can contain no more than 256"
                        " characters.",
                    )
        attachments = body.get("attachments") or []
        for attachment in attachments:
            if not isinstance(attachment, dict) or not (attachment.get("content") or attachment.get("path")):
                raise ResendApiError(
                    422, "Attachment must have either a `content` or `path`.", "invalid_attachment"
                )
        known = {"from", "to", "subject", "html", "text", "react", "cc", "bcc", "reply_to", "headers", "tags"}
        known |= {"attachments", "scheduled_at"}
        return SentEmail(
            id=str(uuid.uuid4()),
            from_=sender,
            to=to,
            subject=subject,
            html=html,
            text=text,
            cc=_as_list(body.get("cc"), "cc", required=False),
            bcc=_as_list(body.get("bcc"), "bcc", required=False),
            reply_to=_as_list(body.get("reply_to"), "reply_to", required=False),
            headers=dict(headers),
            tags=[{"name": str(tag["name"]), "value": str(tag.get("value", ""))} for tag in tags],
            attachments=[str(a.get("filename") or a.get("path") or "attachment") for a in attachments],
            scheduled_at=body.get("scheduled_at"),
            created_at=datetime.fromtimestamp(now, UTC).isoformat(sep=" "),
            idempotency_key=key,
            api_key=api_key,
            extra={k: v for k, v in body.items() if k not in known},
        )

    def _get(self, email_id: str) -> Response:
        try:
            uuid.UUID(email_id)
        except ValueError:
            raise ResendApiError(422, "The `id` must be a valid UUID.", "validation_error") from None
        for email in self._sent:
            if email.id == email_id:
                return json_response(email.api_object())
        raise ResendApiError(404, "Email not found", "not_found")
