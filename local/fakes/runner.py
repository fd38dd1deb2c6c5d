"""Start the Sheets, Resend and Telegram fakes together, configured from the app's environment variables.

Used by `python -m local.fakes` (the `make dev` process) and by tests that want all three in-process:

    with start_fakes({"TELEGRAM_BOT_TOKEN": "123:abc"}) as fakes:
        fakes.telegram.messages(); fakes.app_env()  # {"TELEGRAM_API_URL": ..., "SHEETS_API_URL": ..., ...}

The Google Calendar and Zoom fakes start too when given a port (`calendar_port=0` / `zoom_port=0`: a free
one); they are configured from GOOGLE_CALENDAR_ID, ACADEMY_TIMEZONE, ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and
ZOOM_CLIENT_SECRET, and `calendar_seed_days` fills the calendar with free slots for `make dev`. So does the
OpenAI fake (`openai_port`), accepting OPENAI_API_KEY and knowing OPENAI_MODEL / OPENAI_TRANSCRIBE_MODEL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from types import TracebackType
from zoneinfo import ZoneInfo

from local.fakes.base import FakeService
from local.fakes.calendar import CalendarFake
from local.fakes.openai import DEFAULT_CHAT_MODELS, TRANSCRIPTION_MODELS, OpenAIFake
from local.fakes.resend import ResendFake
from local.fakes.sheets import SheetsFake
from local.fakes.telegram import TelegramFake
from local.fakes.zoom import ZoomFake
from local.httpserver import ServerThread

log = logging.getLogger(__name__)

# Used when a variable is missing, so `make dev` works from an empty environment.
DEFAULTS = {
    "SHEETS_SPREADSHEET_ID": "local-spreadsheet",
    "SHEETS_LEADS_SHEET": "Leads",
    "SHEETS_LOG_SHEET": "Log",
    "TELEGRAM_BOT_TOKEN": "123456789:local-fake-token",
    "TELEGRAM_BOT_USERNAME": "allin_academy_bot",
    "RESEND_API_KEY": "re_local_fake_key",
    "GOOGLE_CALENDAR_ID": "local-calendar",
    "ACADEMY_TIMEZONE": "Europe/Riga",
    "ZOOM_ACCOUNT_ID": "local-zoom-account",
    "ZOOM_CLIENT_ID": "local-zoom-client",
    "ZOOM_CLIENT_SECRET": "local-zoom-secret",
    "OPENAI_API_KEY": "sk-local-fake-key",
}

#: Start times of the free slots `calendar_seed_days` creates, in ACADEMY_TIMEZONE.
DEFAULT_SEED_TIMES = (time(11, 0), time(15, 0), time(18, 0))


@dataclass
class RunningFakes:
    """The fakes, their servers and base URLs; `stop()` (or leaving the `with`) shuts them down.

    `calendar` / `zoom` / `openai` and their servers are None unless they were started."""

    sheets: SheetsFake
    resend: ResendFake
    telegram: TelegramFake
    sheets_server: ServerThread
    resend_server: ServerThread
    telegram_server: ServerThread
    calendar: CalendarFake | None = None
    zoom: ZoomFake | None = None
    calendar_server: ServerThread | None = None
    zoom_server: ServerThread | None = None
    openai: OpenAIFake | None = None
    openai_server: ServerThread | None = None

    @property
    def sheets_url(self) -> str:
        return self.sheets_server.url

    @property
    def resend_url(self) -> str:
        return self.resend_server.url

    @property
    def telegram_url(self) -> str:
        return self.telegram_server.url

    @property
    def calendar_url(self) -> str | None:
        return self.calendar_server.url if self.calendar_server else None

    @property
    def zoom_url(self) -> str | None:
        """One server for both Zoom hosts: `/oauth/token` (zoom.us) and `/v2/...` (api.zoom.us)."""
        return self.zoom_server.url if self.zoom_server else None

    @property
    def openai_url(self) -> str | None:
        """The server root; the SDK's base URL is this + "/v1" (OPENAI_BASE_URL in `app_env()`)."""
        return self.openai_server.url if self.openai_server else None

    def app_env(self) -> dict[str, str]:
        """Variables that point the app (shared/config.py) at these fakes."""
        env = {
            "SHEETS_API_URL": self.sheets_url + "/",
            "RESEND_API_URL": self.resend_url,
            "TELEGRAM_API_URL": self.telegram_url,
        }
        if self.calendar_server is not None:
            env["CALENDAR_API_URL"] = self.calendar_server.url + "/calendar/v3/"
        if self.zoom_server is not None and self.zoom is not None:
            env["ZOOM_API_URL"] = self.zoom_server.url + self.zoom.api_prefix
            env["ZOOM_OAUTH_URL"] = self.zoom_server.url + self.zoom.oauth_path
        if self.openai_server is not None:
            env["OPENAI_BASE_URL"] = self.openai_server.url + "/v1"
        return env

    def _fakes(self) -> list[FakeService]:
        extra = [fake for fake in (self.calendar, self.zoom, self.openai) if fake is not None]
        return [self.sheets, self.resend, self.telegram, *extra]

    def reset(self) -> None:
        for fake in self._fakes():
            fake.reset()

    def stop(self) -> None:
        for fake in self._fakes():
            fake.clear_faults()  # releases hanging requests so the servers stop at once
        servers = (self.calendar_server, self.zoom_server, self.openai_server)
        extra = [server for server in servers if server is not None]
        for server in (self.sheets_server, self.resend_server, self.telegram_server, *extra):
            server.stop()

    def __enter__(self) -> RunningFakes:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _setting(env: Mapping[str, str], name: str) -> str:
    value = env.get(name) or DEFAULTS[name]
    if not env.get(name):
        log.info("fakes: %s not set, using %r", name, value)
    return value


