"""Start the Sheets, Resend and Telegram fakes together, configured from the app's environment variables.

Used by `python -m local.fakes` (the `make dev` process) and by tests that want all three in-process:

    with start_fakes({"TELEGRAM_BOT_TOKEN": "123:abc"}) as fakes:
        fakes.telegram.messages(); fakes.app_env()  # {"TELEGRAM_API_URL": ..., "SHEETS_API_URL": ..., ...}
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

from local.fakes.resend import ResendFake
from local.fakes.sheets import SheetsFake
from local.fakes.telegram import TelegramFake
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
}


@dataclass
class RunningFakes:
    """The three fakes, their servers and base URLs; `stop()` (or leaving the `with`) shuts them down."""

    sheets: SheetsFake
    resend: ResendFake
    telegram: TelegramFake
    sheets_server: ServerThread
    resend_server: ServerThread
    telegram_server: ServerThread

    @property
    def sheets_url(self) -> str:
        return self.sheets_server.url

    @property
    def resend_url(self) -> str:
        return self.resend_server.url

    @property
    def telegram_url(self) -> str:
        return self.telegram_server.url

    def app_env(self) -> dict[str, str]:
        """Variables that point the app (shared/config.py) at these fakes."""
        return {
            "SHEETS_API_URL": self.sheets_url + "/",
            "RESEND_API_URL": self.resend_url,
            "TELEGRAM_API_URL": self.telegram_url,
        }

    def reset(self) -> None:
        for fake in (self.sheets, self.resend, self.telegram):
            fake.reset()

    def stop(self) -> None:
        for fake in (self.sheets, self.resend, self.telegram):
            fake.clear_faults()  # releases hanging requests so the servers stop at once
        for server in (self.sheets_server, self.resend_server, self.telegram_server):
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
    telegram = TelegramFake(
        tokens=[_setting(env, "TELEGRAM_BOT_TOKEN")],
        username=_setting(env, "TELEGRAM_BOT_USERNAME"),
        # Local functions listen on plain http://127.0.0.1, which the real Telegram would refuse.
        allow_http_webhook=allow_http_webhook,
    )
    return sheets, resend, telegram


def start_fakes(
    env: Mapping[str, str],
    *,
    host: str = "127.0.0.1",
    sheets_port: int = 0,
    resend_port: int = 0,
    telegram_port: int = 0,
    allow_http_webhook: bool = True,
) -> RunningFakes:
    """Build the fakes from `env` and serve each on its own port (0 = a free one)."""
    sheets, resend, telegram = build_fakes(env, allow_http_webhook=allow_http_webhook)
    servers: list[ServerThread] = []
    try:
        for fake, port in ((sheets, sheets_port), (resend, resend_port), (telegram, telegram_port)):
            servers.append(fake.server(host, port).start())
    except BaseException:
        for server in servers:
            server.stop()
        raise
    running = RunningFakes(sheets, resend, telegram, *servers)
    log.info(
        "fakes: sheets %s, resend %s, telegram %s",
        running.sheets_url,
        running.resend_url,
        running.telegram_url,
    )
    return running
