"""`CalendarFake`: the endpoint, calendars and events (list, get, insert, patch, delete), seeding."""

from __future__ import annotations

import base64
import copy
import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request, Response

from local.fakes.base import FakeService, JSONDict, json_response
from local.fakes.calendar.api import (
    _ID_CHARS,
    _READ_ONLY,
    _STATUSES,
    _VALID_ID,
    DEFAULT_MAX_RESULTS,
    DEFAULT_TIME_ZONE,
    MAX_RESULTS_LIMIT,
    Calendar,
    CalendarApiError,
    _bad,
    _event_time,
    _flag,
    _matches_query,
    _merge,
    _zone,
    calendar_error,
    format_datetime,
    parse_rfc3339,
    rfc3339_utc,
)
from local.fakes.sheets import MISSING_CREDENTIALS

# ---- the fake --------------------------------------------------------------------------------------------
_CID = r"(?P<cid>[^/]+)"
_EID = r"(?P<eid>[^/]+)"
_PREFIX = "/calendar/v3"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(rf"^{_PREFIX}/calendars/{_CID}$"), "_get_calendar"),
    ("GET", re.compile(rf"^{_PREFIX}/calendars/{_CID}/events$"), "_list"),
    ("POST", re.compile(rf"^{_PREFIX}/calendars/{_CID}/events$"), "_insert"),
    ("GET", re.compile(rf"^{_PREFIX}/calendars/{_CID}/events/{_EID}$"), "_get"),
    ("PATCH", re.compile(rf"^{_PREFIX}/calendars/{_CID}/events/{_EID}$"), "_patch"),
    ("PUT", re.compile(rf"^{_PREFIX}/calendars/{_CID}/events/{_EID}$"), "_update"),
    ("DELETE", re.compile(rf"^{_PREFIX}/calendars/{_CID}/events/{_EID}$"), "_delete"),
]


