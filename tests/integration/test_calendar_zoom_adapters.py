"""The Calendar adapter through the real googleapiclient and the Zoom adapter through httpx, against fakes."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from local.fakes import CalendarFake, ZoomFake
from local.httpserver import ServerThread
from shared.adapters.calendar import CalendarError, GoogleCalendar
from shared.adapters.google_api import build_google_service
from shared.adapters.zoom import ZoomMeetings, ZoomRefused
from shared.domain.booking import Slot
from shared.ports import CalendarUnavailable, MeetingsUnavailable, SlotTaken

CAL = "trials@group.calendar.google.com"
RIGA = ZoneInfo("Europe/Riga")
ACCOUNT, CLIENT, SECRET = "acc-123", "client-abc", "secret-xyz"
BACKOFF = 0.01


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 3, day, hour, minute, tzinfo=RIGA)


# ---- Calendar --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def calendar_server() -> Iterator[tuple[CalendarFake, ServerThread]]:
    fake = CalendarFake(calendars=(CAL,))
    with fake.server() as server:
        yield fake, server


@pytest.fixture
def cal_fake(calendar_server: tuple[CalendarFake, ServerThread]) -> Iterator[CalendarFake]:
    fake = calendar_server[0]
    fake.reset()
    yield fake
    fake.clear_faults()  # releases a hang left armed by a failed test


class CalendarFactory:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sleeps: list[float] = []

    def __call__(self, *, timeout: float = 5, retries: int = 3, **kwargs: Any) -> GoogleCalendar:
        def service() -> Any:
            return build_google_service(
                "calendar",
                "v3",
                api_url=f"{self.url}/calendar/v3/",
                timeout=timeout,
                scopes=["https://www.googleapis.com/auth/calendar"],
            )

        return GoogleCalendar(
            service, CAL, retries=retries, backoff_seconds=BACKOFF, sleep=self.sleeps.append, **kwargs
        )


@pytest.fixture
def make_calendar(
    calendar_server: tuple[CalendarFake, ServerThread], cal_fake: CalendarFake
) -> CalendarFactory:
    return CalendarFactory(calendar_server[1].url)


def free(fake: CalendarFake, start: datetime, minutes: int = 60, summary: str = "FREE") -> dict[str, Any]:
    return fake.add_event(CAL, summary, start, start + timedelta(minutes=minutes))


class TestFreeSlots:
    def test_only_marker_events_starting_in_range_sorted_across_pages(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        late = free(cal_fake, at(11, 15))
        early = free(cal_fake, at(11, 10), summary="  FREE trial ")  # leading spaces and a suffix are fine
        middle = free(cal_fake, at(11, 12))
        seeded = cal_fake.seed_free_slots(CAL, date(2030, 3, 12), 2, [clock_time(9), clock_time(18)], "UTC")
        cal_fake.add_event(CAL, "Lesson: Anna FREE", at(11, 11), at(11, 12))  # marker not at the start
        free(cal_fake, at(11, 13), summary="free")  # the marker is case-sensitive
        free(cal_fake, at(10, 23, 30))  # starts before the range, ends inside it
        free(cal_fake, at(15, 10))  # starts at the end of the range
        free(cal_fake, at(9, 10))  # before
        gone = free(cal_fake, at(11, 14))
        cal_fake.edit_event(CAL, gone["id"], status="cancelled")
        all_day = free(cal_fake, at(11, 16))
        cal_fake.edit_event(
            CAL,
            all_day["id"],
            start={"date": "2030-03-11", "dateTime": None, "timeZone": None},
            end={"date": "2030-03-12", "dateTime": None, "timeZone": None},
        )
        calendar = make_calendar(page_size=2)

        slots = calendar.free_slots(at(11, 0), at(15, 10))

        expected = [early, middle, late, *seeded]
        assert [s.event_id for s in slots] == [e["id"] for e in expected]
        assert [s.etag for s in slots] == [e["etag"] for e in expected]
        assert slots[0].start == datetime(2030, 3, 11, 8, 0, tzinfo=UTC) and slots[0].start.tzinfo is UTC
        assert slots[0].end == datetime(2030, 3, 11, 9, 0, tzinfo=UTC)
        assert slots[3].start == datetime(2030, 3, 12, 9, 0, tzinfo=UTC)
        lists = cal_fake.calls(method="GET")
        assert len(lists) > 2 and calendar.calls == len(lists) == len(cal_fake.calls())
        first = lists[0]["args"]
        assert first["timeMin"] == "2030-03-10T22:00:00Z" and first["timeMax"] == "2030-03-15T08:00:00Z"
        assert first["singleEvents"] == "true" and first["orderBy"] == "startTime"
        assert first["q"] == "FREE" and first["maxResults"] == "2" and "pageToken" in lists[1]["args"]

    def test_lessons_are_the_taken_events_with_their_leads(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        free(cal_fake, at(11, 10))  # still free: not a lesson
        booked = cal_fake.add_event(CAL, "Пробный урок: Анна", at(11, 12), at(11, 13))
        cal_fake.edit_event(CAL, booked["id"], description="Родитель: Анна\nLead ID: 0123456789abcdef0123")
        cal_fake.add_event(CAL, "Педсовет", at(11, 9), at(11, 10))  # the managers' own
        gone = cal_fake.add_event(CAL, "Пробный урок: Борис", at(11, 14), at(11, 15))
        cal_fake.edit_event(CAL, gone["id"], status="cancelled")
        cal_fake.add_event(CAL, "Next day", at(12, 9), at(12, 10))  # outside the range
        lessons = make_calendar(page_size=2).lessons(at(11, 0), at(12, 0))
        assert [(lesson.start, lesson.summary, lesson.lead_id) for lesson in lessons] == [
            (at(11, 9), "Педсовет", None),
            (at(11, 12), "Пробный урок: Анна", "0123456789abcdef0123"),
        ]

    def test_default_page_size_and_a_custom_marker(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        free(cal_fake, at(11, 10))
        slot = free(cal_fake, at(11, 11), summary="Trial slot")
        calendar = make_calendar(marker="Trial")

        assert [s.event_id for s in calendar.free_slots(at(11, 0), at(12, 0))] == [slot["id"]]
        (call,) = cal_fake.calls()
        assert call["args"]["maxResults"] == "250" and call["args"]["q"] == "Trial"

    def test_naive_bounds_are_refused(self, make_calendar: CalendarFactory) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            make_calendar().free_slots(datetime(2030, 3, 11), datetime(2030, 3, 12))


class TestBook:
    def test_book_with_the_current_etag_patches_once(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        event = free(cal_fake, at(11, 10))
        calendar = make_calendar()
        (slot,) = calendar.free_slots(at(11, 0), at(12, 0))

        booked = calendar.book(slot, "Trial: Anna (8)", "lead L1, +79161234567")

        stored = cal_fake.event(CAL, event["id"])
        assert stored["summary"] == "Trial: Anna (8)" and stored["description"] == "lead L1, +79161234567"
        assert booked == Slot(event["id"], slot.start, slot.end, stored["etag"])
        assert booked.etag != slot.etag
        patch = cal_fake.calls(method="PATCH")[0]
        assert patch["headers"]["If-Match"] == slot.etag
        assert calendar.calls == 2  # list + patch: the listed etag proves the event is still free
        assert calendar.free_slots(at(11, 0), at(12, 0)) == []

    def test_a_slot_read_by_another_instance_is_checked_first(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        free(cal_fake, at(11, 10))
        (slot,) = make_calendar().free_slots(at(11, 0), at(12, 0))
        other = make_calendar()

        booked = other.book(slot, "Trial: Anna", "")

        assert other.calls == 2 and [c["method"] for c in cal_fake.calls()][-2:] == ["GET", "PATCH"]
        assert cal_fake.event(CAL, slot.event_id)["etag"] == booked.etag

    def test_a_stale_etag_is_slot_taken(self, make_calendar: CalendarFactory, cal_fake: CalendarFake) -> None:
        event = free(cal_fake, at(11, 10))
        calendar = make_calendar()
        (slot,) = calendar.free_slots(at(11, 0), at(12, 0))
        cal_fake.edit_event(CAL, event["id"], description="moved by the manager")

        with pytest.raises(SlotTaken):
            calendar.book(slot, "Trial: Anna", "lead L1")
        with pytest.raises(SlotTaken):
            make_calendar().book(slot, "Trial: Anna", "lead L1")  # caught by the read, no patch sent

        assert cal_fake.event(CAL, event["id"])["summary"] == "FREE"
        assert [c["status"] for c in cal_fake.calls(method="PATCH")] == [412]

    def test_an_event_that_is_no_longer_free_is_slot_taken(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        free(cal_fake, at(11, 10))
        calendar = make_calendar()
        (slot,) = calendar.free_slots(at(11, 0), at(12, 0))
        booked = calendar.book(slot, "Trial: Anna", "lead L1")

        with pytest.raises(SlotTaken, match="not free"):
            calendar.book(booked, "Trial: Boris", "lead L2")  # its etag is current, but it is taken
        lesson = cal_fake.add_event(CAL, "Lesson: Vera", at(11, 12), at(11, 13))
        with pytest.raises(SlotTaken, match="not free"):
            make_calendar().book(
                Slot(lesson["id"], at(11, 12), at(11, 13), lesson["etag"]), "Trial: Boris", "lead L2"
            )

        assert cal_fake.event(CAL, slot.event_id)["summary"] == "Trial: Anna"
        assert cal_fake.event(CAL, lesson["id"])["summary"] == "Lesson: Vera"

    def test_a_deleted_event_is_slot_taken(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        event = free(cal_fake, at(11, 10))
        calendar = make_calendar()
        (slot,) = calendar.free_slots(at(11, 0), at(12, 0))
        cal_fake.edit_event(CAL, event["id"], status="cancelled")

        with pytest.raises(SlotTaken):
            calendar.book(slot, "Trial: Anna", "")
        with pytest.raises(SlotTaken, match="gone"):
            make_calendar().book(Slot("nosuchevent0", slot.start, slot.end, '"1"'), "Trial: Anna", "")

    def test_a_booking_title_must_not_look_free(self, make_calendar: CalendarFactory) -> None:
        slot = Slot("abcdef", at(11, 10), at(11, 11), '"1"')
        with pytest.raises(ValueError, match="marker"):
            make_calendar().book(slot, "FREE for Anna", "")

    def test_a_lost_answer_is_recognised_on_the_retry(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        free(cal_fake, at(11, 10))
        calendar = make_calendar()
        (slot,) = calendar.free_slots(at(11, 0), at(12, 0))
        cal_fake.add_fault(500, match="PATCH", after=True)  # patched, but the answer is a 500

        booked = calendar.book(slot, "Trial: Anna", "lead L1")

        assert booked.etag == cal_fake.event(CAL, slot.event_id)["etag"] != slot.etag
        assert len(cal_fake.calls(method="PATCH")) == 1 and make_calendar.sleeps == [BACKOFF]


class TestRelease:
    def test_release_restores_the_marker(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        free(cal_fake, at(11, 10))
        calendar = make_calendar()
        (slot,) = calendar.free_slots(at(11, 0), at(12, 0))
        booked = calendar.book(slot, "Trial: Anna", "lead L1")
        cal_fake.clear_calls()

        calendar.release(slot.event_id)

        event = cal_fake.event(CAL, slot.event_id)
        assert event["summary"] == "FREE" and not event.get("description")
        patch = cal_fake.calls(method="PATCH")[0]
        assert patch["headers"]["If-Match"] == booked.etag
        (again,) = calendar.free_slots(at(11, 0), at(12, 0))
        assert again.event_id == slot.event_id and again.etag == event["etag"]
        cal_fake.clear_calls()
        calendar.release(slot.event_id)  # free already: nothing to write
        assert [c["method"] for c in cal_fake.calls()] == ["GET"]

    def test_release_retries_once_on_a_concurrent_change(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        event = free(cal_fake, at(11, 10), summary="Trial: Anna")
        cal_fake.add_fault(412, match="PATCH")
        calendar = make_calendar()

        calendar.release(event["id"])

        assert cal_fake.event(CAL, event["id"])["summary"] == "FREE"
        assert [c["method"] for c in cal_fake.calls()] == ["GET", "PATCH", "GET", "PATCH"]
        cal_fake.edit_event(CAL, event["id"], summary="Trial: Boris")
        cal_fake.add_fault(412, match="PATCH", times=2)
        with pytest.raises(CalendarUnavailable, match="kept changing"):
            calendar.release(event["id"])

    def test_release_of_a_deleted_event_does_nothing(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        event = free(cal_fake, at(11, 10), summary="Trial: Anna")
        cal_fake.edit_event(CAL, event["id"], status="cancelled")
        calendar = make_calendar()

        calendar.release(event["id"])
        calendar.release("nosuchevent0")

        assert cal_fake.calls(method="PATCH") == []


class TestCalendarFailures:
    def test_two_500s_then_success(self, make_calendar: CalendarFactory, cal_fake: CalendarFake) -> None:
        free(cal_fake, at(11, 10))
        cal_fake.add_fault(500, times=2, match="GET /calendar/v3")
        calendar = make_calendar()

        assert len(calendar.free_slots(at(11, 0), at(12, 0))) == 1
        assert make_calendar.sleeps == [BACKOFF, 2 * BACKOFF] and calendar.calls == 3

    def test_persistent_500_is_calendar_unavailable(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        cal_fake.add_fault(500, times=-1)
        calendar = make_calendar(retries=2)

        with pytest.raises(CalendarUnavailable, match="3 times: HTTP 500"):
            calendar.free_slots(at(11, 0), at(12, 0))
        with pytest.raises(CalendarUnavailable):
            calendar.release("abcdef")
        assert calendar.calls == 6 and len(make_calendar.sleeps) == 4

    def test_rate_limit_403_and_timeouts_are_retried(
        self, make_calendar: CalendarFactory, cal_fake: CalendarFake
    ) -> None:
        free(cal_fake, at(11, 10))
        cal_fake.add_fault(403)  # rateLimitExceeded, in the usageLimits domain
        cal_fake.add_fault(hang=1.0)
        calendar = make_calendar(timeout=0.3)

        assert len(calendar.free_slots(at(11, 0), at(12, 0))) == 1
        assert calendar.calls == 3 and len(make_calendar.sleeps) == 2

    def test_a_refusal_is_not_retried(self, make_calendar: CalendarFactory, cal_fake: CalendarFake) -> None:
        cal_fake.add_fault(400, message="Bad Request")
        calendar = make_calendar()

        with pytest.raises(CalendarError) as exc:
            calendar.free_slots(at(11, 0), at(12, 0))

        assert exc.value.status == 400 and isinstance(exc.value, CalendarUnavailable)
        assert calendar.calls == 1 and make_calendar.sleeps == []


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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ZoomFactory:
    def __init__(self, url: str, http: httpx.Client) -> None:
        self.url = url
        self.http = http
        self.sleeps: list[float] = []
        self.clock = Clock()

    def __call__(self, **overrides: Any) -> ZoomMeetings:
        settings: dict[str, Any] = {
            "account_id": ACCOUNT,
            "client_id": CLIENT,
            "client_secret": SECRET,
            "api_url": f"{self.url}/v2",
            "oauth_url": f"{self.url}/oauth/token",
            "timezone": "Europe/Riga",
            "backoff_seconds": BACKOFF,
            "sleep": self.sleeps.append,
            "http": self.http,
            "clock": self.clock,
            **overrides,
        }
        return ZoomMeetings(**settings)


@pytest.fixture
def make_zoom(zoom_server: tuple[ZoomFake, ServerThread], zoom_fake: ZoomFake) -> Iterator[ZoomFactory]:
    with httpx.Client(timeout=5) as http:
        yield ZoomFactory(zoom_server[1].url, http)


class TestZoom:
    def test_one_token_for_two_meetings(self, make_zoom: ZoomFactory, zoom_fake: ZoomFake) -> None:
        zoom = make_zoom()

        first = zoom.create("Trial lesson: Anna", at(11, 12), 45)
        second = zoom.create("Trial lesson: Boris", datetime(2030, 3, 11, 12, 30, tzinfo=UTC), 30)

        assert zoom_fake.tokens_issued() == 1 and zoom.calls == 3
        meeting = zoom_fake.meeting(int(first.meeting_id))
        assert first.join_url == meeting["join_url"] and first.join_url.startswith("https://zoom.us/j/")
        assert meeting["topic"] == "Trial lesson: Anna" and meeting["type"] == 2
        assert meeting["start_time"] == "2030-03-11T10:00:00Z" and meeting["duration"] == 45
        assert meeting["timezone"] == "Europe/Riga"
        assert (
            meeting["settings"]["join_before_host"] is False and meeting["settings"]["waiting_room"] is True
        )
        assert zoom_fake.meeting(int(second.meeting_id))["start_time"] == "2030-03-11T12:30:00Z"
        (token_call,) = zoom_fake.calls(path="/oauth/token")
        assert token_call["args"] == {"grant_type": "account_credentials", "account_id": ACCOUNT}
        assert token_call["headers"]["Authorization"].startswith("Basic ")

    def test_an_expired_token_is_replaced_transparently(
        self, make_zoom: ZoomFactory, zoom_fake: ZoomFake
    ) -> None:
        zoom = make_zoom()
        zoom.create("Trial lesson: Anna", at(11, 12), 45)
        zoom_fake.expire_tokens()

        zoom.create("Trial lesson: Boris", at(11, 13), 45)

        assert zoom_fake.tokens_issued() == 2 and len(zoom_fake.meetings()) == 2
        statuses = [(c["path"], c["status"]) for c in zoom_fake.calls()]
        assert statuses[2:] == [
            ("/v2/users/me/meetings", 401),
            ("/oauth/token", 200),
            ("/v2/users/me/meetings", 201),
        ]
        assert make_zoom.sleeps == []

    def test_the_token_is_renewed_a_minute_before_it_expires(
        self, make_zoom: ZoomFactory, zoom_fake: ZoomFake
    ) -> None:
        zoom = make_zoom()
        zoom.create("Trial lesson: Anna", at(11, 12), 45)
        make_zoom.clock.now += 3599 - 61
        zoom.create("Trial lesson: Boris", at(11, 13), 45)
        assert zoom_fake.tokens_issued() == 1
        make_zoom.clock.now += 2

        zoom.create("Trial lesson: Vera", at(11, 14), 45)

        assert zoom_fake.tokens_issued() == 2
        assert all(c["status"] != 401 for c in zoom_fake.calls())

    def test_two_500s_then_success(self, make_zoom: ZoomFactory, zoom_fake: ZoomFake) -> None:
        zoom_fake.add_fault(500, times=2, match="POST /v2/users/me/meetings")
        zoom = make_zoom(retries=2)

        meeting = zoom.create("Trial lesson: Anna", at(11, 12), 45)

        assert [m["id"] for m in zoom_fake.meetings()] == [int(meeting.meeting_id)]
        assert make_zoom.sleeps == [BACKOFF, 2 * BACKOFF] and zoom_fake.tokens_issued() == 1

    @pytest.mark.parametrize(
        "fault", [{"hang": 1.0}, {"status": 500, "after": True}], ids=["hang", "500-after"]
    )
    def test_a_create_made_though_its_answer_was_lost_is_not_made_twice(
        self, make_zoom: ZoomFactory, zoom_fake: ZoomFake, fault: dict[str, Any]
    ) -> None:
        zoom_fake.add_fault(**fault, match="POST /v2/users/me/meetings")  # made, but the answer never comes
        zoom = make_zoom(http=None, timeout_seconds=0.5, sleep=time.sleep)

        meeting = zoom.create("Trial lesson: Anna", at(11, 12), 45)

        time.sleep(0.5)  # the hanging request is done with by now
        assert [m["id"] for m in zoom_fake.meetings()] == [int(meeting.meeting_id)]

    def test_persistent_500_is_meetings_unavailable(
        self, make_zoom: ZoomFactory, zoom_fake: ZoomFake
    ) -> None:
        zoom_fake.add_fault(500, times=-1, match="/v2/")
        zoom = make_zoom(retries=2)

        with pytest.raises(MeetingsUnavailable, match="3 times: HTTP 500"):
            zoom.create("Trial lesson: Anna", at(11, 12), 45)
        with pytest.raises(MeetingsUnavailable):
            zoom.delete("12345678901")

        assert zoom_fake.meetings() == [] and len(make_zoom.sleeps) == 4

    def test_rate_limit_honours_retry_after(self, make_zoom: ZoomFactory, zoom_fake: ZoomFake) -> None:
        zoom_fake.add_fault(429, retry_after=2, match="POST /v2/")
        zoom_fake.add_fault(429, retry_after=3600, match="POST /v2/")

        make_zoom().create("Trial lesson: Anna", at(11, 12), 45)

        assert make_zoom.sleeps == [2.0, 10.0]  # a long Retry-After is capped

    def test_network_errors_are_retried_then_unavailable(self, make_zoom: ZoomFactory) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed = sock.getsockname()[1]
        zoom = make_zoom(api_url=f"http://127.0.0.1:{closed}/v2")

        with pytest.raises(MeetingsUnavailable, match="ConnectError"):
            zoom.create("Trial lesson: Anna", at(11, 12), 45)
        assert len(make_zoom.sleeps) == 2

    def test_delete(self, make_zoom: ZoomFactory, zoom_fake: ZoomFake) -> None:
        zoom = make_zoom()
        meeting = zoom.create("Trial lesson: Anna", at(11, 12), 45)

        zoom.delete(meeting.meeting_id)
        zoom.delete(meeting.meeting_id)  # gone already
        zoom.delete("99999999999")  # never existed

        assert zoom_fake.meetings() == [] and [m["id"] for m in zoom_fake.deleted_meetings()] == [
            int(meeting.meeting_id)
        ]
        assert [c["status"] for c in zoom_fake.calls(method="DELETE")] == [204, 404, 404]

    def test_bad_credentials_are_refused_without_retries(
        self, make_zoom: ZoomFactory, zoom_fake: ZoomFake
    ) -> None:
        zoom = make_zoom(client_secret="wrong")

        with pytest.raises(ZoomRefused) as exc:
            zoom.create("Trial lesson: Anna", at(11, 12), 45)

        assert exc.value.status == 401 and isinstance(exc.value, MeetingsUnavailable)
        assert "invalid_client" in str(exc.value) and make_zoom.sleeps == [] and zoom.calls == 1

    def test_a_long_topic_is_cut_and_naive_times_are_refused(
        self, make_zoom: ZoomFactory, zoom_fake: ZoomFake
    ) -> None:
        zoom = make_zoom()
        meeting = zoom.create("x" * 300, at(11, 12), 45)
        assert zoom_fake.meeting(int(meeting.meeting_id))["topic"] == "x" * 200
        with pytest.raises(ValueError, match="timezone-aware"):
            zoom.create("Trial", datetime(2030, 3, 11, 12), 45)

    def test_an_own_client_is_created_and_closed(self, make_zoom: ZoomFactory, zoom_fake: ZoomFake) -> None:
        zoom = make_zoom(http=None, timeout_seconds=2)
        zoom.create("Trial lesson: Anna", at(11, 12), 45)
        zoom.close()
        assert len(zoom_fake.meetings()) == 1
