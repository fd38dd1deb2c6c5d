"""The Calendar API's limits and error bodies, RFC 3339 times, calendars and event matching."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from werkzeug.wrappers import Response

from local.fakes.base import JSONDict, json_response
from local.fakes.sheets import STATUS_NAMES

DEFAULT_TIME_ZONE = "Europe/Riga"
DEFAULT_MAX_RESULTS = 250
MAX_RESULTS_LIMIT = 2500
_ID_CHARS = "0123456789abcdefghijklmnopqrstuv"  # base32hex, the alphabet Google allows in event ids
_VALID_ID = re.compile(r"^[0-9a-v]{5,1024}$")
_WORD = re.compile(r"\w+", re.UNICODE)
_OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)
_STATUSES = ("confirmed", "tentative", "cancelled")
#: Fields a client cannot set: the server owns them.
_READ_ONLY = ("kind", "etag", "id", "htmlLink", "created", "updated", "creator", "iCalUID")

# Error "reason" and default message per status, as the Calendar API sends them.
_DEFAULTS = {
    400: ("badRequest", "Bad Request"),
    401: ("authError", "Invalid Credentials"),
    403: ("forbidden", "Forbidden"),
    404: ("notFound", "Not Found"),
    409: ("duplicate", "The requested identifier already exists."),
    410: ("deleted", "Resource has been deleted"),
    412: ("conditionNotMet", "Precondition Failed"),
    429: ("rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("backendError", "Backend Error"),
    503: ("backendError", "Backend Error"),
}


class CalendarApiError(Exception):
    """An error the fake answers in Google's format."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        reason: str | None = None,
        *,
        location: str | None = None,
        location_type: str | None = None,
        domain: str = "global",
    ) -> None:
        default_reason, default_message = _DEFAULTS.get(code, ("backendError", "Unknown error."))
        self.code = code
        self.message = message or default_message
        self.reason = reason or default_reason
        self.location = location
        self.location_type = location_type
        self.domain = domain
        super().__init__(self.message)


def calendar_error(exc: CalendarApiError) -> Response:
    item: JSONDict = {"domain": exc.domain, "reason": exc.reason, "message": exc.message}
    if exc.location_type:
        item["locationType"] = exc.location_type
    if exc.location:
        item["location"] = exc.location
    error: JSONDict = {"errors": [item], "code": exc.code, "message": exc.message}
    if exc.code in (401, 403, 429):
        # The newer error envelope: Calendar adds the google.rpc status for auth and quota errors.
        error["status"] = STATUS_NAMES.get(exc.code, "UNKNOWN")
    response = json_response({"error": error}, exc.code)
    response.headers["Content-Type"] = "application/json; charset=UTF-8"
    return response


def _bad(
    message: str = "Bad Request", location: str | None = None, reason: str = "badRequest"
) -> CalendarApiError:
    kind = "parameter" if location else None
    return CalendarApiError(400, message, reason, location=location, location_type=kind)


# ---- time ------------------------------------------------------------------------------------------------
def _zone(name: str, what: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad(f"Invalid time zone definition for {what}.", reason="timeZoneInvalid") from None


def parse_rfc3339(value: str, name: str) -> datetime:
    """An RFC3339 timestamp with a mandatory offset, as timeMin/timeMax/updatedMin must be."""
    text = value.strip()
    if not _OFFSET.search(text):
        raise _bad("Bad Request", name, reason="invalid")
    try:
        parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise _bad("Bad Request", name, reason="invalid") from None
    return parsed


def rfc3339_utc(timestamp: float) -> str:
    """`created`/`updated` as Google writes them: UTC with milliseconds."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_datetime(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def _event_time(value: Any, which: str, calendar_zone: ZoneInfo) -> datetime:
    """The instant of an event's start/end object (`dateTime` [+ `timeZone`] or an all-day `date`)."""
    if not isinstance(value, dict) or not (value.get("dateTime") or value.get("date")):
        raise _bad(f"Missing {which} time.", reason="required")
    zone_name = value.get("timeZone")
    zone = _zone(zone_name, f"{which} time") if zone_name else None
    if value.get("dateTime"):
        text = str(value["dateTime"]).strip()
        try:
            moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        except ValueError:
            raise _bad(f"Invalid {which} time.", reason="invalid") from None
        if moment.tzinfo is None:
            if zone is None:
                raise _bad(f"Missing time zone definition for {which} time.", reason="required")
            moment = moment.replace(tzinfo=zone)
        return moment
    try:
        day = date.fromisoformat(str(value["date"]))
    except ValueError:
        raise _bad(f"Invalid {which} time.", reason="invalid") from None
    return datetime.combine(day, time(0), zone or calendar_zone)


# ---- model -----------------------------------------------------------------------------------------------
class Calendar:
    def __init__(self, calendar_id: str, time_zone: str, created: float) -> None:
        self.calendar_id = calendar_id
        self.time_zone = time_zone
        self.zone = ZoneInfo(time_zone)
        self.created = created
        self.events: dict[str, JSONDict] = {}  # insertion order = the "unspecified, stable order" of list

    def resource(self) -> JSONDict:
        return {
            "kind": "calendar#calendar",
            "etag": f'"{int(self.created * 1000)}"',
            "id": self.calendar_id,
            "summary": self.calendar_id,
            "timeZone": self.time_zone,
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }

    def span(self, event: JSONDict) -> tuple[datetime, datetime]:
        return _event_time(event.get("start"), "start", self.zone), _event_time(
            event.get("end"), "end", self.zone
        )


def _search_text(event: JSONDict) -> list[str]:
    parts = [str(event.get(field) or "") for field in ("summary", "description", "location")]
    for person in [*(event.get("attendees") or []), event.get("organizer") or {}]:
        if isinstance(person, dict):
            parts += [str(person.get("displayName") or ""), str(person.get("email") or "")]
    return _WORD.findall(" ".join(parts).casefold())


def _matches_query(event: JSONDict, query: str) -> bool:
    words = _search_text(event)
    terms = _WORD.findall(query.casefold())
    return all(any(word.startswith(term) for word in words) for term in terms)


def _merge(target: JSONDict, patch: Mapping[str, Any]) -> None:
    """Patch semantics: nested objects merge, arrays and scalars replace, null clears."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"
