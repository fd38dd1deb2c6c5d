"""Fake of Zoom's Server-to-Server OAuth token endpoint and the Meetings API the bot uses.

Mirrors two hosts, served by one fake (so one port can carry both; the paths are configurable):

    POST   https://zoom.us/oauth/token?grant_type=account_credentials&account_id=...   (oauth_path)
    POST   https://api.zoom.us/v2/users/{userId}/meetings                            create a meeting
    GET    https://api.zoom.us/v2/users/{userId}/meetings                            list scheduled meetings
    GET    https://api.zoom.us/v2/meetings/{meetingId}                               get a meeting
    PATCH  https://api.zoom.us/v2/meetings/{meetingId}                               update a meeting (204)
    DELETE https://api.zoom.us/v2/meetings/{meetingId}                               delete a meeting (204)

The token endpoint takes `grant_type` and `account_id` from the query string or a urlencoded body and the
app's credentials as HTTP Basic auth (`client_id:client_secret`), and answers `{"access_token",
"token_type": "bearer", "expires_in": 3599, "scope"}`; there is no refresh token. Its errors are `{"reason",
"error"}`: missing grant type 400 `invalid_request`, another grant type 400 `unsupported_grant_type`,
missing or wrong credentials 401 `invalid_client` ("Invalid client_id or client_secret"), unknown account
400 `invalid_request` (that reason text is the fake's, not verified).

The API wants `Authorization: Bearer <token>` with a live token issued by this fake, else 401 `{"code": 124,
"message": "Invalid access token."}` (or "Access token is expired." once past `expires_in` by the fake's
clock: `advance_clock()`, `POST /_fake/clock {"advance": seconds}`, or an injected `clock`). With
`single_token=True` a new token revokes the earlier ones, as Zoom did for S2S apps. API errors are `{"code",
"message"}`: bad fields 400 `{"code": 300, "message": "Validation Failed.", "errors": [{"field",
"message"}]}`, unknown meeting 404 `{"code": 3001, "message": "Meeting does not exist: <id>."}`, unknown
user 404 code 1001.

Create validates like the docs describe: `topic` at most 200 characters (default "Zoom Meeting"), `type` one
of 1, 2, 3, 8, 10 (default 2), `start_time` as `yyyy-MM-ddTHH:mm:ssZ` (GMT) or local `yyyy-MM-ddTHH:mm:ss`
read in `timezone` (default: the account's; an explicit `+HH:MM` offset is accepted too), `duration` a
positive number of minutes, `password` at most 10 of `[a-zA-Z0-9@-_*]`. Stricter than Zoom on one point: a
scheduled meeting (type 2/8) without `start_time` is a validation error (Zoom would silently start it
"now"); pass `require_start_time=False` for Zoom's behaviour. The answer is a realistic meeting (11-digit
int `id`, `uuid`, `join_url` `https://zoom.us/j/<id>?pwd=...`, `start_url`, `password`, `start_time` in GMT,
`duration`, `timezone`, `topic`, `settings`...).

Python helpers: `meetings()`, `meeting(id)`, `deleted_meetings()`, `tokens_issued()`, `tokens()`,
`advance_clock()`, `expire_tokens()`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import random
import re
import string
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from werkzeug.wrappers import Request, Response

from local.fakes.base import CONTROL_PREFIX, FakeService, JSONDict, json_response

TOKEN_LIFETIME = 3599
ZAK_PREFIX = "eyJ0eXAiOiJKV1QiLCJ2ZXIiOjEwfQ"  # start_url carries the host's ZAK, a JWT
MAX_TOPIC_LENGTH = 200
MAX_AGENDA_LENGTH = 2000
MEETING_TYPES = (1, 2, 3, 8, 10)
SCHEDULED_TYPES = (2, 8)
DEFAULT_SCOPE = (
    "meeting:read:meeting:admin meeting:write:meeting:admin meeting:update:meeting:admin"
    " meeting:delete:meeting:admin meeting:read:list_meetings:admin user:read:user:admin"
)
_START_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$")
_PASSWORD = re.compile(r"^[A-Za-z0-9@_*-]{1,10}$")

DEFAULT_MESSAGES = {
    400: "Bad Request",
    401: "Invalid access token.",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "You have reached the maximum per-second rate limit for this API. Try again later.",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class ZoomApiError(Exception):
    def __init__(self, status: int, code: int, message: str, errors: list[JSONDict] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors


class OAuthError(Exception):
    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason


def zoom_error(status: int, code: int, message: str, errors: list[JSONDict] | None = None) -> Response:
    body: JSONDict = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return json_response(body, status)


def _gmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Token:
    access_token: str
    issued_at: float
    expires_at: float
    revoked: bool = False


class ZoomFake(FakeService):
    """Stateful Zoom S2S OAuth + Meetings fake for one account, one app and one host user."""

    name = "zoom"

    def __init__(
        self,
        account_id: str,
        client_id: str,
        client_secret: str,
        *,
        oauth_path: str = "/oauth/token",
        api_prefix: str = "/v2",
        user_id: str = "KDcuGIm1QgePTO8WbOqwIQ",
        user_email: str = "host@allinacademy.example",
        account_timezone: str = "UTC",
        web_url: str = "https://zoom.us",
        scope: str = DEFAULT_SCOPE,
        token_lifetime: int = TOKEN_LIFETIME,
        single_token: bool = False,
        require_start_time: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.account_id = account_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.oauth_path = "/" + oauth_path.strip("/")
        self.api_prefix = "/" + api_prefix.strip("/")
        self.user_id = user_id
        self.user_email = user_email
        ZoneInfo(account_timezone)
        self.account_timezone = account_timezone
        self.web_url = web_url.rstrip("/")
        self.scope = scope
        self.token_lifetime = token_lifetime
        self.single_token = single_token
        self.require_start_time = require_start_time
        self._tokens: dict[str, Token] = {}
        self._meetings: dict[int, JSONDict] = {}
        self._deleted: dict[int, JSONDict] = {}
        self._offset = 0.0
        self._rng = random.Random(0)
        self.reset_state()

    # ---- Python helpers --------------------------------------------------------------------------------
    def now(self) -> float:
        """The fake's clock: the injected `clock` plus whatever `advance_clock` added."""
        return self.clock() + self._offset

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self._offset += seconds

    def expire_tokens(self) -> None:
        """Make every issued token expired now (the next API call gets 401 code 124)."""
        with self.lock:
            now = self.now()
            for token in self._tokens.values():
                token.expires_at = min(token.expires_at, now)

    def meetings(self) -> list[JSONDict]:
        """Live meetings, oldest first."""
        with self.lock:
            return [copy.deepcopy(m) for m in self._meetings.values()]

    def meeting(self, meeting_id: int) -> JSONDict:
        with self.lock:
            if meeting_id not in self._meetings:
                raise KeyError(f"unknown meeting {meeting_id!r}")
            return copy.deepcopy(self._meetings[meeting_id])

    def deleted_meetings(self) -> list[JSONDict]:
        with self.lock:
            return [copy.deepcopy(m) for m in self._deleted.values()]

    def tokens_issued(self) -> int:
        """How many access tokens the token endpoint handed out (a client should cache and reuse them)."""
        with self.lock:
            return len(self._tokens)

    def tokens(self) -> list[JSONDict]:
        with self.lock:
            now = self.now()
            return [{**asdict(t), "live": self._live(t, now)} for t in self._tokens.values()]

    # ---- FakeService -------------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self._tokens = {}
        self._meetings = {}
        self._deleted = {}
        self._offset = 0.0
        self._rng = random.Random(0)

    def dump_state(self) -> JSONDict:
        return {
            "now": self.now(),
            "tokens": self.tokens(),
            "meetings": self.meetings(),
            "deleted_meetings": self.deleted_meetings(),
        }

    def error_response(
        self, status: int, message: str | None = None, retry_after: int | None = None
    ) -> Response:
        code = 124 if status == 401 else status
        response = zoom_error(status, code, message or DEFAULT_MESSAGES.get(status, "Error"))
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path == self.oauth_path:
            try:
                return self._token(request)
            except OAuthError as exc:
                return json_response({"reason": exc.reason, "error": exc.error}, exc.status)
        if path == self.api_prefix or path.startswith(self.api_prefix + "/"):
            try:
                self._authenticate(request)
                return self._api(request, path[len(self.api_prefix) :])
            except ZoomApiError as exc:
                return zoom_error(exc.status, exc.code, exc.message, exc.errors)
        return zoom_error(404, 404, "Not Found")

    # ---- OAuth -----------------------------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            raise OAuthError(405, "invalid_request", "Method Not Allowed")
        params = {**request.args.to_dict(), **request.form.to_dict()}
        grant_type = params.get("grant_type", "")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "Missing grant type")
        if grant_type != "account_credentials":
            raise OAuthError(400, "unsupported_grant_type", "unsupported grant type")
        client_id, client_secret = self._basic_auth(request)
        if client_id is None:
            raise OAuthError(401, "invalid_client", "Client ID or client secret is missing")
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            raise OAuthError(401, "invalid_client", "Invalid client_id or client_secret")
        if params.get("account_id") != self.account_id:
            raise OAuthError(400, "invalid_request", "Invalid account_id")
        now = self.now()
        if self.single_token:
            for token in self._tokens.values():
                token.revoked = True
        value = "eyJzdiI6IjAwMDAwMSIsImFsZyI6IkhTNTEyIiwidiI6IjIuMCIsImtpZCI6ImZha2UifQ." + "".join(
            self._rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(120)
        )
        self._tokens[value] = Token(value, now, now + self.token_lifetime)
        body = {
            "access_token": value,
            "token_type": "bearer",
            "expires_in": self.token_lifetime,
            "scope": self.scope,
        }
        return json_response(body, headers=[("Cache-Control", "no-store"), ("Pragma", "no-cache")])

    @staticmethod
    def _basic_auth(request: Request) -> tuple[str | None, str | None]:
        header = request.headers.get("Authorization", "")
        if header[:6].lower() != "basic ":
            return None, None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, sep, client_secret = decoded.partition(":")
        if not sep:
            return None, None
        return client_id, client_secret

    def _live(self, token: Token, now: float) -> bool:
        return not token.revoked and now < token.expires_at

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        value = header[7:].strip() if header[:7].lower() == "bearer " else ""
        token = self._tokens.get(value)
        if token is None or token.revoked:
            raise ZoomApiError(401, 124, "Invalid access token.")
        if self.now() >= token.expires_at:
            raise ZoomApiError(401, 124, "Access token is expired.")

    # ---- API -------------------------------------------------------------------------------------------
    def _api(self, request: Request, path: str) -> Response:
        parts = [part for part in path.split("/") if part]
        method = request.method
        if len(parts) == 3 and parts[0] == "users" and parts[2] == "meetings":
            self._check_user(parts[1])
            if method == "POST":
                return json_response(self._create(self._body(request)), 201)
            if method == "GET":
                return json_response(self._list())
        elif len(parts) == 2 and parts[0] == "meetings":
            meeting = self._find(parts[1])
            if method == "GET":
                return json_response(copy.deepcopy(meeting))
            if method == "PATCH":
                self._update(meeting, self._body(request))
                return Response(status=204)
            if method == "DELETE":
                del self._meetings[meeting["id"]]
                self._deleted[meeting["id"]] = meeting
                return Response(status=204)
        else:
            raise ZoomApiError(404, 404, "Not Found")
        raise ZoomApiError(405, 405, f"Method {method} is not allowed for {request.path}.")

    def _check_user(self, user: str) -> None:
        if user.lower() not in ("me", self.user_id.lower(), self.user_email.lower()):
            raise ZoomApiError(404, 1001, f"User does not exist: {user}.")

    @staticmethod
    def _body(request: Request) -> JSONDict:
        body = request.get_json(silent=True, force=True)
        if not isinstance(body, dict):
            raise ZoomApiError(400, 300, "Request Body should be a valid JSON object.")
        return body

    def _find(self, raw_id: str) -> JSONDict:
        meeting = self._meetings.get(int(raw_id)) if raw_id.isdigit() else None
        if meeting is None:
            raise ZoomApiError(404, 3001, f"Meeting does not exist: {raw_id}.")
        return meeting

    def _list(self) -> JSONDict:
        keys = ("uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone")
        items = [
            {k: m[k] for k in (*keys, "created_at", "join_url") if k in m} for m in self._meetings.values()
        ]
        return {
            "page_size": 30,
            "total_records": len(items),
            "next_page_token": "",
            "meetings": items,
        }

    def _validate(self, body: Mapping[str, Any], *, creating: bool, meeting_type: int) -> JSONDict:
        """Checked and normalised fields of a create/update body; 400 code 300 naming the bad fields."""
        errors: list[JSONDict] = []
        out: JSONDict = {}

        def invalid(field: str, message: str = "Invalid field.") -> None:
            errors.append({"field": field, "message": message})

        if "topic" in body:
            topic = body["topic"]
            if not isinstance(topic, str) or len(topic) > MAX_TOPIC_LENGTH:
                invalid("topic", f"Topic must be a string of at most {MAX_TOPIC_LENGTH} characters.")
            else:
                out["topic"] = topic
        if "type" in body:
            if body["type"] not in MEETING_TYPES or isinstance(body["type"], bool):
                invalid("type")
            else:
                out["type"] = meeting_type = body["type"]
        zone_name = body.get("timezone")
        if zone_name is not None:
            try:
                ZoneInfo(str(zone_name))
                out["timezone"] = str(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                invalid("timezone")
                zone_name = None
        if "start_time" in body and body["start_time"] not in (None, ""):
            parsed = self._start_time(body["start_time"], zone_name)
            if parsed is None:
                invalid("start_time")
            else:
                out["start_time"] = _gmt(parsed)
        elif creating and meeting_type in SCHEDULED_TYPES and self.require_start_time:
            invalid("start_time", "start_time is required for a scheduled meeting.")
        if "duration" in body:
            duration = body["duration"]
            if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
                invalid("duration")
            else:
                out["duration"] = duration
        if "password" in body:
            password = body["password"]
            if not isinstance(password, str) or not _PASSWORD.match(password):
                invalid("password")
            else:
                out["password"] = password
        if "agenda" in body:
            agenda = body["agenda"]
            if not isinstance(agenda, str) or len(agenda) > MAX_AGENDA_LENGTH:
                invalid("agenda")
            else:
                out["agenda"] = agenda
        if "settings" in body:
            if not isinstance(body["settings"], dict):
                invalid("settings")
            else:
                out["settings"] = copy.deepcopy(body["settings"])
        if errors:
            raise ZoomApiError(400, 300, "Validation Failed.", errors)
        return out

    def _start_time(self, value: Any, zone_name: str | None) -> datetime | None:
        if not isinstance(value, str) or not _START_TIME.match(value.strip()):
            return None
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            # Local time: read in the meeting's time zone, or the account's when none is given.
            moment = moment.replace(tzinfo=ZoneInfo(zone_name or self.account_timezone))
        return moment

    def _digits(self, count: int) -> str:
        return "".join(self._rng.choice(string.digits) for _ in range(count))

    def _token_chars(self, count: int) -> str:
        return "".join(self._rng.choice(string.ascii_letters + string.digits) for _ in range(count))

    def _create(self, body: JSONDict) -> JSONDict:
        meeting_type = body.get("type", 2) if body.get("type") in MEETING_TYPES else 2
        fields = self._validate(body, creating=True, meeting_type=meeting_type)
        while True:
            meeting_id = int(self._rng.choice("123456789") + self._digits(10))
            if meeting_id not in self._meetings and meeting_id not in self._deleted:
                break
        now = datetime.fromtimestamp(self.now(), UTC)
        password = fields.get("password") or self._token_chars(6)
        meeting: JSONDict = {
            "uuid": base64.b64encode(self._rng.randbytes(16)).decode(),
            "id": meeting_id,
            "host_id": self.user_id,
            "host_email": self.user_email,
            "topic": fields.get("topic", "Zoom Meeting"),
            "type": fields.get("type", meeting_type),
            "status": "waiting",
            "start_time": fields.get("start_time", _gmt(now)),
            "duration": fields.get("duration", 60),
            "timezone": fields.get("timezone", self.account_timezone),
            "created_at": _gmt(now),
            "start_url": f"{self.web_url}/s/{meeting_id}?zak={ZAK_PREFIX}.{self._token_chars(86)}",
            "join_url": "",
            "password": password,
            "h323_password": self._digits(6),
            "pstn_password": self._digits(6),
            "encrypted_password": "",
            "settings": {
                "host_video": False,
                "participant_video": False,
                "join_before_host": False,
                "mute_upon_entry": False,
                "waiting_room": True,
                "approval_type": 2,
                "audio": "voip",
                "auto_recording": "none",
                "meeting_authentication": False,
                **fields.get("settings", {}),
            },
            "pre_schedule": False,
        }
        if "agenda" in fields:
            meeting["agenda"] = fields["agenda"]
        self._set_password(meeting, password)
        self._meetings[meeting_id] = meeting
        return copy.deepcopy(meeting)

    def _set_password(self, meeting: JSONDict, password: str) -> None:
        meeting["password"] = password
        meeting["encrypted_password"] = self._token_chars(32)
        meeting["join_url"] = f"{self.web_url}/j/{meeting['id']}?pwd={meeting['encrypted_password']}"

    def _update(self, meeting: JSONDict, body: JSONDict) -> None:
        fields = self._validate(body, creating=False, meeting_type=meeting["type"])
        if "settings" in fields:
            meeting["settings"].update(fields.pop("settings"))
        if "password" in fields:
            self._set_password(meeting, fields.pop("password"))
        if "start_time" in body and "timezone" not in body and "start_time" in fields:
            # A local start_time in an update is read in the meeting's own time zone.
            parsed = self._start_time(body["start_time"], meeting["timezone"])
            if parsed is not None:
                fields["start_time"] = _gmt(parsed)
        meeting.update(fields)

    # ---- control -----------------------------------------------------------------------------------------
    def _control(self, request: Request) -> Response:
        """`GET /_fake/clock` -> {"now"}; `POST /_fake/clock {"advance": seconds}` moves the clock on."""
        if request.path[len(CONTROL_PREFIX) :].strip("/") == "clock":
            if request.method == "POST":
                spec = request.get_json(silent=True)
                seconds = spec.get("advance") if isinstance(spec, dict) else None
                if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                    return json_response({"ok": False, "error": 'body must be {"advance": seconds}'}, 400)
                self.advance_clock(seconds)
            with self.lock:
                return json_response({"ok": True, "now": self.now()})
        return super()._control(request)
