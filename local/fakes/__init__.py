"""HTTP-level fakes of Google Sheets v4, Google Calendar v3, Resend, Telegram Bot API, Zoom and OpenAI, for
tests and `make dev`."""

from local.fakes.base import FakeService
from local.fakes.calendar import CalendarFake
from local.fakes.openai import OpenAIFake
from local.fakes.resend import ResendFake
from local.fakes.runner import RunningFakes, start_fakes
from local.fakes.sheets import SheetsFake
from local.fakes.telegram import TelegramFake, telegram_method
from local.fakes.zoom import ZoomFake

__all__ = [
    "CalendarFake",
    "FakeService",
    "OpenAIFake",
    "ResendFake",
    "RunningFakes",
    "SheetsFake",
    "TelegramFake",
    "ZoomFake",
    "start_fakes",
    "telegram_method",
]
