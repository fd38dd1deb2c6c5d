"""Trial-lesson slots on Google Calendar (google-api-python-client).

A free slot is an event whose title starts with a marker (default `FREE`) that a manager puts in the
calendar. Booking patches that event's title and description with `If-Match: <etag>`, so a slot that a
manager edited or another booking took since it was read fails with 412 instead of being overwritten.

Each public operation is retried as a whole on 429/5xx/timeouts, like the Sheets adapter; a booking whose
answer was lost is recognised on the retry (the event then carries exactly what this call wrote).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from googleapiclient.errors import HttpError

from shared.adapters.google_api import RETRYABLE_STATUSES, call_with_retries
from shared.domain.booking import Slot
from shared.ports import CalendarUnavailable, Lesson, SlotTaken

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.events"
log = logging.getLogger(__name__)
T = TypeVar("T")
# Calendar answers 403 (not 429) when a quota per user or per minute is exceeded: worth a retry.
_RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
_KNOWN_FREE_LIMIT = 4096
# The booking writes "Lead ID: <id>" in the event's description (shared/flows/booking.py).
_LEAD_ID = re.compile(r"Lead ID: ([0-9a-f]{20})\b")


class CalendarError(CalendarUnavailable):
    """Calendar refused the request (4xx other than rate limits): a retry will not fix it.

    A subclass of CalendarUnavailable, so callers that handle an unreachable calendar handle this too.
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _PreconditionFailed(Exception):
    """412 inside an operation: the operation decides what it means."""


