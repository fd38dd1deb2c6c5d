"""How a number looks under its cell's number format (FORMATTED_VALUE), the en_US locale's way: date-time
serials (days since 1899-12-30, the fraction the time of day) through a date pattern such as
`yyyy-mm-dd hh:mm`, fixed decimals through `0.00`; anything else as the plain number."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

DATE_TYPES = ("DATE", "TIME", "DATE_TIME")
EPOCH = datetime(1899, 12, 30)
# en_US defaults when a date format names its type but no pattern.
_DEFAULT_PATTERNS = {"DATE": "M/d/yyyy", "TIME": "h:mm:ss am/pm", "DATE_TIME": "M/d/yyyy H:mm:ss"}
_TOKEN = re.compile(
    r'"[^"]*"|\\.|yyyy|yy|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|HH|H|ss|s|am/pm|AM/PM|a/p|.', re.IGNORECASE
)
_MONTHS = "January February March April May June July August September October November December".split()
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


def is_date(number_format: dict[str, Any] | None) -> bool:
    return bool(number_format) and number_format.get("type") in DATE_TYPES  # type: ignore[union-attr]


def serial_to_datetime(value: float) -> datetime:
    return EPOCH + timedelta(seconds=round(value * 86400))


def render_number(value: int | float, number_format: dict[str, Any] | None, plain: str) -> str:
    """`value` under `number_format`; `plain` when the format does not change how it looks."""
    if not number_format:
        return plain
    if is_date(number_format):
        pattern = number_format.get("pattern") or _DEFAULT_PATTERNS[number_format["type"]]
        return _date(serial_to_datetime(float(value)), pattern)
    pattern = number_format.get("pattern") or ""
    if re.fullmatch(r"0(\.0+)?", pattern):
        decimals = len(pattern) - 2 if "." in pattern else 0
        return f"{value:.{decimals}f}"
    return plain


def _date(moment: datetime, pattern: str) -> str:
    tokens = _TOKEN.findall(pattern)
    twelve = any(t.lower() in ("am/pm", "a/p") for t in tokens)
    out = []
    for i, token in enumerate(tokens):
        low = token.lower()
        if token.startswith('"'):
            out.append(token[1:-1])
        elif token.startswith("\\"):
            out.append(token[1:])
        elif low in ("m", "mm") and _is_minutes(tokens, i):
            out.append(f"{moment.minute:02d}" if low == "mm" else str(moment.minute))
        else:
            out.append(_field(moment, token, low, twelve))
    return "".join(out)


def _is_minutes(tokens: list[str], index: int) -> bool:
    """`m`/`mm` are minutes after an hour or before seconds, months otherwise (the Sheets rule)."""
    before, after = _fields(tokens[:index]), _fields(tokens[index + 1 :])
    return bool(before and before[-1] in ("h", "hh")) or bool(after and after[0] in ("s", "ss"))


def _fields(tokens: list[str]) -> list[str]:
    """The date and time fields among `tokens` (not the literals), lower-cased."""
    return [t.lower() for t in tokens if re.fullmatch(r"[a-z/]+", t, re.IGNORECASE)]


def _field(moment: datetime, token: str, low: str, twelve: bool) -> str:
    hour = (moment.hour % 12 or 12) if twelve else moment.hour
    values = {
        "yyyy": f"{moment.year:04d}",
        "yy": f"{moment.year % 100:02d}",
        "mmmm": _MONTHS[moment.month - 1],
        "mmm": _MONTHS[moment.month - 1][:3],
        "mm": f"{moment.month:02d}",
        "m": str(moment.month),
        "dddd": _DAYS[moment.weekday()],
        "ddd": _DAYS[moment.weekday()][:3],
        "dd": f"{moment.day:02d}",
        "d": str(moment.day),
        "hh": f"{hour:02d}",
        "h": str(hour),
        "ss": f"{moment.second:02d}",
        "s": str(moment.second),
        "am/pm": "AM" if moment.hour < 12 else "PM",
        "a/p": "A" if moment.hour < 12 else "P",
    }
    return values.get(low, token)
