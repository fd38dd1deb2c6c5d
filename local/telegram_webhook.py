"""The bot's webhook, from a checkout: register it (deploys), inspect it, or poll instead of it (laptops).

    python -m local.telegram_webhook set --url https://.../tg_webhook    # what `terraform apply` runs
    python -m local.telegram_webhook info
    python -m local.telegram_webhook delete
    python -m local.telegram_webhook poll --to http://127.0.0.1:8083/    # `make dev` with a real token

The token and the webhook secret come from TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET (never from the
command line, where other users of the machine could read them), the API root from TELEGRAM_API_URL.

`poll` is for a laptop without a public URL: it deletes the webhook, fetches updates with getUpdates (long
polling) and posts each to the local tg_webhook exactly as Telegram would — same JSON, the secret header —
confirming an update only once tg_webhook answered 2xx, as Telegram redelivers until it gets one.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from typing import Any

import httpx

from shared.i18n import LANGUAGES, t

log = logging.getLogger("telegram_webhook")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]  # what tg_webhook handles; the rest is not sent at all
# Telegram too gives up on an update its webhook keeps refusing, rather than holding back all later ones.
MAX_DELIVERY_ATTEMPTS = 5


class TelegramError(RuntimeError):
    pass


class BotApi:
    def __init__(self, api_url: str, token: str, *, timeout: float = 40.0) -> None:
        self._root = f"{api_url.rstrip('/')}/bot{token}"
        self._http = httpx.Client(timeout=timeout)

    def call(self, method: str, **params: Any) -> Any:
        response = self._http.post(f"{self._root}/{method}", json=params)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not body.get("ok"):
            raise TelegramError(
                f"{method}: {response.status_code} {body.get('description', response.text[:200])}"
            )
        return body["result"]

    def close(self) -> None:
        self._http.close()


def set_webhook(api: BotApi, url: str, secret: str) -> None:
    api.call(
        "setWebhook",
        url=url,
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=False,  # updates that came in during a deploy are still answered
    )


# The menus Telegram shows beside the message field: the parents' in their private chats (in ru, and in en
# for English clients), the managers' in their group.
PARENT_COMMANDS = ("start", "language", "timezone", "privacy", "delete_me")
MANAGER_COMMANDS = ("lead", "today", "week", "stats", "forget")


def set_commands(api: BotApi, managers_chat: str | None, manager_language: str = "ru") -> None:
    for language in LANGUAGES:
        api.call(
            "setMyCommands",
            commands=_menu(PARENT_COMMANDS, language),
            scope={"type": "all_private_chats"},
            **({} if language == LANGUAGES[0] else {"language_code": language}),
        )
    if managers_chat:
        api.call(
            "setMyCommands",
            commands=_menu(MANAGER_COMMANDS, manager_language),
            scope={"type": "chat", "chat_id": managers_chat},
        )


def _menu(commands: tuple[str, ...], language: str) -> list[dict[str, str]]:
    return [{"command": name, "description": t(language, f"menu_{name}")} for name in commands]


class Poller:
    """getUpdates → POST to the local webhook, in order, each update confirmed once it was handled."""

    def __init__(
        self,
        api: BotApi,
        webhook_url: str,
        secret: str,
        *,
        poll_seconds: int = 25,
        retry_pause: float = 2.0,
        idle_pause: float = 0.5,
    ) -> None:
        self._api = api
        self._webhook_url = webhook_url
        self._secret = secret
        self._poll_seconds = poll_seconds
        self._retry_pause = retry_pause
        self._idle_pause = idle_pause
        self._http = httpx.Client(timeout=60)
        self._offset = 0
        self._failures = 0  # failed deliveries of the update at the offset
        self.stopped = threading.Event()

    def start(self) -> None:
        """getUpdates refuses to work while a webhook is set (409), and the two would fight for updates."""
        self._api.call("deleteWebhook", drop_pending_updates=False)

    def poll_once(self) -> int:
        """One getUpdates round; returns how many updates tg_webhook accepted."""
        started = time.monotonic()
        updates = self._api.call(
            "getUpdates", offset=self._offset, timeout=self._poll_seconds, allowed_updates=ALLOWED_UPDATES
        )
        if not updates and time.monotonic() - started < self._idle_pause:
            self.stopped.wait(self._idle_pause)  # a server that does not hold the request (a fake)
        delivered = 0
        for update in updates:
            if self._deliver(update):
                delivered += 1
            else:
                self._failures += 1
                if self._failures < MAX_DELIVERY_ATTEMPTS:
                    return delivered  # not confirmed: fetched again in the next round, in order
                log.error("giving update %s up after %d attempts", update["update_id"], self._failures)
            self._failures = 0
            self._offset = update["update_id"] + 1
        return delivered

    def _deliver(self, update: dict[str, Any]) -> bool:
        try:
            response = self._http.post(
                self._webhook_url,
                content=json.dumps(update, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json", SECRET_HEADER: self._secret},
            )
        except httpx.HTTPError as exc:
            log.warning("tg_webhook unreachable: %s; retrying update %s", exc, update.get("update_id"))
            self.stopped.wait(self._retry_pause)
            return False
        if response.is_success:
            return True
        log.warning(
            "tg_webhook answered %s; retrying update %s", response.status_code, update.get("update_id")
        )
        self.stopped.wait(self._retry_pause)
        return False

    def run(self) -> None:
        self.start()
        log.info("polling Telegram for updates, delivering them to %s", self._webhook_url)
        while not self.stopped.is_set():
            try:
                self.poll_once()
            except (TelegramError, httpx.HTTPError) as exc:
                log.warning("getUpdates failed: %s", exc)
                self.stopped.wait(self._retry_pause)


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        sys.stderr.write(f"telegram_webhook: {name} is not set\n")
        raise SystemExit(2)
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    setter = commands.add_parser("set", help="register the webhook with the secret token")
    setter.add_argument("--url", required=True)
    commands.add_parser("info", help="print getWebhookInfo")
    commands.add_parser("delete", help="delete the webhook (pending updates are kept)")
    poller = commands.add_parser("poll", help="long polling, delivering each update to a local tg_webhook")
    poller.add_argument("--to", required=True, help="tg_webhook's URL")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    api = BotApi(
        os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org"), _required("TELEGRAM_BOT_TOKEN")
    )
    try:
        if args.command == "set":
            set_webhook(api, args.url, _required("TELEGRAM_WEBHOOK_SECRET"))
            log.info("webhook set to %s", args.url)
            set_commands(api, os.environ.get("MANAGER_CHAT_ID"), os.environ.get("MANAGER_LANGUAGE") or "ru")
            log.info("command menus set")
        elif args.command == "info":
            info = api.call("getWebhookInfo")
            sys.stdout.write(json.dumps(info, ensure_ascii=False, indent=2) + "\n")
        elif args.command == "delete":
            api.call("deleteWebhook", drop_pending_updates=False)
            log.info("webhook deleted")
        else:
            Poller(api, args.to, _required("TELEGRAM_WEBHOOK_SECRET")).run()
    except TelegramError as exc:
        sys.stderr.write(f"telegram_webhook: {exc}\n")
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        pass
    finally:
        api.close()


if __name__ == "__main__":
    main()