class CalendarFake(FakeService):
    """Stateful Google Calendar v3 (events) fake.

    `calendars`: the known calendar ids, each in `time_zone`, or a mapping of id to its IANA time zone.
    `tokens`, when given, are the only accepted Bearer tokens; otherwise any non-empty token is accepted.
    `owner` is the account that creates events through the API (the service account in production).
    """

    name = "calendar"
    recorded_headers = (
        "Authorization",
        "Content-Type",
        "User-Agent",
        "If-Match",
        "If-None-Match",
        "X-Goog-Api-Client",
    )

    def __init__(
        self,
        calendars: Iterable[str] | Mapping[str, str] = ("primary",),
        *,
        time_zone: str = DEFAULT_TIME_ZONE,
        tokens: Iterable[str] | None = None,
        owner: str = "allin-bot@allin-academy.iam.gserviceaccount.com",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(calendars, Mapping):
            self._config = {cid: str(tz) for cid, tz in calendars.items()}
        else:
            self._config = dict.fromkeys(calendars, time_zone)
        for tz in self._config.values():
            ZoneInfo(tz)  # fail at construction on a typo, not on the first request
        self.tokens = set(tokens) if tokens is not None else None
        self.owner = owner
        self._calendars: dict[str, Calendar] = {}
        self._rng = random.Random(0)
        self._last_etag = 0
        self.reset_state()

    # ---- Python helpers --------------------------------------------------------------------------------
    def add_calendar(self, calendar_id: str, time_zone: str = DEFAULT_TIME_ZONE) -> None:
        with self.lock:
            self._calendars[calendar_id] = Calendar(calendar_id, time_zone, self.clock())

    def add_event(
        self,
        calendar_id: str,
        summary: str,
        start: datetime,
        end: datetime,
        description: str = "",
        **fields: Any,
    ) -> JSONDict:
        """Create an event as a person would in the UI; naive datetimes are in the calendar's zone."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            body: JSONDict = {
                "summary": summary,
                "start": self._time_object(calendar, start),
                "end": self._time_object(calendar, end),
                **fields,
            }
            if description:
                body["description"] = description
            return self._render(calendar, self._create(calendar, body), calendar.zone)

    def edit_event(self, calendar_id: str, event_id: str, **changes: Any) -> JSONDict:
        """Change an event behind the bot's back (patch semantics): bumps its etag like a UI edit."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            event = self._event(calendar, event_id)
            for key in ("start", "end"):
                if isinstance(changes.get(key), datetime):
                    changes[key] = self._time_object(calendar, changes[key])
            updated = copy.deepcopy(event)
            _merge(updated, {k: v for k, v in changes.items() if k not in _READ_ONLY})
            self._store(calendar, event, updated)
            return self._render(calendar, calendar.events[event_id], calendar.zone)

    def events(self, calendar_id: str, *, include_cancelled: bool = False) -> list[JSONDict]:
        """Events of a calendar by start time (cancelled ones only on request)."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            items = [
                event
                for event in calendar.events.values()
                if include_cancelled or event.get("status") != "cancelled"
            ]
            items.sort(key=lambda event: calendar.span(event)[0])
            return [self._render(calendar, event, calendar.zone) for event in items]

    def event(self, calendar_id: str, event_id: str) -> JSONDict:
        with self.lock:
            calendar = self._calendar(calendar_id)
            if event_id not in calendar.events:
                raise KeyError(f"unknown event {event_id!r} in {calendar_id!r}")
            return self._render(calendar, calendar.events[event_id], calendar.zone)

    def seed_free_slots(
        self,
        calendar_id: str,
        start_day: date,
        days: int,
        times: Sequence[time],
        tz: str,
        marker: str = "FREE",
        minutes: int = 60,
    ) -> list[JSONDict]:
        """One `marker` event per day and time, `minutes` long, for `days` days from `start_day` (in `tz`)."""
        zone = ZoneInfo(tz)
        created = []
        with self.lock:
            calendar = self._calendar(calendar_id)
            for offset in range(days):
                day = start_day + timedelta(days=offset)
                for slot in times:
                    start = datetime.combine(day, slot.replace(tzinfo=None), zone)
                    end = start + timedelta(minutes=minutes)
                    body = {
                        "summary": marker,
                        "start": {"dateTime": format_datetime(start), "timeZone": tz},
                        "end": {"dateTime": format_datetime(end), "timeZone": tz},
                    }
                    created.append(self._render(calendar, self._create(calendar, body), calendar.zone))
        return created

    # ---- FakeService -------------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self._rng = random.Random(0)
        now = self.clock()
        self._calendars = {cid: Calendar(cid, tz, now) for cid, tz in self._config.items()}

    def dump_state(self) -> JSONDict:
        return {
            "calendars": {
                cid: {
                    "timeZone": calendar.time_zone,
                    "events": [self._render(calendar, e, calendar.zone) for e in calendar.events.values()],
                }
                for cid, calendar in self._calendars.items()
            }
        }

    def error_response(
        self, status: int, message: str | None = None, retry_after: int | None = None
    ) -> Response:
        domain = "usageLimits" if status in (403, 429) and not message else "global"
        if status == 403 and not message:
            exc = CalendarApiError(403, "Rate Limit Exceeded", "rateLimitExceeded", domain=domain)
        else:
            exc = CalendarApiError(status, message, domain=domain)
        response = calendar_error(exc)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    def handle(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            for method, pattern, handler_name in _ROUTES:
                match = pattern.match(request.path)
                if match and request.method == method:
                    calendar = self._calendars.get(match.group("cid"))
                    if calendar is None:
                        raise CalendarApiError(404)
                    params = {k: v for k, v in match.groupdict().items() if k != "cid"}
                    return getattr(self, handler_name)(request, calendar, **params)
            raise CalendarApiError(404, f"The requested URL {request.path} was not found on this server.")
        except CalendarApiError as exc:
            return calendar_error(exc)

    # ---- handlers --------------------------------------------------------------------------------------
    def _get_calendar(self, request: Request, calendar: Calendar) -> Response:
        return json_response(calendar.resource())

    def _list(self, request: Request, calendar: Calendar) -> Response:
        args = request.args
        single = _flag(args.get("singleEvents"))
        order_by = args.get("orderBy") or None
        if order_by not in (None, "startTime", "updated"):
            raise _bad(f"Invalid value for: {order_by} is not a valid value", "orderBy", reason="invalid")
        if order_by == "startTime" and not single:
            raise _bad("The requested ordering is not available for the particular query.", "orderBy")
        time_min = parse_rfc3339(args["timeMin"], "timeMin") if args.get("timeMin") else None
        time_max = parse_rfc3339(args["timeMax"], "timeMax") if args.get("timeMax") else None
        if time_min and time_max and time_min >= time_max:
            raise _bad("The specified time range is empty.", "timeMax", reason="timeRangeEmpty")
        updated_min = parse_rfc3339(args["updatedMin"], "updatedMin") if args.get("updatedMin") else None
        zone_name = args.get("timeZone") or calendar.time_zone
        zone = _zone(zone_name, "timeZone")
        max_results = self._max_results(args.get("maxResults"))
        offset = self._page_offset(args.get("pageToken"))
        show_deleted = _flag(args.get("showDeleted"))
        query = args.get("q") or ""

        selected: list[tuple[datetime, JSONDict]] = []
        for event in calendar.events.values():
            if event.get("status") == "cancelled" and not show_deleted:
                continue
            start, end = calendar.span(event)
            # timeMin bounds the event's end, timeMax its start; both exclusive.
            if time_min is not None and end <= time_min:
                continue
            if time_max is not None and start >= time_max:
                continue
            if updated_min is not None and event["_updated"] < updated_min.timestamp():
                continue
            if query and not _matches_query(event, query):
                continue
            selected.append((start, event))
        if order_by == "startTime":
            selected.sort(key=lambda pair: pair[0])
        elif order_by == "updated":
            selected.sort(key=lambda pair: pair[1]["_updated"])
        page = selected[offset : offset + max_results]
        latest = max((e["_updated"] for e in calendar.events.values()), default=calendar.created)
        body: JSONDict = {
            "kind": "calendar#events",
            "etag": f'"p3{int(latest * 1000):x}"',
            "summary": calendar.calendar_id,
            "description": "",
            "updated": rfc3339_utc(latest),
            "timeZone": zone_name,
            "accessRole": "owner",
            "defaultReminders": [],
        }
        if offset + max_results < len(selected):
            body["nextPageToken"] = self._page_token(offset + max_results)
        body["items"] = [self._render(calendar, event, zone) for _, event in page]
        return json_response(body)

    def _get(self, request: Request, calendar: Calendar, eid: str) -> Response:
        event = self._event(calendar, eid)
        if request.headers.get("If-None-Match") == event["etag"]:
            return Response(status=304)
        zone = _zone(request.args["timeZone"], "timeZone") if request.args.get("timeZone") else calendar.zone
        return json_response(self._render(calendar, event, zone))

    def _insert(self, request: Request, calendar: Calendar) -> Response:
        body = self._json_body(request)
        event = self._create(calendar, body)
        return json_response(self._render(calendar, event, calendar.zone))

    def _patch(self, request: Request, calendar: Calendar, eid: str) -> Response:
        event = self._event(calendar, eid)
        self._check_if_match(request, event)
        body = self._json_body(request)
        updated = copy.deepcopy(event)
        _merge(updated, {k: v for k, v in body.items() if k not in _READ_ONLY})
        self._store(calendar, event, updated)
        return json_response(self._render(calendar, calendar.events[eid], calendar.zone))

    def _update(self, request: Request, calendar: Calendar, eid: str) -> Response:
        event = self._event(calendar, eid)
        self._check_if_match(request, event)
        body = self._json_body(request)
        # A full replacement: what the body leaves out is gone, only the server-owned fields survive.
        updated = {k: v for k, v in event.items() if k in _READ_ONLY or k.startswith("_")}
        updated.update({k: copy.deepcopy(v) for k, v in body.items() if k not in _READ_ONLY})
        updated.setdefault("status", "confirmed")
        self._store(calendar, event, updated)
        return json_response(self._render(calendar, calendar.events[eid], calendar.zone))

    def _delete(self, request: Request, calendar: Calendar, eid: str) -> Response:
        event = self._event(calendar, eid)
        if event.get("status") == "cancelled":
            raise CalendarApiError(410)
        self._check_if_match(request, event)
        self._store(calendar, event, {**event, "status": "cancelled"})
        return Response(status=204)

    # ---- internals -------------------------------------------------------------------------------------
    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        token = token or request.args.get("access_token", "")
        if not token:
            raise CalendarApiError(
                401, MISSING_CREDENTIALS, "required", location="Authorization", location_type="header"
            )
        if self.tokens is not None and token not in self.tokens:
            raise CalendarApiError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie"
                " or other valid authentication credential.",
                "authError",
                location="Authorization",
                location_type="header",
            )

    def _calendar(self, calendar_id: str) -> Calendar:
        try:
            return self._calendars[calendar_id]
        except KeyError:
            raise KeyError(f"unknown calendar {calendar_id!r}") from None

    @staticmethod
    def _event(calendar: Calendar, event_id: str) -> JSONDict:
        event = calendar.events.get(event_id)
        if event is None:
            raise CalendarApiError(404)
        return event

    @staticmethod
    def _check_if_match(request: Request, event: JSONDict) -> None:
        wanted = request.headers.get("If-Match")
        if wanted is None or wanted.strip() == "*":
            return
        if wanted.strip() != event["etag"]:
            raise CalendarApiError(412, location="If-Match", location_type="header")

    @staticmethod
    def _json_body(request: Request) -> JSONDict:
        raw = request.get_data(cache=True)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            raise _bad("Parse Error", reason="parseError") from None
        if not isinstance(body, dict):
            raise _bad("Parse Error", reason="parseError")
        return body

    @staticmethod
    def _max_results(value: str | None) -> int:
        if value is None or value == "":
            return DEFAULT_MAX_RESULTS
        try:
            number = int(value)
        except ValueError:
            raise _bad(
                f"Invalid value '{value}'. Values must be within the range: [1, 2500]", "maxResults"
            ) from None
        if number < 1:
            raise _bad(f"Invalid value '{value}'. Values must be within the range: [1, 2500]", "maxResults")
        return min(number, MAX_RESULTS_LIMIT)

    @staticmethod
    def _page_token(offset: int) -> str:
        raw = json.dumps({"o": offset}).encode()
        return "Cg" + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _page_offset(token: str | None) -> int:
        if not token:
            return 0
        try:
            if not token.startswith("Cg"):
                raise ValueError(token)
            payload = token[2:]
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            offset = int(data["o"])
            if offset < 0:
                raise ValueError(token)
            return offset
        except (ValueError, KeyError, TypeError):
            raise _bad("Invalid Value", "pageToken", reason="invalid") from None

    def _new_etag(self) -> str:
        # Strictly increasing and time-based like the real ones: unique even for edits in one millisecond.
        self._last_etag = max(self._last_etag + 1, int(self.clock() * 1000) * 1000)
        return f'"{self._last_etag}"'

    def _new_id(self) -> str:
        return "".join(self._rng.choice(_ID_CHARS) for _ in range(26))

    def _time_object(self, calendar: Calendar, moment: datetime) -> JSONDict:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=calendar.zone)
        zone = moment.tzinfo
        name = zone.key if isinstance(zone, ZoneInfo) else calendar.time_zone
        return {"dateTime": format_datetime(moment), "timeZone": name}

    def _validate(self, calendar: Calendar, event: JSONDict) -> None:
        start, end = calendar.span(event)
        if bool(event["start"].get("dateTime")) != bool(event["end"].get("dateTime")):
            raise _bad("Start and end times must either both be date or both be dateTime.")
        if end < start:
            raise _bad("The specified time range is empty.", reason="timeRangeEmpty")
        if event.get("status", "confirmed") not in _STATUSES:
            raise _bad(f"Invalid value for: {event.get('status')} is not a valid value", reason="invalid")

    def _create(self, calendar: Calendar, body: Mapping[str, Any]) -> JSONDict:
        event_id = body.get("id") or self._new_id()
        if not isinstance(event_id, str) or not _VALID_ID.match(event_id):
            raise _bad("Invalid resource id value.", reason="invalid")
        if event_id in calendar.events:
            raise CalendarApiError(409)
        now = self.clock()
        event: JSONDict = {
            "kind": "calendar#event",
            "etag": self._new_etag(),
            "id": event_id,
            "status": "confirmed",
            "htmlLink": "https://www.google.com/calendar/event?eid="
            + base64.urlsafe_b64encode(f"{event_id} {calendar.calendar_id}".encode()).decode().rstrip("="),
            "created": rfc3339_utc(now),
            "updated": rfc3339_utc(now),
            "creator": {"email": self.owner},
            "organizer": {"email": calendar.calendar_id, "displayName": calendar.calendar_id, "self": True},
            "iCalUID": f"{event_id}@google.com",
            "sequence": 0,
            "reminders": {"useDefault": True},
            "eventType": "default",
            "_updated": now,
        }
        event.update({k: copy.deepcopy(v) for k, v in body.items() if k not in _READ_ONLY})
        self._validate(calendar, event)
        calendar.events[event_id] = event
        return event

    def _store(self, calendar: Calendar, old: JSONDict, new: JSONDict) -> None:
        """Validate and save a changed event: new etag, `updated` and (on a time change) `sequence`."""
        self._validate(calendar, new)
        if calendar.span(new) != calendar.span(old):
            new["sequence"] = int(old.get("sequence", 0)) + 1
        now = self.clock()
        new["etag"] = self._new_etag()
        new["updated"] = rfc3339_utc(now)
        new["_updated"] = now
        calendar.events[old["id"]] = new

    @staticmethod
    def _render(calendar: Calendar, event: JSONDict, zone: ZoneInfo) -> JSONDict:
        """The event as the API returns it: `dateTime`s in the response time zone, no internal fields."""
        out = {k: copy.deepcopy(v) for k, v in event.items() if not k.startswith("_")}
        for key in ("start", "end"):
            value = out.get(key)
            if isinstance(value, dict) and value.get("dateTime"):
                moment = _event_time(value, key, calendar.zone)
                value["dateTime"] = format_datetime(moment.astimezone(zone))
        return out
