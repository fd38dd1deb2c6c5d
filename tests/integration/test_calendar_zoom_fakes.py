"""The Google Calendar fake driven by googleapiclient (built like production) and the Zoom fake by httpx."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httplib2
import httpx
import pytest
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError

from local.fakes import CalendarFake, ZoomFake, start_fakes
from local.httpserver import ServerThread
from shared.adapters.google_api import build_google_service

CALENDAR = "cal-id"
RIGA = ZoneInfo("Europe/Riga")
ROOT = Path(__file__).resolve().parents[2]

ACCOUNT, CLIENT, SECRET = "acc-123", "client-abc", "secret-xyz"


# ---- Calendar --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def calendar_server() -> Iterator[tuple[CalendarFake, ServerThread]]:
    fake = CalendarFake(calendars=(CALENDAR,))
    with fake.server() as server:
        yield fake, server


@pytest.fixture
def calendar_fake(calendar_server: tuple[CalendarFake, ServerThread]) -> CalendarFake:
    fake = calendar_server[0]
    fake.reset()
    return fake


@pytest.fixture
def calendar(calendar_server: tuple[CalendarFake, ServerThread], calendar_fake: CalendarFake) -> Any:
    url = calendar_server[1].url
    return build_google_service(
        "calendar",
        "v3",
        api_url=f"{url}/calendar/v3/",
        timeout=5,
        scopes=["https://www.googleapis.com/auth/calendar"],
    )


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 3, day, hour, minute, tzinfo=RIGA)


def test_list_filters_orders_and_searches(calendar: Any, calendar_fake: CalendarFake) -> None:
    late = calendar_fake.add_event(CALENDAR, "FREE", at(11, 15), at(11, 16))
    early = calendar_fake.add_event(CALENDAR, "FREE", at(11, 10), at(11, 11), description="trial slot")
    calendar_fake.add_event(CALENDAR, "Lesson: Anna", at(11, 12), at(11, 13))
    calendar_fake.add_event(CALENDAR, "FREE", at(9, 10), at(9, 11))  # before timeMin
    calendar_fake.add_event(CALENDAR, "FREE", at(20, 10), at(20, 11))  # after timeMax
    calendar_fake.add_event(CALENDAR, "Carefree day", at(11, 9), at(11, 10))  # "free" is not a word prefix
    edge = calendar_fake.add_event(CALENDAR, "FREE", at(10, 23), at(11, 0))  # ends exactly at timeMin

    reply = (
        calendar.events()
        .list(
            calendarId=CALENDAR,
            timeMin=at(11, 0).isoformat(),
            timeMax=at(12, 0).isoformat(),
            singleEvents=True,
            orderBy="startTime",
            q="free",
        )
        .execute()
    )

    assert reply["kind"] == "calendar#events" and reply["timeZone"] == "Europe/Riga"
    assert [item["id"] for item in reply["items"]] == [early["id"], late["id"]]
    assert edge["id"] not in {item["id"] for item in reply["items"]}  # timeMin is exclusive on the end
    item = reply["items"][0]
    assert item["start"] == {"dateTime": "2030-03-11T10:00:00+02:00", "timeZone": "Europe/Riga"}
    assert item["description"] == "trial slot" and item["status"] == "confirmed"
    assert item["etag"].startswith('"') and item["etag"].endswith('"') and item["etag"][1:-1].isdigit()
    assert item["htmlLink"].startswith("https://www.google.com/calendar/event?eid=")
    assert item["created"].endswith("Z") and item["updated"].endswith("Z")
    (call,) = calendar_fake.calls()
    assert call["path"] == f"/calendar/v3/calendars/{CALENDAR}/events"
    assert call["args"]["singleEvents"] == "true" and call["headers"]["Authorization"] == "Bearer local-token"

    in_utc = calendar.events().list(calendarId=CALENDAR, q="Anna", timeZone="UTC").execute()
    assert [i["summary"] for i in in_utc["items"]] == ["Lesson: Anna"]
    assert in_utc["items"][0]["start"]["dateTime"] == "2030-03-11T10:00:00+00:00"


def test_order_by_start_time_needs_single_events(calendar: Any) -> None:
    with pytest.raises(HttpError) as exc:
        calendar.events().list(calendarId=CALENDAR, orderBy="startTime").execute()

    assert exc.value.status_code == 400
    assert exc.value.reason == "The requested ordering is not available for the particular query."
    with pytest.raises(HttpError) as empty:
        calendar.events().list(
            calendarId=CALENDAR, timeMin=at(11, 12).isoformat(), timeMax=at(11, 10).isoformat()
        ).execute()
    assert empty.value.status_code == 400 and empty.value.error_details[0]["reason"] == "timeRangeEmpty"


def test_pagination_with_page_tokens(calendar: Any, calendar_fake: CalendarFake) -> None:
    created = [calendar_fake.add_event(CALENDAR, f"FREE {i}", at(12, 8 + i), at(12, 9 + i)) for i in range(5)]

    # build_google_service stubs the response schemas, so googleapiclient generates no `list_next`:
    # production code pages by passing nextPageToken back as pageToken, as here.
    assert not hasattr(calendar.events(), "list_next")
    pages: list[list[str]] = []
    token: str | None = None
    while True:
        page = (
            calendar.events()
            .list(calendarId=CALENDAR, singleEvents=True, orderBy="startTime", maxResults=2, pageToken=token)
            .execute()
        )
        pages.append([item["id"] for item in page["items"]])
        token = page.get("nextPageToken")
        if not token:
            break

    assert pages == [[e["id"] for e in created[i : i + 2]] for i in (0, 2, 4)]
    assert [len(call["args"].get("pageToken", "")) > 0 for call in calendar_fake.calls()] == [
        False,
        True,
        True,
    ]


def test_patch_honours_if_match(calendar: Any, calendar_fake: CalendarFake) -> None:
    slot = calendar_fake.add_event(CALENDAR, "FREE", at(13, 10), at(13, 11))
    events = calendar.events()

    request = events.patch(calendarId=CALENDAR, eventId=slot["id"], body={"summary": "Trial: Anna"})
    request.headers["If-Match"] = slot["etag"]
    booked = request.execute()

    assert booked["summary"] == "Trial: Anna"
    assert booked["etag"] != slot["etag"] and booked["updated"] >= slot["updated"]
    assert booked["start"] == slot["start"]  # patch keeps what the body leaves out
    stale = events.patch(calendarId=CALENDAR, eventId=slot["id"], body={"summary": "Trial: Boris"})
    stale.headers["If-Match"] = slot["etag"]
    with pytest.raises(HttpError) as exc:
        stale.execute()
    assert exc.value.status_code == 412
    assert exc.value.error_details[0]["reason"] == "conditionNotMet"
    assert calendar_fake.event(CALENDAR, slot["id"])["summary"] == "Trial: Anna"
    # a manager edits the event in the UI: the etag the bot holds goes stale
    calendar_fake.edit_event(CALENDAR, slot["id"], description="moved by manager")
    replace = events.update(calendarId=CALENDAR, eventId=slot["id"], body={**booked, "summary": "X"})
    replace.headers["If-Match"] = booked["etag"]
    with pytest.raises(HttpError) as edited:
        replace.execute()
    assert edited.value.status_code == 412


def test_update_replaces_insert_and_delete(calendar: Any, calendar_fake: CalendarFake) -> None:
    events = calendar.events()
    body = {
        "summary": "FREE",
        "description": "to drop",
        "start": {"dateTime": "2030-03-14T10:00:00", "timeZone": "Europe/Riga"},
        "end": {"dateTime": "2030-03-14T11:00:00", "timeZone": "Europe/Riga"},
    }
    event = events.insert(calendarId=CALENDAR, body=body).execute()
    assert event["start"]["dateTime"] == "2030-03-14T10:00:00+02:00"

    updated = events.update(
        calendarId=CALENDAR,
        eventId=event["id"],
        body={"summary": "Busy", "start": event["start"], "end": event["end"]},
    ).execute()
    assert "description" not in updated and updated["summary"] == "Busy" and updated["id"] == event["id"]
    assert events.delete(calendarId=CALENDAR, eventId=event["id"]).execute() == ""
    assert events.get(calendarId=CALENDAR, eventId=event["id"]).execute()["status"] == "cancelled"
    assert events.list(calendarId=CALENDAR).execute()["items"] == []
    with pytest.raises(HttpError) as gone:
        events.delete(calendarId=CALENDAR, eventId=event["id"]).execute()
    assert gone.value.status_code == 410
    with pytest.raises(HttpError) as missing_end:
        events.insert(calendarId=CALENDAR, body={"summary": "x", "start": body["start"]}).execute()
    assert missing_end.value.status_code == 400 and missing_end.value.reason == "Missing end time."


def test_no_token_is_401(
    calendar_server: tuple[CalendarFake, ServerThread], calendar_fake: CalendarFake
) -> None:
    plain = build_from_document(
        get_static_doc("calendar", "v3"),
        http=httplib2.Http(timeout=5),
        client_options={"api_endpoint": f"{calendar_server[1].url}/calendar/v3/"},
    )

    with pytest.raises(HttpError) as exc:
        plain.events().list(calendarId=CALENDAR).execute()

    assert exc.value.status_code == 401
    assert exc.value.error_details[0]["reason"] == "required"
    assert "missing required authentication credential" in exc.value.reason


def test_unknown_calendar_and_event_are_404(calendar: Any) -> None:
    for request in (
        calendar.events().list(calendarId="nope"),
        calendar.events().get(calendarId=CALENDAR, eventId="abcdef12345"),
    ):
        with pytest.raises(HttpError) as exc:
            request.execute()
        assert exc.value.status_code == 404 and exc.value.reason == "Not Found"


def test_injected_fault_then_recovery(calendar: Any, calendar_fake: CalendarFake) -> None:
    calendar_fake.add_fault(500, match="GET /calendar/v3")

    with pytest.raises(HttpError) as exc:
        calendar.events().list(calendarId=CALENDAR).execute()

    assert exc.value.status_code == 500 and exc.value.error_details[0]["reason"] == "backendError"
    assert calendar.events().list(calendarId=CALENDAR).execute()["items"] == []
    assert [call["status"] for call in calendar_fake.calls()] == [500, 200]


def test_seed_free_slots(calendar_fake: CalendarFake) -> None:
    slots = calendar_fake.seed_free_slots(
        CALENDAR, date(2030, 3, 30), 2, [clock_time(10), clock_time(15, 30)], "Europe/Riga", minutes=45
    )

    assert len(slots) == 4 and {s["summary"] for s in slots} == {"FREE"}
    starts = [e["start"]["dateTime"] for e in calendar_fake.events(CALENDAR)]
    # 2030-03-31 is the switch to summer time in Riga: the offset follows the zone's rules
    assert starts == [
        "2030-03-30T10:00:00+02:00",
        "2030-03-30T15:30:00+02:00",
        "2030-03-31T10:00:00+03:00",
        "2030-03-31T15:30:00+03:00",
    ]
    assert slots[0]["end"] == {"dateTime": "2030-03-30T10:45:00+02:00", "timeZone": "Europe/Riga"}


# ---- Zoom ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def zoom_server() -> Iterator[tuple[ZoomFake, ServerThread]]:
    fake = ZoomFake(ACCOUNT, CLIENT, SECRET)
    with fake.server() as server:
        yield fake, server


@pytest.fixture
def zoom_fake(zoom_server: tuple[ZoomFake, ServerThread]) -> ZoomFake:
    fake = zoom_server[0]
    fake.reset()
    return fake


@pytest.fixture
def zoom_http(zoom_server: tuple[ZoomFake, ServerThread], zoom_fake: ZoomFake) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=zoom_server[1].url, timeout=5) as client:
        yield client


def get_token(
    client: httpx.Client, auth: tuple[str, str] = (CLIENT, SECRET), **params: str
) -> httpx.Response:
    query = {"grant_type": "account_credentials", "account_id": ACCOUNT, **params}
    return client.post("/oauth/token", params=query, auth=auth)


def bearer(client: httpx.Client) -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(client).json()['access_token']}"}


MEETING = {"topic": "Trial lesson: Anna", "type": 2, "start_time": "2030-03-11T10:00:00Z", "duration": 45}


def test_token_with_basic_auth(zoom_http: httpx.Client, zoom_fake: ZoomFake) -> None:
    reply = get_token(zoom_http)

    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3599
    assert zoom_fake.tokens_issued() == 1
    form = zoom_http.post(
        "/oauth/token",
        data={"grant_type": "account_credentials", "account_id": ACCOUNT},
        auth=(CLIENT, SECRET),
    )
    assert form.status_code == 200 and zoom_fake.tokens_issued() == 2


def test_token_errors(zoom_http: httpx.Client) -> None:
    wrong = get_token(zoom_http, auth=(CLIENT, "bad"))
    assert wrong.status_code == 401
    assert wrong.json() == {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
    assert zoom_http.post("/oauth/token", params={"grant_type": "account_credentials"}).status_code == 401
    account = get_token(zoom_http, account_id="other")
    assert account.status_code == 400 and account.json()["error"] == "invalid_request"
    no_grant = zoom_http.post("/oauth/token", params={"account_id": ACCOUNT}, auth=(CLIENT, SECRET))
    assert no_grant.status_code == 400 and no_grant.json()["error"] == "invalid_request"
    other = get_token(zoom_http, grant_type="client_credentials")
    assert other.status_code == 400 and other.json()["error"] == "unsupported_grant_type"


def test_create_get_patch_delete_meeting(zoom_http: httpx.Client, zoom_fake: ZoomFake) -> None:
    headers = bearer(zoom_http)

    created = zoom_http.post("/v2/users/me/meetings", json=MEETING, headers=headers)

    assert created.status_code == 201
    meeting = created.json()
    assert isinstance(meeting["id"], int) and len(str(meeting["id"])) == 11
    assert meeting["join_url"].startswith(f"https://zoom.us/j/{meeting['id']}?pwd=")
    assert meeting["start_url"].startswith(f"https://zoom.us/s/{meeting['id']}?zak=")
    assert meeting["topic"] == MEETING["topic"] and meeting["duration"] == 45
    assert meeting["start_time"] == "2030-03-11T10:00:00Z" and meeting["timezone"] == "UTC"
    assert meeting["password"] and meeting["uuid"]
    got = zoom_http.get(f"/v2/meetings/{meeting['id']}", headers=headers)
    assert got.status_code == 200 and got.json() == meeting
    moved = zoom_http.patch(
        f"/v2/meetings/{meeting['id']}",
        json={"start_time": "2030-03-11T12:00:00", "timezone": "Europe/Riga"},
        headers=headers,
    )
    assert moved.status_code == 204 and moved.content == b""
    assert zoom_fake.meeting(meeting["id"])["start_time"] == "2030-03-11T10:00:00Z"  # 12:00 in Riga is 10:00Z
    assert zoom_fake.meeting(meeting["id"])["timezone"] == "Europe/Riga"
    deleted = zoom_http.delete(f"/v2/meetings/{meeting['id']}", headers=headers)
    assert deleted.status_code == 204
    assert zoom_fake.meetings() == [] and [m["id"] for m in zoom_fake.deleted_meetings()] == [meeting["id"]]
    again = zoom_http.get(f"/v2/meetings/{meeting['id']}", headers=headers)
    assert again.status_code == 404
    assert again.json() == {"code": 3001, "message": f"Meeting does not exist: {meeting['id']}."}


def test_meeting_validation(zoom_http: httpx.Client, zoom_fake: ZoomFake) -> None:
    headers = bearer(zoom_http)
    bad = {"topic": "x" * 201, "start_time": "11.03.2030 10:00", "duration": 0}

    reply = zoom_http.post("/v2/users/me/meetings", json=bad, headers=headers)

    assert reply.status_code == 400
    body = reply.json()
    assert body["code"] == 300 and body["message"] == "Validation Failed."
    assert {error["field"] for error in body["errors"]} == {"topic", "start_time", "duration"}
    no_start = zoom_http.post("/v2/users/me/meetings", json={"topic": "t", "type": 2}, headers=headers)
    assert no_start.status_code == 400 and no_start.json()["errors"][0]["field"] == "start_time"
    not_json = zoom_http.post("/v2/users/me/meetings", content=b"nope", headers=headers)
    assert not_json.status_code == 400 and not_json.json()["code"] == 300
    stranger = zoom_http.post("/v2/users/someone@else.example/meetings", json=MEETING, headers=headers)
    assert stranger.status_code == 404 and stranger.json()["code"] == 1001
    assert zoom_fake.meetings() == []


def test_expired_or_missing_token_is_401_code_124(zoom_http: httpx.Client, zoom_fake: ZoomFake) -> None:
    headers = bearer(zoom_http)
    assert zoom_http.post("/v2/users/me/meetings", json=MEETING, headers=headers).status_code == 201

    zoom_fake.advance_clock(3599)
    expired = zoom_http.post("/v2/users/me/meetings", json=MEETING, headers=headers)

    assert expired.status_code == 401 and expired.json()["code"] == 124
    missing = zoom_http.get("/v2/users/me/meetings")
    assert missing.status_code == 401
    assert missing.json() == {"code": 124, "message": "Invalid access token."}
    forged = zoom_http.get("/v2/users/me/meetings", headers={"Authorization": "Bearer forged"})
    assert forged.status_code == 401 and forged.json()["code"] == 124
    fresh = zoom_http.get("/v2/users/me/meetings", headers=bearer(zoom_http))
    assert fresh.status_code == 200 and fresh.json()["total_records"] == 1


def test_delete_unknown_meeting_is_404(zoom_http: httpx.Client) -> None:
    reply = zoom_http.delete("/v2/meetings/12345678901", headers=bearer(zoom_http))

    assert reply.status_code == 404
    assert reply.json() == {"code": 3001, "message": "Meeting does not exist: 12345678901."}


def test_zoom_clock_control_and_faults(zoom_http: httpx.Client, zoom_fake: ZoomFake) -> None:
    headers = bearer(zoom_http)
    zoom_fake.add_fault(429, match="POST /v2", retry_after=1)

    limited = zoom_http.post("/v2/users/me/meetings", json=MEETING, headers=headers)

    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert limited.json()["code"] == 429
    assert zoom_http.post("/_fake/clock", json={"advance": 4000}).json()["ok"] is True
    assert zoom_http.get("/v2/users/me/meetings", headers=headers).json()["code"] == 124


def test_single_token_mode_revokes_older_tokens() -> None:
    fake = ZoomFake(ACCOUNT, CLIENT, SECRET, single_token=True, oauth_path="/token", api_prefix="/api/v2")
    with fake.server() as server, httpx.Client(base_url=server.url, timeout=5) as client:
        first = client.post(
            "/token",
            params={"grant_type": "account_credentials", "account_id": ACCOUNT},
            auth=(CLIENT, SECRET),
        )
        second = client.post(
            "/token",
            params={"grant_type": "account_credentials", "account_id": ACCOUNT},
            auth=(CLIENT, SECRET),
        )
        old = client.get(
            "/api/v2/users/me/meetings", headers={"Authorization": f"Bearer {first.json()['access_token']}"}
        )
        new = client.get(
            "/api/v2/users/me/meetings", headers={"Authorization": f"Bearer {second.json()['access_token']}"}
        )

    assert old.status_code == 401 and new.status_code == 200


# ---- runner and CLI --------------------------------------------------------------------------------------
def test_start_fakes_with_calendar_and_zoom() -> None:
    env = {"GOOGLE_CALENDAR_ID": "academy-cal", "ZOOM_ACCOUNT_ID": "acc", "ZOOM_CLIENT_ID": "id"}
    with start_fakes(env, calendar_port=0, zoom_port=0, calendar_seed_days=2) as fakes:
        app_env = fakes.app_env()
        assert fakes.calendar is not None and fakes.zoom is not None
        assert len(fakes.calendar.events("academy-cal")) == 6  # 2 days x 3 default times
        service = build_google_service(
            "calendar", "v3", api_url=app_env["CALENDAR_API_URL"], timeout=5, scopes=[]
        )
        listed = service.events().list(calendarId="academy-cal", q="FREE").execute()
        assert len(listed["items"]) == 6
        token = httpx.post(
            app_env["ZOOM_OAUTH_URL"],
            params={"grant_type": "account_credentials", "account_id": "acc"},
            auth=("id", "local-zoom-secret"),
        ).json()["access_token"]
        me = httpx.get(
            app_env["ZOOM_API_URL"] + "/users/me/meetings", headers={"Authorization": f"Bearer {token}"}
        )
        assert me.status_code == 200

    with start_fakes({}) as plain:
        assert plain.calendar is None and plain.zoom is None
        assert set(plain.app_env()) == {"SHEETS_API_URL", "RESEND_API_URL", "TELEGRAM_API_URL"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_serves_calendar_and_zoom_when_asked() -> None:
    ports = [_free_port() for _ in range(5)]
    args = ["--sheets-port", str(ports[0]), "--resend-port", str(ports[1]), "--telegram-port", str(ports[2])]
    args += ["--calendar-port", str(ports[3]), "--zoom-port", str(ports[4]), "--calendar-seed-days", "1"]
    env = {**os.environ, "GOOGLE_CALENDAR_ID": "cli-cal"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "local.fakes", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                state = httpx.get(f"http://127.0.0.1:{ports[3]}/_fake/state", timeout=1).json()
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the fakes did not start"
                time.sleep(0.05)
        assert len(state["calendars"]["cli-cal"]["events"]) == 3
        token = httpx.post(
            f"http://127.0.0.1:{ports[4]}/oauth/token",
            params={"grant_type": "account_credentials", "account_id": "local-zoom-account"},
            auth=("local-zoom-client", "local-zoom-secret"),
        )
        assert token.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert b"ZOOM_OAUTH_URL" in stderr and b"CALENDAR_API_URL" in stderr


def test_seed_free_slots_start_day_is_a_date() -> None:
    fake = CalendarFake(calendars={"c": "UTC"})
    slots = fake.seed_free_slots("c", date(2030, 1, 1), 1, [clock_time(9)], "UTC", marker="OPEN", minutes=30)
    assert slots[0]["summary"] == "OPEN"
    start = datetime.fromisoformat(slots[0]["start"]["dateTime"])
    assert datetime.fromisoformat(slots[0]["end"]["dateTime"]) - start == timedelta(minutes=30)
