"""Recording in-memory fakes of the ports, for unit tests of the flows."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain.booking import Slot
from shared.domain.jobs import Job
from shared.domain.leads import LEAD_COLUMNS, CellValue
from shared.ports import (
    AssistantUnavailable,
    CalendarUnavailable,
    ChatTurn,
    CrmRecord,
    CrmUnavailable,
    EmailMessage,
    FileUnavailable,
    LogEntry,
    MailerError,
    Meeting,
    MeetingsUnavailable,
    NotifyError,
    RowChange,
    SlotTaken,
    TranscriptionFailed,
)


@dataclass
class FixedClock:
    current: datetime = field(default_factory=lambda: datetime(2026, 11, 24, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@dataclass
class RecordingCrm:
    rows: list[dict[str, CellValue]] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    fail_next: int = 0
    sheets: dict[str, list[list[CellValue]]] = field(default_factory=dict)  # replace_sheet's reports

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.fail_next:
            self.fail_next -= 1
            raise CrmUnavailable("sheets down")

    def _find(self, lead_id: str) -> dict[str, CellValue] | None:
        return next((row for row in self.rows if row.get("lead_id") == lead_id), None)

    def read_lead(self, lead_id: str) -> CrmRecord | None:
        self._call("read_lead")
        row = self._find(lead_id)
        return CrmRecord({k: str(v) for k, v in row.items()}) if row else None

    def write_lead(
        self, lead_id: str, values: Mapping[str, CellValue], new_row: Mapping[str, CellValue]
    ) -> CrmRecord | None:
        self._call("write_lead")
        row = self._find(lead_id)
        if row is None:
            self.rows.append({name: new_row.get(name, "") for name in LEAD_COLUMNS})
            return None
        before = CrmRecord({k: str(v) for k, v in row.items()})
        row.update(values)
        return before

    def write_rows(
        self, changes: Sequence[RowChange], log: Sequence[LogEntry] = ()
    ) -> dict[str, CrmRecord | None]:
        self._call("write_rows")
        self.log.extend(log)  # in the same request as the rows: both land, or neither
        before: dict[str, CrmRecord | None] = {}
        for change in changes:
            row = self._find(change.lead_id)
            if row is None:
                self.rows.append({name: change.new_row.get(name, "") for name in LEAD_COLUMNS})
                before[change.lead_id] = None
            else:
                before[change.lead_id] = CrmRecord(
                    {"lead_id": change.lead_id, "status": str(row.get("status", ""))}
                )
                row.update(change.values)
        return before

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        self._call("append_log")
        self.log.extend(entries)

    def read_all(self) -> list[CrmRecord]:
        self._call("read_all")
        return [CrmRecord({k: str(v) for k, v in row.items()}) for row in self.rows]

    def replace_sheet(self, title: str, rows: Sequence[Sequence[CellValue]]) -> None:
        self._call("replace_sheet")
        self.sheets[title] = [list(row) for row in rows]

    def row(self, lead_id: str) -> dict[str, CellValue]:
        row = self._find(lead_id)
        assert row is not None, f"no CRM row for {lead_id}"
        return row


@dataclass(frozen=True)
class ScheduledJob:
    """A job as the queue holds it: the model, when it runs, and its payload as sent on the wire."""

    job: Job
    run_at: datetime | None

    @property
    def target(self) -> str:
        return self.job.target.value

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.job.model_dump_json()))


@dataclass
class RecordingScheduler:
    jobs: dict[str, ScheduledJob] = field(default_factory=dict)  # by task name
    cancelled: list[str] = field(default_factory=list)  # task names
    fail: bool = False

    def schedule(self, job: Job, run_at: datetime | None = None) -> bool:
        if self.fail:
            raise ConnectionError("cloud tasks down")
        if job.task_name() in self.jobs:
            return False
        self.jobs[job.task_name()] = ScheduledJob(job, run_at)
        return True

    def cancel(self, job: Job) -> bool:
        self.cancelled.append(job.task_name())
        return self.jobs.pop(job.task_name(), None) is not None

    def cancel_lead(self, lead_id: str) -> int:
        if self.fail:
            raise ConnectionError("cloud tasks down")
        names = [name for name in self.jobs if name.startswith(f"{lead_id}-")]
        for name in names:
            self.cancel(self.jobs[name].job)
        return len(names)


@dataclass
class RecordingMailer:
    sent: list[EmailMessage] = field(default_factory=list)
    failures: list[MailerError] = field(default_factory=list)

    def send(self, message: EmailMessage) -> str:
        if self.failures:
            raise self.failures.pop(0)
        if any(m.idempotency_key == message.idempotency_key for m in self.sent):
            return "replayed"
        self.sent.append(message)
        return f"email-{len(self.sent)}"


@dataclass
class RecordingNotifier:
    managers: list[str] = field(default_factory=list)
    developers: list[str] = field(default_factory=list)
    parents: list[tuple[int, str]] = field(default_factory=list)
    markups: list[dict[str, Any] | None] = field(default_factory=list)
    fail_next: int = 0
    blocked: set[int] = field(default_factory=set)  # chats that blocked the bot (403)
    cards: dict[int, str] = field(default_factory=dict)  # lead cards as they look now, by message id
    replies_to: dict[int, int | None] = field(default_factory=dict)  # what each posted card replies to

    def notify_managers(self, text: str) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise NotifyError("telegram down")
        self.managers.append(text)

    def alert_developers(self, text: str) -> None:
        self.developers.append(text)

    def post_card(
        self, text: str, reply_markup: dict[str, Any] | None, reply_to: int | None = None
    ) -> int | None:
        self.notify_managers(text)
        self.cards[len(self.managers)] = text
        self.replies_to[len(self.managers)] = reply_to
        return len(self.managers)

    def edit_card(self, message_id: int, text: str, reply_markup: dict[str, Any] | None) -> bool:
        if message_id not in self.cards:
            return False
        self.cards[message_id] = text
        return True

    def message_parent(self, chat_id: int, text: str, reply_markup: dict[str, Any] | None = None) -> None:
        if chat_id in self.blocked:
            raise NotifyError(
                "telegram sendMessage 403: Forbidden: bot was blocked by the user", blocked=True
            )
        if self.fail_next:
            self.fail_next -= 1
            raise NotifyError("telegram down")
        self.parents.append((chat_id, text))
        self.markups.append(reply_markup)


@dataclass
class RecordingCalendar:
    """Free slots in memory; `book` refuses a stale etag like Calendar's If-Match."""

    events: dict[str, dict] = field(default_factory=dict)
    fail: bool = False
    list_calls: int = 0

    def add_slot(self, event_id: str, start: datetime, minutes: int = 60) -> None:
        self.events[event_id] = {
            "start": start,
            "end": start + timedelta(minutes=minutes),
            "etag": "1",
            "summary": "FREE",
        }

    def free_slots(self, start: datetime, end: datetime) -> list[Slot]:
        self.list_calls += 1
        if self.fail:
            raise CalendarUnavailable("calendar down")
        return sorted(
            (
                Slot(event_id, e["start"], e["end"], e["etag"])
                for event_id, e in self.events.items()
                if e["summary"].startswith("FREE") and start <= e["start"] < end
            ),
            key=lambda s: s.start,
        )

    def book(self, slot: Slot, summary: str, description: str) -> Slot:
        event = self.events[slot.event_id]
        if event["etag"] != slot.etag or not event["summary"].startswith("FREE"):
            raise SlotTaken(slot.event_id)
        event.update(summary=summary, description=description, etag=str(int(event["etag"]) + 1))
        return Slot(slot.event_id, slot.start, slot.end, event["etag"])

    def release(self, event_id: str) -> None:
        if self.fail:
            raise CalendarUnavailable("calendar down")
        event = self.events[event_id]
        event.update(summary="FREE", description="", etag=str(int(event["etag"]) + 1))

    def edit(self, event_id: str, summary: str) -> None:
        """A manager edits the event in the Calendar UI."""
        event = self.events[event_id]
        event.update(summary=summary, etag=str(int(event["etag"]) + 1))


