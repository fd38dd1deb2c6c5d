"""Ports: the small interfaces the flows use. Adapters implement them; tests plug in recording fakes."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.domain.booking import Slot
from shared.domain.jobs import Job
from shared.domain.leads import CellValue


# ---- state store ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Document:
    data: dict[str, Any]
    version: int  # bumps on every write; the compare-and-set token


@dataclass(frozen=True)
class Write:
    """One document's part of an atomic `commit`: `create` (it must be absent), a compare-and-set
    (`version`: it must be at that version; without `data` only checked, left as it is), or a plain put."""

    collection: str
    key: str
    data: Mapping[str, Any] | None = None
    version: int | None = None
    create: bool = False
    ttl: timedelta | None = None

    @property
    def mode(self) -> str:
        if self.create:
            return "create"
        if self.version is None:
            return "put"
        return "replace" if self.data is not None else "check"


class StateStore(Protocol):
    """A document store with atomic create and compare-and-set; expired documents read as absent.

    Every operation is one round trip to the store (`create` over an expired document excepted), which
    is what `make bench` counts."""

    def get(self, collection: str, key: str) -> Document | None: ...

    def create(
        self, collection: str, key: str, data: Mapping[str, Any], ttl: timedelta | None = None
    ) -> bool:
        """Store `data` unless the key exists (and has not expired); True if this call created it."""
        ...

    def replace(
        self,
        collection: str,
        key: str,
        data: Mapping[str, Any],
        expected_version: int,
        ttl: timedelta | None = None,
    ) -> bool:
        """Overwrite only if the stored version is still `expected_version`; True on success."""
        ...

    def compare_and_set(
        self,
        collection: str,
        key: str,
        data: Mapping[str, Any],
        expected_version: int | None,
        ttl: timedelta | None = None,
    ) -> int | None:
        """`create` (`expected_version` None) or `replace`, returning the version written (None: refused),
        so the next compare-and-set on the document needs no read."""
        ...

    def put(self, collection: str, key: str, data: Mapping[str, Any], ttl: timedelta | None = None) -> None:
        """Store `data` whatever is there."""
        ...

    def get_many(self, documents: Sequence[tuple[str, str]]) -> list[Document | None]:
        """Several documents (collection, key) in one round trip, in the order asked."""
        ...

    def commit(self, writes: Sequence[Write]) -> bool:
        """All the writes or none, in one round trip; False when a write's condition did not hold (an
        expired document the store still holds counts as present: the caller takes its slower path)."""
        ...

    def delete(self, collection: str, key: str) -> None: ...

    def keys(self, collection: str, prefix: str, limit: int = 1000) -> list[str]:
        """Keys of the collection that start with `prefix` (a parent's records, to erase them), sorted;
        expired documents may be among them."""
        ...

    def due(self, collection: str, until: float, limit: int = 100) -> list[tuple[str, Document]]:
        """Documents whose data holds a numeric `due_at` (epoch seconds) at or before `until`, earliest
        first: the outbox's work list. A document leaves it when written without `due_at`."""
        ...


class StoreConflict(Exception):
    """A compare-and-set kept losing to concurrent writers."""


def update_document(
    store: StateStore,
    collection: str,
    key: str,
    change: Callable[[dict[str, Any] | None], dict[str, Any] | None],
    attempts: int = 10,
    ttl: timedelta | None = None,
) -> dict[str, Any] | None:
    """Read-modify-write with retries on concurrent change; `change` returns None to write nothing.

    Losers of a race pause a few random milliseconds, so a crowd of writers on one document spreads out
    instead of colliding again in lockstep."""
    for attempt in range(attempts):
        current = store.get(collection, key)
        new = change(dict(current.data) if current else None)
        if new is None:
            return current.data if current else None
        done = (
            store.create(collection, key, new, ttl=ttl)
            if current is None
            else store.replace(collection, key, new, current.version, ttl=ttl)
        )
        if done:
            return new
        time.sleep(random.uniform(0, 0.005 * min(attempt + 1, 10)))
    raise StoreConflict(f"{collection}/{key} kept changing")


# ---- CRM -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CrmRecord:
    """A lead's row as the sheet has it now (managers edit it)."""

    values: dict[str, str]

    @property
    def status(self) -> str:
        return self.values.get("status", "").strip()


@dataclass(frozen=True)
class LogEntry:
    time: datetime
    lead_id: str
    event: str
    details: str = ""


class CrmUnavailable(Exception):
    """The sheet could not be reached after the retries: try again later, the lead is kept in the store."""


@dataclass(frozen=True)
class RowChange:
    """One lead's row brought up to date: `values` on its existing row, or `new_row` appended."""

    lead_id: str
    values: Mapping[str, CellValue]
    new_row: Mapping[str, CellValue]


class Crm(Protocol):
    def read_lead(self, lead_id: str) -> CrmRecord | None:
        """The lead's row, found by `lead_id`, or None."""
        ...

    def write_lead(
        self, lead_id: str, values: Mapping[str, CellValue], new_row: Mapping[str, CellValue]
    ) -> CrmRecord | None:
        """Update `values` in the lead's row, or append `new_row` if there is none; returns the row before."""
        ...

    def write_rows(
        self, changes: Sequence[RowChange], log: Sequence[LogEntry] = ()
    ) -> dict[str, CrmRecord | None]:
        """Many leads, and Log rows, in a few requests (the batched writer); for each lead its row's
        `status` before the write (None: the row was appended). A lead appears at most once in `changes`."""
        ...

    def append_log(self, entries: Sequence[LogEntry]) -> None: ...

    def read_all(self) -> list[CrmRecord]:
        """Every row of the Leads sheet, as managers left it."""
        ...

    def replace_sheet(self, title: str, rows: Sequence[Sequence[CellValue]]) -> None:
        """Make the sheet `title` (added if missing) hold exactly `rows`: a report the bot owns."""
        ...


# ---- scheduling ----------------------------------------------------------------------------------
class Scheduler(Protocol):
    """Delayed calls of the task handlers; a job's target, queue and task name come from its model."""

    def schedule(self, job: Job, run_at: datetime | None = None) -> bool:
        """Enqueue; False when a job of that name exists already (or ran within the last hour)."""
        ...

    def cancel(self, job: Job) -> bool:
        """Delete the pending job; False when there was none."""
        ...

    def cancel_lead(self, lead_id: str) -> int:
        """Delete every pending job of the lead (their task names start with its id); how many."""
        ...


# ---- messaging -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    html: str
    text: str
    idempotency_key: str
    tags: dict[str, str] = field(default_factory=dict)


class MailerError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Send once per idempotency key; returns the provider's id; raises MailerError."""
        ...


class NotifyError(Exception):
    """The chat message could not be delivered. `blocked`: the chat refuses the bot (403: blocked by the
    user, deactivated), so trying again is pointless; `retry_after`: Telegram's flood wait, in seconds."""

    def __init__(self, message: str, *, blocked: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.blocked = blocked
        self.retry_after = retry_after


class Notifier(Protocol):
    def notify_managers(self, text: str) -> None: ...

    def post_card(
        self, text: str, reply_markup: dict[str, Any] | None, reply_to: int | None = None
    ) -> int | None:
        """A card (or a reply to the message `reply_to`) in the managers' chat; its message_id (None:
        Telegram took it unanswered)."""
        ...

    def edit_card(self, message_id: int, text: str, reply_markup: dict[str, Any] | None) -> bool:
        """Redraw a card in place; False when it can no longer be edited (deleted, too old)."""
        ...

    def alert_developers(self, text: str) -> None: ...

    def message_parent(self, chat_id: int, text: str, reply_markup: dict[str, Any] | None = None) -> None:
        """A message to a parent's private chat, outside the bot's conversation (reminders, and replies
        the bot could not send at the time), with its keyboard as Bot API JSON."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


# ---- calendar and meetings -----------------------------------------------------------------------
class SlotTaken(Exception):
    """The slot's event changed since it was read (ETag mismatch) or is no longer free."""


class CalendarUnavailable(Exception):
    """Calendar could not be reached after the retries."""


@dataclass(frozen=True)
class Lesson:
    """A taken event of the calendar: a booked trial lesson names its lead in its description."""

    start: datetime
    summary: str
    lead_id: str | None


class Calendar(Protocol):
    def free_slots(self, start: datetime, end: datetime) -> list[Slot]:
        """Free events starting in [start, end), sorted by start."""
        ...

    def book(self, slot: Slot, summary: str, description: str) -> Slot:
        """Take the slot only if its event is still as read (If-Match); SlotTaken otherwise; the new etag."""
        ...

    def release(self, event_id: str) -> None:
        """Make the event a free slot again: the marker title, no description."""
        ...

    def lessons(self, start: datetime, end: datetime) -> list[Lesson]:
        """Events that are not free slots starting in [start, end), sorted by start: booked lessons (and
        whatever else managers put in the calendar)."""
        ...


@dataclass(frozen=True)
class Meeting:
    meeting_id: str
    join_url: str


class MeetingsUnavailable(Exception):
    """Zoom could not create/delete after its retries."""


class Meetings(Protocol):
    def create(self, topic: str, start: datetime, minutes: int) -> Meeting: ...

    def delete(self, meeting_id: str) -> None:
        """Delete the meeting; one that no longer exists is fine."""
        ...


# ---- assistant, speech and the bot's files -------------------------------------------------------
@dataclass(frozen=True)
class ChatTurn:
    """One message of the conversation sent to the model (the system prompt travels separately)."""

    role: str  # "user" or "assistant"
    content: str


class AssistantUnavailable(Exception):
    """The model gave no answer: an API error or a timeout, after the SDK's own retries."""


class Assistant(Protocol):
    def answer(self, system_prompt: str, turns: Sequence[ChatTurn]) -> str:
        """The model's reply to the last user turn; AssistantUnavailable when there is none."""
        ...


class TranscriptionFailed(Exception):
    """The audio could not be turned into text (API error, timeout, or nothing recognised)."""


class Transcriber(Protocol):
    def transcribe(self, audio: bytes, filename: str, language: str) -> str: ...


class FileUnavailable(Exception):
    """A file the parent sent could not be fetched from Telegram (too big, gone, or the API failed)."""


class BotFiles(Protocol):
    def download(self, file_id: str, max_bytes: int) -> tuple[bytes, str]:
        """The file's content and its path on Telegram's side (whose extension names the format)."""
        ...
