"""`python -m local.telegram_webhook`: registering the webhook (deploys) and long polling (laptops), against
the Telegram fake and a recording stand-in for tg_webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from local.fakes import TelegramFake
from local.httpserver import ServerThread
from local.telegram_webhook import MAX_DELIVERY_ATTEMPTS, SECRET_HEADER, BotApi, Poller, main, set_webhook

TOKEN = "123456:poller-test"
SECRET = "webhook-secret-1"


class Receiver:
    """tg_webhook's stand-in: records what it gets; answers the statuses queued in `fail_with` first."""

    def __init__(self) -> None:
        self.received: list[tuple[int, str]] = []  # (update_id, secret header)
        self.fail_with: list[int] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        update = json.loads(request.get_data())
        self.received.append((update["update_id"], request.headers.get(SECRET_HEADER, "")))
        status = self.fail_with.pop(0) if self.fail_with else 200
        return Response("{}", status=status, mimetype="application/json")(environ, start_response)


@pytest.fixture
def telegram() -> Iterator[tuple[TelegramFake, BotApi, str]]:
    fake = TelegramFake(tokens=[TOKEN])
    with fake.server() as server:
        api = BotApi(server.url, TOKEN, timeout=5)
        yield fake, api, server.url
        api.close()


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    app = Receiver()
    with ServerThread(app) as server:
        yield app, server.url + "/"


def test_set_registers_the_url_secret_and_update_types(telegram) -> None:  # type: ignore[no-untyped-def]
    fake, api, _ = telegram
    set_webhook(api, "https://europe-west1-demo.cloudfunctions.net/tg_webhook", SECRET)
    info = api.call("getWebhookInfo")
    assert info["url"] == "https://europe-west1-demo.cloudfunctions.net/tg_webhook"
    assert info["allowed_updates"] == ["message", "callback_query"]
    assert fake.webhook.secret_token == SECRET


def test_the_command_reads_secrets_from_the_environment_only(telegram, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    fake, _, url = telegram
    monkeypatch.setenv("TELEGRAM_API_URL", url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["set", "--url", "https://example.org/tg_webhook"])
    assert exit_info.value.code == 2 and "TELEGRAM_WEBHOOK_SECRET is not set" in capsys.readouterr().err
    assert fake.webhook.url == ""
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    main(["set", "--url", "https://example.org/tg_webhook"])
    assert fake.webhook.url == "https://example.org/tg_webhook"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:wrong")
    with pytest.raises(SystemExit) as exit_info:
        main(["info"])
    assert exit_info.value.code == 1 and "401" in capsys.readouterr().err


def test_polling_delivers_in_order_with_the_secret_and_retries_until_accepted(telegram, receiver) -> None:  # type: ignore[no-untyped-def]
    fake, api, _ = telegram
    app, webhook_url = receiver
    set_webhook(api, "https://example.org/tg_webhook", SECRET)  # as a deploy left it
    poller = Poller(api, webhook_url, SECRET, retry_pause=0, idle_pause=0)
    poller.start()
    assert fake.webhook.url == ""  # getUpdates would be refused (409) while it is set
    parent = fake.user(901)
    first, second = fake.text_update(parent, "первое"), fake.text_update(parent, "второе")
    fake.deliver(first)
    fake.deliver(second)  # no webhook: both wait for getUpdates
    app.fail_with = [503]  # tg_webhook is busy with the first one
    assert poller.poll_once() == 0
    assert poller.poll_once() == 2
    ids = [first["update_id"], second["update_id"]]
    assert app.received == [(ids[0], SECRET), (ids[0], SECRET), (ids[1], SECRET)]
    assert poller.poll_once() == 0 and len(app.received) == 3  # confirmed: never fetched again


def test_an_update_refused_again_and_again_is_given_up_not_blocking_the_rest(telegram, receiver) -> None:  # type: ignore[no-untyped-def]
    fake, api, _ = telegram
    app, webhook_url = receiver
    poller = Poller(api, webhook_url, SECRET, retry_pause=0, idle_pause=0)
    poller.start()
    parent = fake.user(902)
    broken, next_one = fake.text_update(parent, "сломанное"), fake.text_update(parent, "следующее")
    fake.deliver(broken)
    fake.deliver(next_one)
    app.fail_with = [400] * MAX_DELIVERY_ATTEMPTS
    rounds = [poller.poll_once() for _ in range(MAX_DELIVERY_ATTEMPTS)]
    assert rounds == [0] * (MAX_DELIVERY_ATTEMPTS - 1) + [1]  # the last round gives up, then delivers
    assert [update_id for update_id, _ in app.received] == [broken["update_id"]] * MAX_DELIVERY_ATTEMPTS + [
        next_one["update_id"]
    ]


def test_set_gives_parents_and_managers_their_command_menus(telegram, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fake, api, url = telegram
    for name, value in {
        "TELEGRAM_API_URL": url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "MANAGER_CHAT_ID": "-1001000000001",
        "MANAGER_LANGUAGE": "en",
    }.items():
        monkeypatch.setenv(name, value)
    main(["set", "--url", "https://example.org/tg_webhook"])
    private = api.call("getMyCommands", scope={"type": "all_private_chats"})
    english = api.call("getMyCommands", scope={"type": "all_private_chats"}, language_code="en")
    managers = api.call("getMyCommands", scope={"type": "chat", "chat_id": "-1001000000001"})
    assert [c["command"] for c in private] == ["start", "language", "timezone", "privacy", "delete_me"]
    assert private[4]["description"] == "Удалить мои данные" and english[4]["description"] == "Delete my data"
    assert [(c["command"], c["description"]) for c in managers] == [
        ("lead", "A lead's card: phone, email or ID"),
        ("today", "Today's lessons"),
        ("week", "This week's lessons"),
        ("stats", "The funnel: leads, bot, bookings, attendance"),
        ("forget", "Delete a lead's data (at the parent's request)"),
    ]
    assert api.call("getMyCommands") == []  # groups other than the managers' get no menu
