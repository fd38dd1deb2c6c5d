"""The parent's own time zone: guessed from the phone's country, asked once, changed with /timezone.

Two zones are "the same" for a parent when their clocks agree all year (Latvia's numbers map to
Europe/Bucharest, whose clock is Riga's): only a zone whose clock differs is worth a question. Pure.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalog, t

# Offered by /timezone beside the academy's and the phone's (where families of a Riga school live).
COMMON_ZONES = (
    "Europe/Riga",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Kyiv",
    "Europe/Moscow",
    "Asia/Dubai",
    "Asia/Almaty",
    "America/New_York",
)
_NAME = re.compile(r"[A-Za-z][A-Za-z_]*(/[A-Za-z][A-Za-z0-9_+-]*){1,2}")


def valid_zone(name: str) -> str | None:
    """The IANA zone `name` names (case as given, e.g. Europe/Paris), None if there is no such zone."""
    if not _NAME.fullmatch(name):
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


@lru_cache(maxsize=256)
def same_clock(first: str, second: str, year: int) -> bool:
    """Whether the two zones show the same time all through `year` and the next (checked daily)."""
    if first == second:
        return True
    a, b = ZoneInfo(first), ZoneInfo(second)
    start = datetime(year, 1, 1, 12, tzinfo=ZoneInfo("UTC"))
    return all(
        (moment := start + timedelta(days=day)).astimezone(a).utcoffset() == moment.astimezone(b).utcoffset()
        for day in range(0, 731)
    )


def guess_zone(phone: str | None, academy: str, now: datetime) -> str | None:
    """The zone of the phone's country when it is one clock and not the academy's; None otherwise (the
    academy's own clock, or a country of several zones: the parent can say with /timezone)."""
    if not phone:
        return None
    import phonenumbers
    from phonenumbers import timezone as phone_zones

    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    names = [n for n in phone_zones.time_zones_for_number(number) if valid_zone(n)]
    if not names:
        return None
    first = names[0]
    if not all(same_clock(first, other, now.year) for other in names[1:]):
        return None  # several clocks in that country: can't tell which
    if same_clock(first, academy, now.year):
        return None
    return next((n for n in names if n in COMMON_ZONES), first)


def offset_label(zone: str, now: datetime) -> str:
    """«UTC+3», «UTC−5», «UTC+5:30» at `now`."""
    offset = now.astimezone(ZoneInfo(zone)).utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def city(zone: str) -> str:
    """The place a zone is named after: Europe/New_York → New York."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def zone_city(zone: str, language: str) -> str:
    """The zone's place as people name it in `language` (the catalogs'), or the one in its id."""
    return catalog(language if language in LANGUAGES else DEFAULT_LANGUAGE).get(f"zone_city.{zone}") or city(
        zone
    )


def zone_time(zone: str, language: str) -> str:
    """The zone as people say it: «по рижскому времени», «Riga time» (never the IANA id)."""
    own = catalog(language if language in LANGUAGES else DEFAULT_LANGUAGE).get(f"zone_time.{zone}")
    return own or t(language, "zone_time_other", city=zone_city(zone, language))
