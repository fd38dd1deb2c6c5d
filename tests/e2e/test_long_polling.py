"""`make dev` with a real bot token: no public URL, so the runner polls Telegram and hands each update to
the local tg_webhook as Telegram would. Telegram is the fake here, reached as if it were the real API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local.processes import firestore_emulator_available
from local.run import Ports, Stack, start_stack
from tests.conftest import require

REAL_LOOKING_TOKEN = "7012345678:AAH-real-looking-token-for-the-test"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require(
        firestore_emulator_available(),
        "the Firestore emulator (gcloud components install cloud-firestore-emulator)",
    )
    ports = Ports.free()
    running = start_stack(
        ports=ports,
        store="firestore",
        overrides={
            "APP_ENV": "test",
            "TELEGRAM_BOT_TOKEN": REAL_LOOKING_TOKEN,  # not the local dummy: the runner treats it as real
            "TELEGRAM_API_URL": f"http://127.0.0.1:{ports.telegram}",  # ... and this is where "Telegram" is
        },
        log_dir=Path(tmp_path_factory.mktemp("logs")),
        functions=("tg_webhook",),
    )
    yield running
    running.stop()


def test_updates_reach_tg_webhook_by_long_polling(stack: Stack) -> None:
    assert "telegram" in stack.real and "telegram-poller" in stack.services
    telegram = stack.fakes_url["telegram"]
    with httpx.Client(timeout=10) as http:
        info = http.post(f"{telegram}/bot{REAL_LOOKING_TOKEN}/getWebhookInfo").json()["result"]
        assert info["url"] == ""  # nothing registered: the poller fetches
        sent = http.post(
            f"{telegram}/_fake/updates", json={"kind": "command", "user_id": 4242, "command": "/start"}
        ).json()
        assert sent["webhook_status"] == 0  # not pushed: it waits for getUpdates
        deadline = time.monotonic() + 30
        messages: list[dict] = []
        while not messages and time.monotonic() < deadline:
            time.sleep(0.2)
            messages = http.get(f"{telegram}/_fake/messages", params={"chat_id": 4242}).json()
        assert messages and "All In Academy" in messages[0]["text"]
