"""Fake of the Google Calendar API v3 events surface the bot uses, for googleapiclient to run against.

Mirrors https://www.googleapis.com/calendar/v3/... as googleapiclient builds it from its static discovery
document (`calendar.v3.json`) when `client_options={"api_endpoint": "http://127.0.0.1:PORT/calendar/v3/"}`:

    GET    /calendar/v3/calendars/{calendarId}                    calendars.get
    GET    /calendar/v3/calendars/{calendarId}/events             events.list
    POST   /calendar/v3/calendars/{calendarId}/events             events.insert
    GET    /calendar/v3/calendars/{calendarId}/events/{eventId}   events.get
    PATCH  /calendar/v3/calendars/{calendarId}/events/{eventId}   events.patch
    PUT    /calendar/v3/calendars/{calendarId}/events/{eventId}   events.update
    DELETE /calendar/v3/calendars/{calendarId}/events/{eventId}   events.delete

What it reproduces: Bearer auth (401 `required` / `authError`), unknown calendar or event (404 `notFound`),
events.list filters as documented (`timeMin` is an exclusive bound on an event's *end*, `timeMax` an
exclusive bound on its *start*; both RFC3339 with an offset; an empty range is 400 `timeRangeEmpty`),
`orderBy=startTime` only together with `singleEvents=true` (400 otherwise, like the real API),
`orderBy=updated`, `q`, `showDeleted`, `updatedMin`, `maxResults` (default 250, capped at 2500) with opaque
`pageToken`/`nextPageToken` paging, and `timeZone` (the zone `dateTime` values are rendered in; default: the
calendar's). Every change bumps the event's `etag` (a quoted 16-digit number, like `"3412345678901234"`) and
`updated`; `If-Match` with a stale etag on patch/update/delete is 412 `conditionNotMet`, `If-None-Match`
with the current one on get is 304. Deleting cancels the event (get still returns it with `status:
"cancelled"`, list hides it unless `showDeleted=true`, a second delete is 410 `deleted`). Errors use
Google's JSON: `{"error": {"code", "message", "errors": [...]}}`.

What it does not do: recurring events are stored as sent but never expanded (so `singleEvents` only gates
`orderBy`); `q` is a case-insensitive word-prefix match over summary, description, location and attendees,
an approximation of Google's full-text search; no sync tokens, reminders, notifications or free/busy.

Python helpers for tests and `make dev`: `add_event`, `edit_event` (a person editing in the UI: bumps the
etag), `events`, `event`, `seed_free_slots`.

    api.py   the API's limits and errors, RFC 3339 times, calendars and event matching
    fake.py  `CalendarFake`: the endpoint, calendars and events (list, get, insert, patch, delete)
"""

from local.fakes.calendar.api import DEFAULT_TIME_ZONE, CalendarApiError
from local.fakes.calendar.fake import CalendarFake

__all__ = ["DEFAULT_TIME_ZONE", "CalendarApiError", "CalendarFake"]
