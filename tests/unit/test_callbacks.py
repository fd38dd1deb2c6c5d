"""Button data: one codec builds and parses every button; foreign, forged and stale data is recognised."""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta

import pytest

from shared.bot import callbacks
from shared.bot.callbacks import (
    AiBack,
    AskErase,
    BackToDays,
    BackToTimes,
    Book,
    Cancel,
    Confirm,
    ConfirmErase,
    Consent,
    Day,
    Forget,
    HandoverAsk,
    HandoverDone,
    HoldPass,
    HoldTake,
    KeepData,
    Language,
    Mark,
    Rebook,
    Reschedule,
    Time,
    TimeZone,
    WaitAsk,
    WaitDays,
    WaitJoin,
    WaitLeave,
    decode,
    encode,
    is_current,
)
from shared.domain.conversation import OfferedSlot, Scene, Session

EVERY_BUTTON = [
    Consent(),
    Language("en"),
    AiBack(),
    Day("a1b2c3", "20261125"),
    Time("a1b2c3", 3),
    Book("a1b2c3", 12),
    BackToDays(),
    BackToTimes("a1b2c3", "20261125"),
    Reschedule("0badf00d"),
    Cancel("0badf00d"),
    Confirm("0badf00d"),
    Rebook("0badf00d"),
    AskErase(),
    ConfirmErase(),
    KeepData(),
    Mark("ATTENDED", "0123456789abcdef0123"),
    Forget("0123456789abcdef0123"),
    HandoverAsk(),
    HandoverDone(987654321),
    WaitAsk(),
    WaitDays("weekends"),
    WaitJoin("weekdays", "evening"),
    WaitLeave(),
    HoldTake("0123456789ab"),
    HoldPass("0123456789ab"),
    TimeZone("America/Argentina/Buenos_Aires"),
]


def test_every_kind_of_button_is_covered_here() -> None:
    assert {type(b) for b in EVERY_BUTTON} == set(typing.get_args(callbacks.ButtonData))


@pytest.mark.parametrize("button", EVERY_BUTTON, ids=lambda b: type(b).__name__)
def test_round_trip(button: callbacks.ButtonData) -> None:
    raw = encode(button)
    assert len(raw.encode()) <= 64 and decode(raw) == button


def test_the_wire_format_of_buttons_already_on_screens_is_kept() -> None:
    assert [encode(b) for b in EVERY_BUTTON] == [
        "consent",
        "lang:en",
        "ai:back",
        "day:a1b2c3:20261125",
        "slot:a1b2c3:3",
        "book:a1b2c3:12",
        "back:days",
        "back:times:a1b2c3:20261125",
        "resched:0badf00d",
        "cancel:0badf00d",
        "confirm:0badf00d",
        "rebook:0badf00d",
        "erase:ask",
        "erase:yes",
        "erase:no",
        "mark:attended:0123456789abcdef0123",
        "forget:0123456789abcdef0123",
        "handover:ask",
        "handover:done:987654321",
        "wait:ask",
        "wait:days:weekends",
        "wait:join:weekdays:evening",
        "wait:leave",
        "hold:take:0123456789ab",
        "hold:pass:0123456789ab",
        "tz:America/Argentina/Buenos_Aires",
    ]


def test_data_over_telegrams_limit_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        encode(Reschedule("f" * 70))


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "consent ",
        "lang:de",  # not a language of ours
        "day:a1b2c3",  # truncated
        "day:A1B2C3:20261125",
        "slot:a1b2c3:-1",
        "slot:a1b2c3:1e3",
        "book:a1b2c3:1:2",
        "cancel:",
        "cancel:../../x",
        "resched:" + "f" * 60,  # over 64 bytes
        "menu:main",  # another bot's data
        "wait:days:sundays",  # not a choice we offer
        "wait:join:any:night",
        "hold:take:XYZ",
        "tz:Europe/Atlantis",  # no such zone
        "tz:../../etc/passwd",
    ],
)
def test_foreign_or_malformed_data_parses_to_nothing(raw: str | None) -> None:
    assert decode(raw) is None


def test_an_offer_button_is_current_only_for_its_offer_and_while_choosing() -> None:
    start = datetime(2026, 11, 25, 10, tzinfo=UTC)
    slot = OfferedSlot(event_id="e", start=start, end=start + timedelta(hours=1), etag="1")
    session = Session(chat_id=1, scene=Scene.TIMES, offer_id="a1b2c3", offer=[slot])
    assert is_current(Time("a1b2c3", 0), session)
    assert not is_current(Time("a1b2c3", 1), session)  # no such slot in the offer
    assert not is_current(Time("ffffff", 0), session)  # an older offer
    session.scene = Scene.SCHEDULED
    assert not is_current(Day("a1b2c3", "20261125"), session)  # booked meanwhile


def test_a_cards_mark_is_one_of_the_four_and_names_a_lead() -> None:
    assert encode(Mark("NO_SHOW", "0123456789abcdef0123")) == "mark:noshow:0123456789abcdef0123"
    assert decode("mark:called:0123456789abcdef0123") == Mark("CALLED", "0123456789abcdef0123")
    assert decode("mark:deleted:0123456789abcdef0123") is None  # not a status a button may set
    assert decode("mark:called:0123") is None
    with pytest.raises(ValueError):
        encode(Mark("DELETED", "0123456789abcdef0123"))
