"""Recording in-memory fakes of the ports, for unit tests of the flows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared.domain.leads import LEAD_COLUMNS, CellValue
from shared.ports import CrmRecord, CrmUnavailable, EmailMessage, Job, LogEntry, MailerError, NotifyError


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

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        self._call("append_log")
        self.log.extend(entries)

    def row(self, lead_id: str) -> dict[str, CellValue]:
        row = self._find(lead_id)
        assert row is not None, f"no CRM row for {lead_id}"
        return row


@dataclass
class RecordingScheduler:
    jobs: dict[str, Job] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    fail: bool = False

    def schedule(self, job: Job) -> bool:
        if self.fail:
            raise ConnectionError("cloud tasks down")
        if job.name in self.jobs:
            return False
        self.jobs[job.name] = job
        return True

    def cancel(self, target: str, name: str) -> bool:
        self.cancelled.append(name)
        return self.jobs.pop(name, None) is not None


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
    fail_next: int = 0

    def notify_managers(self, text: str) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise NotifyError("telegram down")
        self.managers.append(text)

    def alert_developers(self, text: str) -> None:
        self.developers.append(text)
