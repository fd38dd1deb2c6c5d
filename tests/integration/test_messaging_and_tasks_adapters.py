"""The Cloud Tasks, Resend and Telegram adapters through their real SDKs against the local emulator/fakes."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, request

from local.cloud_tasks_emulator import CloudTasksEmulator, create_app
from local.fakes import ResendFake, TelegramFake
from local.httpserver import ServerThread
from shared.adapters.cloud_tasks import CloudTasksScheduler, build_tasks_client
from shared.adapters.resend_mailer import ResendMailer
from shared.adapters.telegram_notify import TelegramNotifier
from shared.domain.jobs import ChainStep, Step
from shared.ports import EmailMessage, MailerError, NotifyError

QUEUE = "projects/demo/locations/europe-west1/queues/email-chain"
INVOKER = "tasks-invoker@demo.iam.gserviceaccount.com"


class TestCloudTasksScheduler:
    @pytest.fixture
    def setup(self) -> Iterator[tuple[CloudTasksScheduler, CloudTasksEmulator, list[dict]]]:
        received: list[dict] = []
        target = Flask("target")

        @target.post("/")
        def handle() -> str:
            received.append({"headers": dict(request.headers), "body": request.get_json()})
            return "ok"

        emulator = CloudTasksEmulator(queues=[QUEUE])
        with ServerThread(create_app(emulator)) as tasks, ServerThread(target) as worker:
            scheduler = CloudTasksScheduler(
                lambda: build_tasks_client(tasks.url),
                project="demo",
                location="europe-west1",
                queues={"email_chain": "email-chain"},
                urls={"email_chain": worker.url + "/"},
                invoker_service_account=INVOKER,
            )
            yield scheduler, emulator, received
        emulator.close()

    def test_schedule_is_idempotent_by_name_and_delivers_with_oidc(self, setup) -> None:  # type: ignore[no-untyped-def]
        scheduler, emulator, received = setup
        job = ChainStep(step=Step.EMAIL1, lead_id="abc12345")
        at = datetime.now(UTC) + timedelta(minutes=30)
        assert scheduler.schedule(job, run_at=at) is True
        assert scheduler.schedule(job, run_at=at) is False  # a repeated enqueue is harmless
        assert [t["name"].rsplit("/", 1)[-1] for t in emulator.pending_tasks()] == ["abc12345-email1"]
        assert emulator.run_due() == []
        emulator.advance(30 * 60)
        [delivery] = received
        assert delivery["body"] == {"step": "email1", "lead_id": "abc12345"}
        token = delivery["headers"]["Authorization"].removeprefix("Bearer ").split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        assert claims["email"] == INVOKER and claims["aud"].startswith("http://127.0.0.1")

    def test_cancel_deletes_a_pending_task(self, setup) -> None:  # type: ignore[no-untyped-def]
        scheduler, emulator, received = setup
        job = ChainStep(step=Step.EMAIL2, lead_id="abc12345")
        scheduler.schedule(job, run_at=datetime.now(UTC) + timedelta(hours=1))
        assert scheduler.cancel(job) is True
        assert scheduler.cancel(job) is False
        emulator.advance(2 * 3600)
        assert received == []

    def test_cancel_lead_deletes_every_pending_task_of_that_lead_only(self, setup) -> None:  # type: ignore[no-untyped-def]
        scheduler, emulator, received = setup
        later = datetime.now(UTC) + timedelta(hours=1)
        for lead_id in ("abc12345", "abc123456", "fff00000"):  # one id a prefix of another's
            for step in (Step.EMAIL1, Step.EMAIL2):
                scheduler.schedule(ChainStep(step=step, lead_id=lead_id), run_at=later)
        for index in range(5):  # other leads keep theirs
            scheduler.schedule(ChainStep(step=Step.EMAIL1, lead_id=f"eee0000{index}"), run_at=later)
        assert scheduler.cancel_lead("abc12345") == 2
        assert scheduler.cancel_lead("abc12345") == 0
        left = sorted(t["name"].rsplit("/", 1)[-1] for t in emulator.pending_tasks())
        assert [n for n in left if n.startswith("abc")] == ["abc123456-email1", "abc123456-email2"]
        assert len(left) == 4 + 5


def message(key: str = "lead1-email1") -> EmailMessage:
    return EmailMessage(
        to="anna@example.com", subject="Пробный урок", html="<p>Hi</p>", text="Hi", idempotency_key=key
    )


class TestResendMailer:
    @pytest.fixture
    def fake(self) -> Iterator[tuple[ResendFake, str]]:
        resend = ResendFake(api_keys=("re_test_key",))
        with resend.server() as server:
            yield resend, server.url

    def mailer(self, url: str, key: str = "re_test_key") -> ResendMailer:
        return ResendMailer(
            key, "All In Academy <hello@allinacademy.example>", api_url=url, retries=2, sleep=lambda _: None
        )

    def test_sends_once_per_idempotency_key(self, fake) -> None:  # type: ignore[no-untyped-def]
        resend, url = fake
        mailer = self.mailer(url)
        first = mailer.send(message())
        assert mailer.send(message()) == first
        [email] = resend.sent
        assert email["to"] == ["anna@example.com"] and email["idempotency_key"] == "lead1-email1"

    def test_retries_twice_then_gives_up_as_transient(self, fake) -> None:  # type: ignore[no-untyped-def]
        resend, url = fake
        resend.add_fault(500, times=3)
        with pytest.raises(MailerError) as failure:
            self.mailer(url).send(message())
        assert failure.value.transient and len(resend.calls()) == 3

    def test_recovers_within_its_retries(self, fake) -> None:  # type: ignore[no-untyped-def]
        resend, url = fake
        resend.add_fault(503, times=2)
        self.mailer(url).send(message())
        assert len(resend.sent) == 1

    def test_wrong_key_is_permanent(self, fake) -> None:  # type: ignore[no-untyped-def]
        resend, url = fake
        with pytest.raises(MailerError) as failure:
            self.mailer(url, key="re_wrong").send(message())
        assert not failure.value.transient and len(resend.calls()) == 1


class TestTelegramNotifier:
    @pytest.fixture
    def fake(self) -> Iterator[tuple[TelegramFake, str]]:
        telegram = TelegramFake(tokens=["123:abc"])
        with telegram.server() as server:
            yield telegram, server.url

    def test_posts_plain_text_to_the_managers_chat(self, fake) -> None:  # type: ignore[no-untyped-def]
        telegram, url = fake
        notifier = TelegramNotifier(api_url=url, token="123:abc", manager_chat_id="-100200", dev_chat_id=None)
        notifier.notify_managers("Новая заявка <b>Анна</b>")  # not HTML: a name cannot break the message
        [sent] = telegram.messages("-100200")
        assert sent["text"] == "Новая заявка <b>Анна</b>"

    def test_a_card_is_posted_then_edited_in_place(self, fake) -> None:  # type: ignore[no-untyped-def]
        telegram, url = fake
        notifier = TelegramNotifier(api_url=url, token="123:abc", manager_chat_id="-100200", dev_chat_id=None)
        keyboard = {
            "inline_keyboard": [[{"text": "📞", "callback_data": "mark:called:0123456789abcdef0123"}]]
        }
        message_id = notifier.post_card("card\n\n🆕 new", keyboard)
        assert message_id is not None
        assert notifier.edit_card(message_id, "card\n\n🆕 new\n📅 booked", None)
        [card] = telegram.messages("-100200")
        assert card["message_id"] == message_id and card["text"].endswith("📅 booked")
        assert "reply_markup" not in card or card["reply_markup"] == {"inline_keyboard": []}
        assert notifier.edit_card(message_id, "card\n\n🆕 new\n📅 booked", None)  # "not modified": shown
        assert not notifier.edit_card(message_id + 50, "card", None)  # gone: the caller posts anew

    def test_a_5xx_blip_is_ridden_out_and_an_outage_is_a_notify_error(self, fake) -> None:  # type: ignore[no-untyped-def]
        telegram, url = fake
        waits: list[float] = []
        notifier = TelegramNotifier(
            api_url=url, token="123:abc", manager_chat_id="-100200", dev_chat_id=None, sleep=waits.append
        )
        telegram.add_fault(500)
        notifier.notify_managers("once")
        assert [m["text"] for m in telegram.messages("-100200")] == ["once"] and waits == [0.5]
        telegram.add_fault(500, times=100)
        with pytest.raises(NotifyError, match="500") as raised:
            notifier.notify_managers("text")
        assert not raised.value.blocked and sum(waits) <= 3.0 + 0.5
        telegram.clear_faults()
        with pytest.raises(NotifyError, match="401"):
            TelegramNotifier(
                api_url=url, token="123:wrong", manager_chat_id="-1", dev_chat_id=None
            ).notify_managers("x")

    def test_a_hang_is_taken_as_sent_and_an_unreachable_telegram_is_an_error(self, fake) -> None:  # type: ignore[no-untyped-def]
        telegram, url = fake
        notifier = TelegramNotifier(
            api_url=url, token="123:abc", manager_chat_id="-100200", dev_chat_id=None, timeout=0.3
        )
        # Telegram has the message but answers too late: it arrives anyway, so it is not sent again.
        telegram.add_fault(hang=0.6)
        notifier.notify_managers("reminder")
        assert len(telegram.calls()) == 1
        closed = TelegramNotifier(
            api_url="http://127.0.0.1:9",
            token="123:abc",
            manager_chat_id="-1",
            dev_chat_id=None,
            sleep=lambda _: None,
        )
        with pytest.raises(NotifyError, match="unreachable"):
            closed.notify_managers("never reached")

    def test_a_flood_wait_is_honoured_within_the_budget(self, fake) -> None:  # type: ignore[no-untyped-def]
        telegram, url = fake
        waits: list[float] = []
        notifier = TelegramNotifier(
            api_url=url, token="123:abc", manager_chat_id="-100200", dev_chat_id=None, sleep=waits.append
        )
        telegram.add_fault(429, retry_after=2)
        notifier.notify_managers("after the wait")
        assert waits == [2.0] and len(telegram.messages("-100200")) == 1
        telegram.add_fault(429, retry_after=30)
        with pytest.raises(NotifyError, match="429") as raised:
            notifier.notify_managers("too long to wait here")
        assert raised.value.retry_after == 30 and waits == [2.0]  # left to the outbox, not slept on

    def test_a_parent_who_blocked_the_bot_is_a_permanent_error(self, fake) -> None:  # type: ignore[no-untyped-def]
        telegram, url = fake
        telegram.block_chat(4242)
        waits: list[float] = []
        notifier = TelegramNotifier(
            api_url=url, token="123:abc", manager_chat_id="-100200", dev_chat_id=None, sleep=waits.append
        )
        with pytest.raises(NotifyError, match="403") as raised:
            notifier.message_parent(4242, "reminder")
        assert raised.value.blocked and waits == []

    def test_developer_alerts_go_to_the_managers_without_a_developers_chat(self, fake) -> None:  # type: ignore[no-untyped-def]
        telegram, url = fake
        TelegramNotifier(
            api_url=url, token="123:abc", manager_chat_id="-100200", dev_chat_id=None
        ).alert_developers("effects failing")
        assert [m["text"] for m in telegram.messages("-100200")] == ["effects failing"]
