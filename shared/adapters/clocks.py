"""The Clock port: the system's clock in the cloud, the Cloud Tasks emulator's in local runs."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class EmulatorClock:
    """Local runs: the Cloud Tasks emulator's clock, so a task scheduled "in 24 h" is due when the
    emulator's time has been moved 24 h on, whatever was moved before."""

    def __init__(self, url: str) -> None:
        self._url = url

    def now(self) -> datetime:
        import httpx

        seconds = httpx.get(self._url, timeout=5).json()["epochSeconds"]
        return datetime.fromtimestamp(seconds, UTC)