def build_fakes(
    env: Mapping[str, str], *, allow_http_webhook: bool = True
) -> tuple[SheetsFake, ResendFake, TelegramFake]:
    """The three fakes configured from `env` (missing variables get local defaults)."""
    spreadsheet_id = _setting(env, "SHEETS_SPREADSHEET_ID")
    sheet_titles = [_setting(env, "SHEETS_LEADS_SHEET"), _setting(env, "SHEETS_LOG_SHEET")]
    sheets = SheetsFake(spreadsheets={spreadsheet_id: list(dict.fromkeys(sheet_titles))})
    resend = ResendFake(api_keys=[_setting(env, "RESEND_API_KEY")])
    # The welcome video note is sent by file_id, which Telegram accepts only for files it knows.
    video_note = env.get("WELCOME_VIDEO_NOTE_FILE_ID")
    telegram = TelegramFake(
        tokens=[_setting(env, "TELEGRAM_BOT_TOKEN")],
        username=_setting(env, "TELEGRAM_BOT_USERNAME"),
        # Local functions listen on plain http://127.0.0.1, which the real Telegram would refuse.
        allow_http_webhook=allow_http_webhook,
        files={video_note: {"file_type": "video_note", "duration": 30, "length": 240}}
        if video_note
        else None,
    )
    return sheets, resend, telegram


def build_calendar_fake(env: Mapping[str, str]) -> CalendarFake:
    """The Calendar fake with GOOGLE_CALENDAR_ID in ACADEMY_TIMEZONE (local defaults when unset)."""
    return CalendarFake(
        calendars={_setting(env, "GOOGLE_CALENDAR_ID"): _setting(env, "ACADEMY_TIMEZONE")},
    )


def build_zoom_fake(env: Mapping[str, str]) -> ZoomFake:
    """The Zoom fake for ZOOM_ACCOUNT_ID / ZOOM_CLIENT_ID / ZOOM_CLIENT_SECRET (local defaults when unset)."""
    return ZoomFake(
        _setting(env, "ZOOM_ACCOUNT_ID"),
        _setting(env, "ZOOM_CLIENT_ID"),
        _setting(env, "ZOOM_CLIENT_SECRET"),
        account_timezone=_setting(env, "ACADEMY_TIMEZONE"),
    )


