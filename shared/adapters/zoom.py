"""Zoom meetings for trial lessons: Server-to-Server OAuth and the Meetings API over httpx.

The access token (valid about an hour, no refresh token) is cached per instance until a minute before it
expires; an API answer of 401 (code 124: invalid or expired token) drops it and retries once with a new one.
429/5xx/network errors are retried with exponential backoff, then MeetingsUnavailable.

Zoom has no idempotency key: a create whose answer was lost and is retried can leave one unused meeting
in the host's account. That costs nothing but a line in the host's list, so it is not reconciled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.ports import Meeting, MeetingsUnavailable

log = logging.getLogger(__name__)
_RETRYABLE = {429, 500, 502, 503, 504}
_TOKEN_MARGIN_SECONDS = 60.0
_MAX_RETRY_AFTER_SECONDS = 10.0
MAX_TOPIC_LENGTH = 200


class ZoomRefused(MeetingsUnavailable):
    """Zoom refused the request (bad credentials, validation...): a retry will not fix it.

    A subclass of MeetingsUnavailable, so callers that carry on without a meeting handle this too.
    """

    def __init__(self, message: str, status: int, code: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


_LOOK_EVERY_SECONDS = 0.5


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, *, unanswered: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.unanswered = unanswered  # sent, but no answer came in time: Zoom may be doing it still


class _TokenRejected(Exception):
    """The API answered 401: the cached token is invalid or expired."""


class ZoomMeetings:
    def __init__(
        self,
        *,
        account_id: str,
        client_id: str,
        client_secret: str,
        api_url: str,
        oauth_url: str,
        timezone: str,
        retries: int = 2,
        backoff_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._account_id = account_id
        self._client_id = client_id
        self._client_secret = client_secret
        self._api_url = api_url.rstrip("/")
        self._oauth_url = oauth_url
        self._timezone = timezone
        self._retries = retries
        self._backoff = backoff_seconds
        self._sleep = sleep
        self._http = http
        self._owns_http = http is None
        self._timeout = timeout_seconds
        self._clock = clock
        self._lock = threading.Lock()  # guards the token cache and the lazy client
        self._token: str | None = None
        self._token_valid_until = 0.0
        self.calls = 0  # HTTP requests made, token requests included

    # ---- port ----------------------------------------------------------------------------------
    def create(self, topic: str, start: datetime, minutes: int) -> Meeting:
        """A scheduled meeting (type 2) starting at `start` (aware) for `minutes` minutes."""
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be timezone-aware")
        if minutes <= 0:
            raise ValueError("minutes must be positive")
        body = {
            "topic": topic[:MAX_TOPIC_LENGTH],
            "type": 2,
            "start_time": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration": minutes,
            "timezone": self._timezone,
            "settings": {"join_before_host": False, "waiting_room": True},
        }
        # A create that timed out or failed with a 5xx may have been made all the same: before trying
        # again, look for it, so a parent's lesson never has two meetings.
        title, start_time = str(body["topic"]), str(body["start_time"])
        response = self._attempts(
            "create", "POST", "/users/me/meetings", lambda: self._find(title, start_time), json=body
        )
        if isinstance(response, Meeting):
            log.info("zoom create: the meeting an earlier try made is used")
            return response
        if response.status_code not in (200, 201):
            raise _refused("create", response)
        try:
            data = response.json()
            return Meeting(meeting_id=str(data["id"]), join_url=str(data["join_url"]))
        except (ValueError, KeyError, TypeError):
            raise ZoomRefused("zoom create: answer without id/join_url", response.status_code) from None

    def _find(self, topic: str, start_time: str) -> Meeting | None:
        """The host's upcoming meeting with this topic and start, if there is one (best effort)."""
        try:
            response = self._authorized(
                "GET", "/users/me/meetings", params={"type": "upcoming", "page_size": 300}
            )
            meetings = response.json().get("meetings", []) if response.status_code == 200 else []
        except (_Retryable, ZoomRefused, ValueError, AttributeError):
            return None
        for meeting in meetings:
            if (
                meeting.get("topic") == topic
                and meeting.get("start_time") == start_time
                and meeting.get("join_url")
            ):
                return Meeting(meeting_id=str(meeting["id"]), join_url=str(meeting["join_url"]))
        return None

    def delete(self, meeting_id: str) -> None:
        """Delete the meeting; one that does not exist (any more) is fine."""
        response = self._retrying("delete", "DELETE", f"/meetings/{meeting_id}")
        if response.status_code == 404:
            log.info("zoom delete: meeting does not exist", extra={"meeting_id": meeting_id})
            return
        if response.status_code not in (200, 204):
            raise _refused("delete", response)

    def close(self) -> None:
        """Close the HTTP client if this instance created it."""
        if self._owns_http and self._http is not None:
            self._http.close()
            self._http = None

    # ---- internals -----------------------------------------------------------------------------
    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(timeout=self._timeout)
            return self._http

    def _retrying(self, name: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The API's answer (any non-retryable status); MeetingsUnavailable after the retries."""
        answer = self._attempts(name, method, path, None, **kwargs)
        assert isinstance(answer, httpx.Response)
        return answer

    def _attempts(
        self,
        name: str,
        method: str,
        path: str,
        made_anyway: Callable[[], Meeting | None] | None,
        **kwargs: Any,
    ) -> httpx.Response | Meeting:
        """The API's answer (any non-retryable status); MeetingsUnavailable after the retries. Before a
        retry, `made_anyway` may find what the failed try made after all."""
        unanswered = False
        for attempt in range(self._retries + 1):
            if attempt and made_anyway is not None and (made := self._made(made_anyway, unanswered)):
                return made
            try:
                return self._authorized(method, path, **kwargs)
            except _Retryable as exc:
                reason, retry_after, unanswered = exc.reason, exc.retry_after, exc.unanswered
            if attempt < self._retries:
                delay = self._backoff * 2**attempt
                if retry_after is not None:
                    delay = max(delay, min(retry_after, _MAX_RETRY_AFTER_SECONDS))
                log.warning(
                    "zoom call failed, retrying",
                    extra={"operation": name, "reason": reason, "attempt": attempt + 1, "delay_s": delay},
                )
                self._sleep(delay)
        raise MeetingsUnavailable(f"zoom {name} failed {self._retries + 1} times: {reason}")

    def _made(self, made_anyway: Callable[[], Meeting | None], unanswered: bool) -> Meeting | None:
        """What a failed try made after all. A try left unanswered may still be under way at Zoom: it is
        given as long again as it was waited for, looking every half second."""
        looks = 1 + round(self._timeout / _LOOK_EVERY_SECONDS) if unanswered else 1
        for look in range(looks):
            if look:
                self._sleep(_LOOK_EVERY_SECONDS)
            if (made := made_anyway()) is not None:
                return made
        return None

    def _authorized(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API request with a valid token; a rejected token is replaced once."""
        for fresh in (False, True):
            token = self._access_token(force_new=fresh)
            try:
                return self._request(
                    method, self._api_url + path, headers={"Authorization": f"Bearer {token}"}, **kwargs
                )
            except _TokenRejected:
                log.info("zoom token rejected, fetching a new one", extra={"fresh": fresh})
                self._drop_token(token)
        raise ZoomRefused("zoom: a freshly issued access token was rejected", 401, 124)

    def _access_token(self, *, force_new: bool) -> str:
        with self._lock:
            if not force_new and self._token and self._clock() < self._token_valid_until:
                return self._token
        response = self._request(
            "POST",
            self._oauth_url,
            params={"grant_type": "account_credentials", "account_id": self._account_id},
            auth=(self._client_id, self._client_secret),
            token_request=True,
        )
        if response.status_code != 200:
            raise _refused("token", response)
        data: Any
        try:
            data = response.json()
        except ValueError:
            data = None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise ZoomRefused("zoom token: answer without access_token", response.status_code)
        lifetime = float(data.get("expires_in") or 0)
        # Renew a minute early; a very short lifetime is used for half its length.
        usable = lifetime - _TOKEN_MARGIN_SECONDS if lifetime > 2 * _TOKEN_MARGIN_SECONDS else lifetime / 2
        with self._lock:
            self._token = str(token)
            self._token_valid_until = self._clock() + usable
        return str(token)

    def _drop_token(self, token: str) -> None:
        with self._lock:
            if self._token == token:
                self._token = None

    def _request(
        self, method: str, url: str, *, token_request: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """Send; _Retryable on 429/5xx/network errors, _TokenRejected on an API 401, else the response."""
        client = self._client()
        with self._lock:
            self.calls += 1
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:  # timeouts, refused or dropped connections
            sent = isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout | httpx.RemoteProtocolError)
            raise _Retryable(type(exc).__name__, unanswered=sent) from exc
        if response.status_code in _RETRYABLE:
            raise _Retryable(f"HTTP {response.status_code}", _retry_after(response))
        if response.status_code == 401 and not token_request:
            raise _TokenRejected
        return response


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _refused(name: str, response: httpx.Response) -> ZoomRefused:
    try:
        data = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    code = data.get("code", data.get("error"))
    message = data.get("message") or data.get("reason") or response.reason_phrase
    return ZoomRefused(
        f"zoom {name}: HTTP {response.status_code} ({code}): {message}", response.status_code, code
    )
