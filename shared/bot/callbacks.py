"""Button data: every inline button's `callback_data` is built and parsed here, in one declared shape.

Telegram sends back whatever a button carried, from any message the parent still has on screen, so data
is parsed strictly (unknown or malformed data is None) and buttons bound to an offer of free slots are
recognised as stale here when the session has moved on to another offer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from shared.domain.conversation import OFFER_SCENES, Session
from shared.domain.timezones import valid_zone
from shared.i18n import LANGUAGES

MAX_BYTES = 64  # Telegram's limit for callback_data


@dataclass(frozen=True)
class Consent:
    """The parent accepts the privacy policy."""


@dataclass(frozen=True)
class Language:
    code: str


@dataclass(frozen=True)
class AiBack:
    """Under every assistant answer: back to the step the parent was in."""


@dataclass(frozen=True)
class Day:
    offer: str
    day: str  # yyyymmdd in the academy's zone


@dataclass(frozen=True)
class Time:
    offer: str
    index: int  # into the session's offer


@dataclass(frozen=True)
class Book:
    offer: str
    index: int


@dataclass(frozen=True)
class BackToDays:
    pass


@dataclass(frozen=True)
class BackToTimes:
    offer: str
    day: str


@dataclass(frozen=True)
class Reschedule:
    booking_id: str


@dataclass(frozen=True)
class Cancel:
    booking_id: str


@dataclass(frozen=True)
class Confirm:
    """Under a lesson reminder: ✅ I'll be there."""

    booking_id: str


@dataclass(frozen=True)
class Rebook:
    """After a no-show: 📅 pick a new time."""

    booking_id: str  # the missed one


@dataclass(frozen=True)
class AskErase:
    """Under /privacy: 🗑 Delete my data (asks to confirm)."""


@dataclass(frozen=True)
class ConfirmErase:
    """The parent confirms: forget everything about them."""


@dataclass(frozen=True)
class KeepData:
    """The parent changed their mind."""


@dataclass(frozen=True)
class Mark:
    """On a lead's card in the managers' chat: what happened (called, no answer, attended, no-show)."""

    status: str  # a LeadStatus a manager may set: MARKS
    lead_id: str


@dataclass(frozen=True)
class Forget:
    """Under a lead's card after /forget: delete the lead's data (a parent asked a manager)."""

    lead_id: str


@dataclass(frozen=True)
class HandoverAsk:
    """Under the assistant's second answer in a row that did not help: 🙋 call a manager."""


@dataclass(frozen=True)
class HandoverDone:
    """Under a handover's card in the managers' chat: ✔ Done, the bot answers the parent again."""

    chat_id: int  # the parent's


@dataclass(frozen=True)
class WaitAsk:
    """Under the days (none of these fit) or "no free slots": join the waitlist (asks which days)."""


@dataclass(frozen=True)
class WaitDays:
    """Which days suit the parent (asks the part of the day next)."""

    days: str  # a waitlist.Days value


@dataclass(frozen=True)
class WaitJoin:
    """The parent's wish complete: on the waitlist."""

    days: str
    part: str  # a waitlist.DayPart value


@dataclass(frozen=True)
class WaitLeave:
    """Off the waitlist, in one press."""


@dataclass(frozen=True)
class HoldTake:
    """Under a waitlist offer: ✅ book the slot held for me."""

    hold_id: str


@dataclass(frozen=True)
class HoldPass:
    """Under a waitlist offer: not for me, offer it to the next parent."""

    hold_id: str


@dataclass(frozen=True)
class TimeZone:
    """Show times in this zone (the question after registration, or /timezone's list)."""

    zone: str  # an IANA name


# What each Mark button sets, by its short name on the wire.
MARKS = {"called": "CALLED", "noanswer": "NO_ANSWER", "attended": "ATTENDED", "noshow": "NO_SHOW"}
_MARK_NAMES = {status: name for name, status in MARKS.items()}

ButtonData = (
    Consent
    | Language
    | AiBack
    | Day
    | Time
    | Book
    | BackToDays
    | BackToTimes
    | Reschedule
    | Cancel
    | Confirm
    | Rebook
    | AskErase
    | ConfirmErase
    | KeepData
    | Mark
    | Forget
    | HandoverAsk
    | HandoverDone
    | WaitAsk
    | WaitDays
    | WaitJoin
    | WaitLeave
    | HoldTake
    | HoldPass
    | TimeZone
)
OfferButton = Day | Time | Book | BackToTimes  # valid only with the offer they were made for