def build_openai_fake(env: Mapping[str, str]) -> OpenAIFake:
    """The OpenAI fake accepting OPENAI_API_KEY; OPENAI_MODEL / OPENAI_TRANSCRIBE_MODEL are known models."""
    return OpenAIFake(
        api_keys=[_setting(env, "OPENAI_API_KEY")],
        chat_models=[*DEFAULT_CHAT_MODELS, *filter(None, [env.get("OPENAI_MODEL")])],
        transcription_models=[*TRANSCRIPTION_MODELS, *filter(None, [env.get("OPENAI_TRANSCRIBE_MODEL")])],
    )


def start_fakes(
    env: Mapping[str, str],
    *,
    host: str = "127.0.0.1",
    sheets_port: int = 0,
    resend_port: int = 0,
    telegram_port: int = 0,
    allow_http_webhook: bool = True,
    calendar_port: int | None = None,
    zoom_port: int | None = None,
    openai_port: int | None = None,
    calendar_seed_days: int = 0,
    calendar_seed_times: Sequence[time] = DEFAULT_SEED_TIMES,
    calendar_seed_marker: str = "FREE",
) -> RunningFakes:
    """Build the fakes from `env` and serve each on its own port (0 = a free one).

    Calendar, Zoom and OpenAI start only when their port is given (None = not started). `calendar_seed_days`
    > 0 adds free slots (`calendar_seed_marker` events at `calendar_seed_times`) from today on, in
    ACADEMY_TIMEZONE."""
    sheets, resend, telegram = build_fakes(env, allow_http_webhook=allow_http_webhook)
    calendar = build_calendar_fake(env) if calendar_port is not None else None
    zoom = build_zoom_fake(env) if zoom_port is not None else None
    openai = build_openai_fake(env) if openai_port is not None else None
    # Seeded before the servers start: whoever sees the calendar's port open sees its slots too.
    if calendar is not None and calendar_seed_days > 0:
        tz = _setting(env, "ACADEMY_TIMEZONE")
        slots = calendar.seed_free_slots(
            _setting(env, "GOOGLE_CALENDAR_ID"),
            datetime.now(ZoneInfo(tz)).date(),
            calendar_seed_days,
            list(calendar_seed_times),
            tz,
            marker=calendar_seed_marker,
        )
        log.info("fakes: calendar seeded with %d %r slots", len(slots), calendar_seed_marker)
    servers: list[ServerThread] = []
    calendar_server: ServerThread | None = None
    zoom_server: ServerThread | None = None
    openai_server: ServerThread | None = None
    try:
        for fake, port in ((sheets, sheets_port), (resend, resend_port), (telegram, telegram_port)):
            servers.append(fake.server(host, port).start())
        if calendar is not None and calendar_port is not None:
            calendar_server = calendar.server(host, calendar_port)
            servers.append(calendar_server.start())
        if zoom is not None and zoom_port is not None:
            zoom_server = zoom.server(host, zoom_port)
            servers.append(zoom_server.start())
        if openai is not None and openai_port is not None:
            openai_server = openai.server(host, openai_port)
            servers.append(openai_server.start())
    except BaseException:
        for server in servers:
            server.stop()
        raise
    running = RunningFakes(
        sheets,
        resend,
        telegram,
        servers[0],
        servers[1],
        servers[2],
        calendar=calendar,
        zoom=zoom,
        calendar_server=calendar_server,
        zoom_server=zoom_server,
        openai=openai,
        openai_server=openai_server,
    )
    log.info(
        "fakes: sheets %s, resend %s, telegram %s",
        running.sheets_url,
        running.resend_url,
        running.telegram_url,
    )
    if calendar is not None or zoom is not None:
        log.info("fakes: calendar %s, zoom %s", running.calendar_url, running.zoom_url)
    if openai is not None:
        log.info("fakes: openai %s", running.openai_url)
    return running