@dataclass
class RecordingMeetings:
    created: dict[str, Meeting] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    down: bool = False

    def create(self, topic: str, start: datetime, minutes: int) -> Meeting:
        if self.down:
            raise MeetingsUnavailable("zoom down")
        self.topics.append(topic)
        meeting_id = str(80000000000 + len(self.created))
        meeting = Meeting(meeting_id, f"https://zoom.us/j/{meeting_id}?pwd=abc")
        self.created[meeting_id] = meeting
        return meeting

    def delete(self, meeting_id: str) -> None:
        self.deleted.append(meeting_id)


@dataclass
class ScriptedAssistant:
    """The model: answers from `answers` (then a default), records every request, fails on demand."""

    answers: list[str] = field(default_factory=list)
    requests: list[tuple[str, list[ChatTurn]]] = field(default_factory=list)
    fail_next: int = 0

    def answer(self, system_prompt: str, turns: Sequence[ChatTurn]) -> str:
        self.requests.append((system_prompt, list(turns)))
        if self.fail_next:
            self.fail_next -= 1
            raise AssistantUnavailable("InternalServerError 500")
        return self.answers.pop(0) if self.answers else "Пробный урок длится 60 минут."


@dataclass
class ScriptedSpeech:
    """Telegram's files and the transcription model together: what a voice note "says"."""

    transcripts: list[str] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    transcribed: list[tuple[str, str]] = field(default_factory=list)  # (filename, language)
    file_path: str = "voice/file_7.oga"
    fail_download: bool = False
    fail_transcription: bool = False

    def download(self, file_id: str, max_bytes: int) -> tuple[bytes, str]:
        self.downloads.append(file_id)
        if self.fail_download:
            raise FileUnavailable("getFile 400: file is too big")
        return b"OggS voice", self.file_path

    def transcribe(self, audio: bytes, filename: str, language: str) -> str:
        self.transcribed.append((filename, language))
        if self.fail_transcription:
            raise TranscriptionFailed("InternalServerError 500")
        return self.transcripts.pop(0) if self.transcripts else ""
