"""JSON logs for Cloud Logging (one object per line: severity, message, context) with personal data masked."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Seven or more digits, possibly split by spaces, dashes or brackets: phone numbers and chat ids of people.
# Not inside a word: an id of ours that starts with digits ("12345678abcdef") is not a phone number.
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\s()-]{5,}\d(?!\w)")
# Context keys are masked by what they are, not by their shape. Personal data: masked whatever it looks like.
_PERSONAL_KEYS = {
    "name",
    "phone",
    "email",
    "text",
    "tg_username",
    "username",
    "first_name",
    "last_name",
    "contact",
}
# People's Telegram ids: the last digits kept, enough to tell two parents apart in one incident.
_PERSON_ID_KEYS = {"chat_id", "user_id", "tg_id", "from_id"}
# Identifiers and names of our own making (lead_id, booking_id, update_id, task names, steps, outcomes):
# never personal, and they must stay readable to trace a lead, even one whose id starts with digits.
_SYSTEM_KEYS = {"task", "step", "kind", "event", "outcome", "operation", "verdict", "violation"}
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def mask_email(value: str) -> str:
    return _EMAIL.sub(r"\1***@\2", value)


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return f"***{digits[-3:]}" if len(digits) >= 3 else "***"


def scrub(value: str) -> str:
    """Mask every email address and phone-like number inside free text."""
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), mask_email(value))


def _is_system_key(key: str) -> bool:
    return key in _SYSTEM_KEYS or (key.endswith("_id") and key not in _PERSON_ID_KEYS)


def _clean(key: str, value: Any) -> Any:
    if value in (None, ""):
        return value
    if key in _PERSONAL_KEYS:
        return "***"
    if key in _PERSON_ID_KEYS and isinstance(value, (int, str)):
        return mask_phone(str(value))
    if _is_system_key(key) and isinstance(value, (int, str)):
        return value
    if isinstance(value, str):  # free text (reasons, details): whatever looks like a contact is masked
        return scrub(value)
    if isinstance(value, dict):
        return {k: _clean(k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(key, v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    """Formats records the way Cloud Logging parses structured stdout."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": "WARNING" if record.levelname == "WARN" else record.levelname,
            "message": scrub(record.getMessage()),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = _clean(key, value)
        if record.exc_info:
            entry["stack_trace"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send the root logger's records to stdout as JSON, once per process."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level)
    # Client libraries log request URLs and bodies at DEBUG/INFO; keep them quiet.
    # (httpx2: the HTTP client the openai SDK ships with.)
    for noisy in ("httpx", "httpx2", "httpcore", "googleapiclient", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
