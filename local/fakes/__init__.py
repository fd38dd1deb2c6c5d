"""HTTP-level fakes of Google Sheets v4, Resend and the Telegram Bot API, for tests and `make dev`."""

from local.fakes.base import FakeService
from local.fakes.resend import ResendFake
from local.fakes.runner import RunningFakes, start_fakes
from local.fakes.sheets import SheetsFake
from local.fakes.telegram import TelegramFake, telegram_method

__all__ = [
    "FakeService",
    "ResendFake",
    "RunningFakes",
    "SheetsFake",
    "TelegramFake",
    "start_fakes",
    "telegram_method",
]