_OFFER = r"(?P<offer>[0-9a-f]{6})"
_DAY = r"(?P<day>\d{8})"
_INDEX = r"(?P<index>\d{1,3})"
_BOOKING = r"(?P<booking>[0-9a-f]{4,32})"
_WAIT_DAYS = r"(?P<days>any|weekdays|weekends)"
_WAIT_PART = r"(?P<part>any|morning|afternoon|evening)"
_HOLD = r"(?P<hold>[0-9a-f]{8,32})"
# Today's wire format; buttons already on parents' screens keep working across a deploy.
_PARSERS: list[tuple[re.Pattern[str], Callable[[dict[str, str]], ButtonData | None]]] = [
    (re.compile(pattern), build)
    for pattern, build in (
        (r"consent", lambda _: Consent()),
        (r"lang:(?P<code>[a-z]{2})", lambda p: Language(p["code"]) if p["code"] in LANGUAGES else None),
        (r"ai:back", lambda _: AiBack()),
        (rf"day:{_OFFER}:{_DAY}", lambda p: Day(p["offer"], p["day"])),
        (rf"slot:{_OFFER}:{_INDEX}", lambda p: Time(p["offer"], int(p["index"]))),
        (rf"book:{_OFFER}:{_INDEX}", lambda p: Book(p["offer"], int(p["index"]))),
        (r"back:days", lambda _: BackToDays()),
        (rf"back:times:{_OFFER}:{_DAY}", lambda p: BackToTimes(p["offer"], p["day"])),
        (rf"resched:{_BOOKING}", lambda p: Reschedule(p["booking"])),
        (rf"cancel:{_BOOKING}", lambda p: Cancel(p["booking"])),
        (rf"confirm:{_BOOKING}", lambda p: Confirm(p["booking"])),
        (rf"rebook:{_BOOKING}", lambda p: Rebook(p["booking"])),
        (r"erase:ask", lambda _: AskErase()),
        (r"erase:yes", lambda _: ConfirmErase()),
        (r"erase:no", lambda _: KeepData()),
        (r"mark:(?P<name>[a-z]{4,10}):(?P<lead>[0-9a-f]{20})", lambda p: _mark(p["name"], p["lead"])),
        (r"forget:(?P<lead>[0-9a-f]{20})", lambda p: Forget(p["lead"])),
        (r"handover:ask", lambda _: HandoverAsk()),
        (r"handover:done:(?P<chat>[1-9][0-9]{0,15})", lambda p: HandoverDone(int(p["chat"]))),
        (r"wait:ask", lambda _: WaitAsk()),
        (rf"wait:days:{_WAIT_DAYS}", lambda p: WaitDays(p["days"])),
        (rf"wait:join:{_WAIT_DAYS}:{_WAIT_PART}", lambda p: WaitJoin(p["days"], p["part"])),
        (r"wait:leave", lambda _: WaitLeave()),
        (rf"hold:take:{_HOLD}", lambda p: HoldTake(p["hold"])),
        (rf"hold:pass:{_HOLD}", lambda p: HoldPass(p["hold"])),
        (
            r"tz:(?P<zone>[A-Za-z0-9_/+-]{3,50})",
            lambda p: TimeZone(p["zone"]) if valid_zone(p["zone"]) else None,
        ),
    )
]


def encode(data: ButtonData) -> str:
    """The callback_data for `data`; refuses what Telegram would refuse (over 64 bytes)."""
    match data:
        case Consent():
            raw = "consent"
        case Language(code):
            raw = f"lang:{code}"
        case AiBack():
            raw = "ai:back"
        case Day(offer, day):
            raw = f"day:{offer}:{day}"
        case Time(offer, index):
            raw = f"slot:{offer}:{index}"
        case Book(offer, index):
            raw = f"book:{offer}:{index}"
        case BackToDays():
            raw = "back:days"
        case BackToTimes(offer, day):
            raw = f"back:times:{offer}:{day}"
        case Reschedule(booking_id):
            raw = f"resched:{booking_id}"
        case Cancel(booking_id):
            raw = f"cancel:{booking_id}"
        case Confirm(booking_id):
            raw = f"confirm:{booking_id}"
        case Rebook(booking_id):
            raw = f"rebook:{booking_id}"
        case AskErase():
            raw = "erase:ask"
        case ConfirmErase():
            raw = "erase:yes"
        case KeepData():
            raw = "erase:no"
        case Mark(status, lead_id):
            raw = f"mark:{_MARK_NAMES.get(status, '?')}:{lead_id}"
        case Forget(lead_id):
            raw = f"forget:{lead_id}"
        case HandoverAsk():
            raw = "handover:ask"
        case HandoverDone(chat_id):
            raw = f"handover:done:{chat_id}"
        case WaitAsk():
            raw = "wait:ask"
        case WaitDays(days):
            raw = f"wait:days:{days}"
        case WaitJoin(days, part):
            raw = f"wait:join:{days}:{part}"
        case WaitLeave():
            raw = "wait:leave"
        case HoldTake(hold_id):
            raw = f"hold:take:{hold_id}"
        case HoldPass(hold_id):
            raw = f"hold:pass:{hold_id}"
        case TimeZone(zone):
            raw = f"tz:{zone}"
    if len(raw.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {raw[:20]}…")
    if decode(raw) != data:  # what we send must be what we accept
        raise ValueError(f"callback data does not parse back: {raw[:20]}…")
    return raw


def _mark(name: str, lead_id: str) -> Mark | None:
    return Mark(MARKS[name], lead_id) if name in MARKS else None


def decode(raw: str | None) -> ButtonData | None:
    """The button pressed, or None for data this bot never built (forged, truncated, from elsewhere)."""
    if not raw or len(raw.encode()) > MAX_BYTES:
        return None
    for pattern, build in _PARSERS:
        if found := pattern.fullmatch(raw):
            return build(found.groupdict())
    return None


def is_current(data: OfferButton, session: Session) -> bool:
    """Whether an offer's button belongs to the offer the parent is choosing from now."""
    if data.offer != session.offer_id or session.scene not in OFFER_SCENES:
        return False
    if isinstance(data, (Time, Book)):
        return 0 <= data.index < len(session.offer)
    return True