class GoogleCalendar:
    def __init__(
        self,
        service_factory: Callable[[], Any],
        calendar_id: str,
        *,
        marker: str = "FREE",
        retries: int = 3,
        backoff_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int = 250,
    ) -> None:
        if not marker.strip():
            raise ValueError("the free-slot marker must not be blank")
        self._service_factory = service_factory
        self._events_resource: Any = None  # events() resource, built once per instance
        self._calendar = calendar_id
        self._marker = marker.strip()
        self._retries = retries
        self._backoff = backoff_seconds
        self._sleep = sleep
        self._page_size = page_size
        # httplib2 connections are not thread-safe and functions-framework serves requests on threads.
        self._lock = threading.RLock()
        # (event_id, etag) pairs that free_slots saw free: an etag names one version of an event, so while
        # it still matches, the event is still free and book() can patch without reading it first.
        self._known_free: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.calls = 0  # API requests made: the benchmark reports calls per booking

    # ---- port ----------------------------------------------------------------------------------
    def free_slots(self, start: datetime, end: datetime) -> list[Slot]:
        """Marker events starting in [start, end), sorted by start; cancelled and all-day ones skipped."""
        start_utc, end_utc = _utc(start, "start"), _utc(end, "end")
        if start_utc >= end_utc:
            return []

        def read() -> list[Slot]:
            slots: list[Slot] = []
            for event, slot in self._timed_events(start_utc, end_utc, query=self._marker):
                if self._is_free(event):
                    slots.append(slot)
            slots.sort(key=lambda s: (s.start, s.event_id))
            return slots

        slots = self._retrying(read, "free_slots")
        with self._lock:
            for slot in slots:
                self._remember_free(slot)
        return slots

    def lessons(self, start: datetime, end: datetime) -> list[Lesson]:
        start_utc, end_utc = _utc(start, "start"), _utc(end, "end")
        if start_utc >= end_utc:
            return []

        def read() -> list[Lesson]:
            found: list[Lesson] = []
            for event, slot in self._timed_events(start_utc, end_utc):
                if event.get("status") == "cancelled" or self._is_free(event):
                    continue
                lead = _LEAD_ID.search(str(event.get("description") or ""))
                found.append(
                    Lesson(slot.start, str(event.get("summary") or ""), lead.group(1) if lead else None)
                )
            return sorted(found, key=lambda lesson: lesson.start)

        return self._retrying(read, "lessons")

    def _timed_events(
        self, start_utc: datetime, end_utc: datetime, query: str | None = None
    ) -> Iterator[tuple[dict[str, Any], Slot]]:
        """Every page of the events starting in [start, end) that have times (all-day ones skipped)."""
        page_token: str | None = None
        while True:
            params: dict[str, Any] = {
                "calendarId": self._calendar,
                # timeMin bounds an event's end, timeMax its start: the start bound is checked below.
                "timeMin": _rfc3339(start_utc),
                "timeMax": _rfc3339(end_utc),
                "singleEvents": True,
                "orderBy": "startTime",
                "maxResults": self._page_size,
            }
            if query:
                params["q"] = query
            if page_token:
                params["pageToken"] = page_token
            response = self._execute(self._events().list(**params))
            for event in response.get("items", []):
                slot = self._slot(event)
                if slot is not None and start_utc <= slot.start < end_utc:
                    yield event, slot
            page_token = response.get("nextPageToken")
            if not page_token:
                return

    def book(self, slot: Slot, summary: str, description: str) -> Slot:
        """Patch the slot's event if it is still as read; SlotTaken if it changed or is no longer free."""
        if summary.strip().startswith(self._marker):
            raise ValueError("a booking's title must not start with the free-slot marker")
        sent = False  # a patch may have reached Calendar: a retry checks whether it landed

        def take() -> Slot:
            nonlocal sent
            if sent or (slot.event_id, slot.etag) not in self._known_free:
                current = self._get(slot.event_id)
                if current is None or current.get("status") == "cancelled":
                    raise SlotTaken(f"event {slot.event_id} is gone")
                if sent and _is_booking(current, summary, description):
                    booked = self._slot(current)  # our earlier patch landed, its answer was lost
                    if booked is not None:
                        return booked
                if current.get("etag") != slot.etag:
                    raise SlotTaken(f"event {slot.event_id} changed since it was read")
                if not self._is_free(current):
                    raise SlotTaken(f"event {slot.event_id} is not free")
            sent = True
            try:
                updated = self._patch(
                    slot.event_id, {"summary": summary, "description": description}, slot.etag
                )
            except _PreconditionFailed:
                raise SlotTaken(f"event {slot.event_id} changed since it was read") from None
            if updated is None:
                raise SlotTaken(f"event {slot.event_id} is gone")
            self._known_free.pop((slot.event_id, slot.etag), None)
            booked = self._slot(updated)
            if booked is None:  # someone made it an all-day event: keep the times that were booked
                return Slot(slot.event_id, slot.start, slot.end, str(updated.get("etag", "")))
            return booked

        try:
            return self._retrying(take, "book")
        except SlotTaken:
            with self._lock:
                self._known_free.pop((slot.event_id, slot.etag), None)
            raise

    def release(self, event_id: str) -> None:
        """Restore the marker title and clear the description; an event deleted meanwhile is left alone.

        Reads the current etag and patches with If-Match, once more if the event changed in between;
        CalendarUnavailable if it keeps changing.
        """

        def free() -> None:
            for _ in range(2):
                current = self._get(event_id)
                if current is None or current.get("status") == "cancelled":
                    log.info("calendar release: event is gone", extra={"event_id": event_id})
                    return
                if self._is_free(current) and not current.get("description"):
                    return  # free already (or an earlier attempt's answer was lost)
                try:
                    self._patch(event_id, {"summary": self._marker, "description": ""}, current["etag"])
                    return
                except _PreconditionFailed:
                    log.warning("calendar release: event changed meanwhile", extra={"event_id": event_id})
            raise CalendarUnavailable(f"calendar release: event {event_id} kept changing")

        self._retrying(free, "release")

    # ---- internals -----------------------------------------------------------------------------
    def _events(self) -> Any:
        if self._events_resource is None:
            self._events_resource = self._service_factory().events()
        return self._events_resource

    def _execute(self, request: Any) -> Any:
        self.calls += 1
        return request.execute(num_retries=0)

    def _get(self, event_id: str) -> dict[str, Any] | None:
        """The event, or None when it does not exist (any more)."""
        try:
            event: dict[str, Any] = self._execute(
                self._events().get(calendarId=self._calendar, eventId=event_id)
            )
        except HttpError as exc:
            if exc.resp.status in (404, 410):
                return None
            raise
        return event

    def _patch(self, event_id: str, body: dict[str, Any], etag: str) -> dict[str, Any] | None:
        """The patched event; None when it does not exist; _PreconditionFailed on a stale etag."""
        request = self._events().patch(calendarId=self._calendar, eventId=event_id, body=body)
        request.headers["If-Match"] = etag
        try:
            event: dict[str, Any] = self._execute(request)
        except HttpError as exc:
            if exc.resp.status == 412:
                raise _PreconditionFailed from None
            if exc.resp.status in (404, 410):
                return None
            raise
        return event

    def _is_free(self, event: dict[str, Any]) -> bool:
        if event.get("status") == "cancelled":
            return False
        return str(event.get("summary") or "").strip().startswith(self._marker)

    @staticmethod
    def _slot(event: dict[str, Any]) -> Slot | None:
        """The event as a Slot; None for all-day events and events without times or etag."""
        start = (event.get("start") or {}).get("dateTime")
        end = (event.get("end") or {}).get("dateTime")
        if not start or not end or not event.get("id") or not event.get("etag"):
            return None
        try:
            return Slot(str(event["id"]), _parse(start), _parse(end), str(event["etag"]))
        except ValueError:
            log.warning("calendar event with unreadable times", extra={"event_id": event.get("id")})
            return None

    def _remember_free(self, slot: Slot) -> None:
        self._known_free[(slot.event_id, slot.etag)] = None
        self._known_free.move_to_end((slot.event_id, slot.etag))
        while len(self._known_free) > _KNOWN_FREE_LIMIT:
            self._known_free.popitem(last=False)

    def _retrying(self, operation: Callable[[], T], name: str) -> T:
        return call_with_retries(
            operation,
            label=f"calendar {name}",
            retries=self._retries,
            backoff_seconds=self._backoff,
            sleep=self._sleep,
            lock=self._lock,
            retryable=lambda exc: exc.resp.status in RETRYABLE_STATUSES or _is_rate_limit(exc),
            refused=lambda exc: CalendarError(
                f"calendar {name}: HTTP {exc.resp.status}: {exc.reason}", exc.resp.status
            ),
            unavailable=CalendarUnavailable,
        )


def _is_booking(event: dict[str, Any], summary: str, description: str) -> bool:
    return (event.get("summary") or "") == summary and (event.get("description") or "") == description


def _is_rate_limit(exc: HttpError) -> bool:
    if exc.resp.status != 403 or not isinstance(exc.error_details, list):
        return False
    return any(isinstance(d, dict) and d.get("reason") in _RATE_LIMIT_REASONS for d in exc.error_details)


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{moment.microsecond:06d}Z" if moment.microsecond else "Z"
    )


def _parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(value)
    return moment.astimezone(UTC)
