"""The running system: the stack without functions, the functions started on it, and their fakes."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from local.bench.answers import is_created, is_welcome, template_value, wait_for_answer
from local.bench.constants import (
    AI_BACK,
    AI_REPLY,
    ANCHOR_SOURCE,
    BARE_SOURCE,
    CONSENT,
    DAY,
    FLOOR_SOURCE,
    HALF_HOUR,
    PARENT_LANGUAGE,
    PARENT_NAME,
    SLOT_MINUTES,
    SLOTS_AHEAD,
    TELEGRAM_SECRET_HEADER,
    VOICE_NOTE,
    VOICE_SECONDS,
    BenchError,
)
from local.bench.results import Booking, CallCounts
from local.processes import REPO, Service, free_port, start_function
from local.run import Stack
from shared.domain.booking import BookingRules, day_label, local_day, time_label, when_label
from shared.flows.reminders import TEXTS as REMINDER_TEXTS
from shared.i18n import t

# ---- the running system --------------------------------------------------------------------------------


_OWN = ("bare", "floor", "anchor")  # the bench's own functions (constants.py), beside the project's


@dataclass
class Lab:
    """The stack (store, fakes, Cloud Tasks emulator) and the function processes started on top of it."""

    stack: Stack
    log_dir: Path
    cleanup: ExitStack
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    bare_source: Path = field(init=False)
    bare_port: int = field(init=False)
    floor_source: Path = field(init=False)
    floor_port: int = field(init=False)
    anchor_source: Path = field(init=False)
    anchor_port: int = field(init=False)
    _leads: int = 0
    _phone_base: int = field(default_factory=lambda: uuid.uuid4().int % 9_000_000)
    _parents: int = 0
    _updates: int = 0
    # Telegram user ids and update ids no earlier run can have used (the fake's own ids stay below 10^8).
    _user_base: int = field(default_factory=lambda: 6_000_000_000 + uuid.uuid4().int % 10**9)
    _update_base: int = field(default_factory=lambda: 200_000_000 + uuid.uuid4().int % 10**8)

    def __post_init__(self) -> None:
        self.bare_source = self.log_dir / "bare" / "main.py"
        self.bare_source.parent.mkdir(parents=True, exist_ok=True)
        self.bare_source.write_text(BARE_SOURCE)
        self.bare_port = free_port()
        self.floor_source = self.log_dir / "floor" / "main.py"
        self.floor_source.parent.mkdir(parents=True, exist_ok=True)
        self.floor_source.write_text(FLOOR_SOURCE)
        self.floor_port = free_port()
        self.anchor_source = self.log_dir / "anchor" / "main.py"
        self.anchor_source.parent.mkdir(parents=True, exist_ok=True)
        self.anchor_source.write_text(ANCHOR_SOURCE)
        self.anchor_port = free_port()
        self.cleanup.callback(lambda: self.http.close())

    @property
    def env(self) -> dict[str, str]:
        # Production reads the system clock: leave out the local emulator clock (an HTTP call per
        # "now"), which only exists so that tests can move time; the bench resets the emulator instead.
        env = {k: v for k, v in self.stack.env.items() if k != "LOCAL_CLOCK_URL"}
        # The assistant asks the OpenAI fake (with the key it accepts), never the real API.
        openai = {"OPENAI_BASE_URL": self.openai_url, "OPENAI_API_KEY": self.stack.env["OPENAI_API_KEY"]}
        return {**env, **openai, "EMAIL_CHAIN_URL": self.url("email_chain")}

    @property
    def openai_url(self) -> str:
        """The SDK's base URL for the OpenAI fake."""
        return self.stack.fakes_url["openai"] + "/v1"

    def check_openai_fake(self) -> None:
        """The OpenAI fake runs and accepts the functions' key (tg_webhook needs both since the assistant)."""
        try:
            response = self.http.get(
                f"{self.openai_url}/models", headers={"Authorization": f"Bearer {self.env['OPENAI_API_KEY']}"}
            )
        except httpx.TransportError as exc:
            raise BenchError(f"the OpenAI fake is not running at {self.openai_url}: {exc}") from exc
        if response.status_code != 200:
            raise BenchError(f"the OpenAI fake refuses the functions' key: {response.text}")

    def url(self, function: str) -> str:
        if function in _OWN:
            return f"http://127.0.0.1:{self.port(function)}/"
        return self.stack.url(function)

    def port(self, function: str) -> int:
        if function in _OWN:
            return {"bare": self.bare_port, "floor": self.floor_port, "anchor": self.anchor_port}[function]
        return int(getattr(self.stack.ports, function))

    def _source(self, function: str) -> tuple[Path, str]:
        if function == "bare":
            return self.bare_source, "hello"
        if function == "floor":
            return self.floor_source, "floor"
        if function == "anchor":
            return self.anchor_source, "anchor"
        return REPO / "functions" / function / "main.py", function

    # ---- processes ----
    def spawn(self, function: str) -> Service:
        """Start a function exactly as `start_function` does, without waiting for it."""
        source, target = self._source(function)
        framework = Path(sys.executable).parent / "functions-framework"
        command = [
            str(framework) if framework.exists() else "functions-framework",
            *("--source", str(source), "--target", target),
            *("--host", "127.0.0.1", "--port", str(self.port(function))),
        ]
        log_path = self.log_dir / f"{function}-{time.time_ns()}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=REPO,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        service = Service(function, process, self.url(function), log_path)
        self.cleanup.callback(self.stop, service)
        return service

    def start(self, function: str) -> Service:
        """Start a function and wait until its port accepts connections."""
        if function == "bare":
            service = self.spawn("bare")
            wait_for_answer(service, lambda: self.http.get(self.url("bare")), lambda r: r.text == "ok")
            return service
        service = start_function(function, self.env, self.port(function), self.log_dir)
        self.cleanup.callback(self.stop, service)
        return service

    def stop(self, service: Service) -> None:
        """Stop a function at once: gunicorn waits for open keep-alive connections, so drop ours first."""
        if service.process.poll() is None:
            self.http.close()
            self.http = httpx.Client(timeout=30)
        service.stop()

    # ---- acting ----
    def lead_form(self) -> dict[str, str]:
        """A real Tilda form for a parent never seen before (fresh tranid, email and phone)."""
        self._leads += 1
        number = (self._phone_base + self._leads) % 10_000_000
        return {
            "Name": "Анна Петрова",
            "Phone": f"+7 916 {number:07d}",
            "Email": f"parent{self._leads}.{uuid.uuid4().hex[:8]}@example.com",
            "child_age": "8",
            "tranid": f"{self._leads}:{uuid.uuid4().hex}",
            "formid": "form123456789",
            "COOKIES": "TILDAUTM=utm_source%3Dinstagram%7C%7C%7Cutm_medium%3Dcpc",
        }

    @property
    def tilda_headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Tilda-Secret": self.stack.env["TILDA_SECRET"],
        }

    def post_lead(self) -> httpx.Response:
        return self.http.post(
            self.url("tilda_webhook"), content=urlencode(self.lead_form()), headers=self.tilda_headers
        )

    def new_lead(self) -> str:
        response = self.post_lead()
        if not is_created(response):
            raise BenchError(f"tilda_webhook answered {response.status_code}: {response.text}")
        return str(response.json()["lead_id"])

    def new_parent(self) -> dict[str, Any]:
        """A Telegram user the bot has never seen (fresh id), as the `from` of their updates."""
        self._parents += 1
        return {
            "id": self._user_base + self._parents,
            "is_bot": False,
            "first_name": PARENT_NAME,
            "username": f"parent_{self._parents}",
            "language_code": PARENT_LANGUAGE,
        }

    def start_update(self, user: dict[str, Any]) -> dict[str, Any]:
        """The update Telegram posts when `user` sends /start in their private chat (fresh update_id)."""
        command = {"entities": [{"offset": 0, "length": len("/start"), "type": "bot_command"}]}
        return self.message_update(user, "/start", **command)

    def message_update(self, user: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
        """The update Telegram posts when `user` sends `text` in their private chat (fresh update_id)."""
        self._updates += 1
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        return {
            "update_id": self._update_base + self._updates,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {**chat, "username": user["username"]},
                "from": user,
                "text": text,
                **extra,
            },
        }

    @property
    def telegram_headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            TELEGRAM_SECRET_HEADER: self.stack.env["TELEGRAM_WEBHOOK_SECRET"],
        }

    def post_update(self, update: dict[str, Any]) -> httpx.Response:
        """An update straight to tg_webhook, as Telegram posts it."""
        return self.http.post(
            self.url("tg_webhook"), content=json.dumps(update), headers=self.telegram_headers
        )

    def set_webhook(self) -> None:
        """What `setWebhook` does in production: the Telegram fake now delivers updates to tg_webhook."""
        token = self.stack.env["TELEGRAM_BOT_TOKEN"]
        response = self.http.post(
            f"{self.stack.fakes_url['telegram']}/bot{token}/setWebhook",
            json={"url": self.url("tg_webhook"), "secret_token": self.stack.env["TELEGRAM_WEBHOOK_SECRET"]},
        )
        response.raise_for_status()

    def parent_sends(self, kind: str, user: dict[str, Any], **fields: Any) -> None:
        """A parent acts in Telegram: the fake builds the update and delivers it to the webhook."""
        response = self.http.post(
            f"{self.stack.fakes_url['telegram']}/_fake/updates", json={"kind": kind, "user": user, **fields}
        )
        response.raise_for_status()
        delivered = response.json()
        if delivered["webhook_status"] != 200:
            raise BenchError(
                f"tg_webhook answered {delivered['webhook_status']} to a {kind} update: "
                f"{delivered.get('webhook_error', '')}"
            )

    def register_parent(self) -> dict[str, Any]:
        """A new parent: /start → the consent button → their contact → email → name; returns the user."""
        user = self.new_parent()
        self.parent_sends("command", user, command="/start")
        self.finish_registration(user)
        return user

    def finish_registration(self, user: dict[str, Any]) -> None:
        """After the bot's welcome: the consent button → contact → email → name (the bot then offers days)."""
        messages = self.bot_messages(user["id"])
        if not is_welcome(messages):
            raise BenchError(f"tg_webhook's answer to /start: {messages}")
        self.parent_sends("callback", user, message_id=messages[-1]["message_id"], callback_data=CONSENT)
        number = (self._phone_base + self._parents) % 10_000_000
        self.parent_sends("contact", user, phone_number=f"7926{number:07d}")
        self.parent_sends("text", user, text=f"parent{self._parents}.{uuid.uuid4().hex[:8]}@example.com")
        self.parent_sends("text", user, text=PARENT_NAME)
        registered = t(PARENT_LANGUAGE, "registered", name=PARENT_NAME)
        if registered not in [m.get("text") for m in self.bot_messages(user["id"])]:
            raise BenchError(f"parent {user['id']} not registered: {self.bot_messages(user['id'])[-3:]}")

    @property
    def rules(self) -> BookingRules:
        return BookingRules(timezone=self.env.get("ACADEMY_TIMEZONE", BookingRules().timezone))

    def emulator_now(self) -> datetime:
        """The Cloud Tasks emulator's clock (the functions' clock when LOCAL_CLOCK_URL is set)."""
        response = self.http.get(f"{self.stack.tasks_url}/_emulator/now")
        response.raise_for_status()
        return datetime.fromtimestamp(float(response.json()["epochSeconds"]), UTC)

    def add_free_slots(self, count: int) -> list[datetime]:
        """A manager puts `count` free lesson slots in the calendar, an hour apart, two days ahead (so at
        least the minimum notice ahead by the emulator's clock and by the system clock alike)."""
        now = max(self.emulator_now(), datetime.now(UTC))
        first = (now + SLOTS_AHEAD).replace(minute=0, second=0, microsecond=0)
        calendar = self.stack.env["GOOGLE_CALENDAR_ID"]
        starts = [first + timedelta(hours=i) for i in range(count)]
        for start in starts:
            self.http.post(
                f"{self.stack.fakes_url['calendar']}/calendar/v3/calendars/{calendar}/events",
                json={
                    "summary": "FREE",
                    "start": {"dateTime": start.isoformat()},
                    "end": {"dateTime": (start + timedelta(minutes=SLOT_MINUTES)).isoformat()},
                },
                headers={"Authorization": "Bearer manager"},
            ).raise_for_status()
        return starts

    def keyboard_message(self, chat_id: int) -> dict[str, Any]:
        """The bot's latest message in the chat that has an inline keyboard."""
        for message in reversed(self.bot_messages(chat_id)):
            if "inline_keyboard" in message.get("reply_markup", {}):
                return message
        raise BenchError(f"no inline keyboard in chat {chat_id}: {self.bot_messages(chat_id)[-3:]}")

    def press(self, user: dict[str, Any], label: str) -> None:
        """The parent presses the button labelled exactly `label` on the bot's latest inline keyboard."""
        message = self.keyboard_message(user["id"])
        rows = message["reply_markup"]["inline_keyboard"]
        button = next((b for row in rows for b in row if b.get("text") == label), None)
        if button is None:
            raise BenchError(f"no {label!r} button in chat {user['id']}: {message}")
        self.parent_sends(
            "callback", user, message_id=message["message_id"], callback_data=button["callback_data"]
        )

    def book(self, user: dict[str, Any], start: datetime) -> Booking:
        """A registered parent, shown the day picker, books the slot starting at `start`: the day, the time,
        "Подтвердить". Returns the booking with the Zoom link the bot sent and the reminders it scheduled."""
        offered = self.keyboard_message(user["id"])
        if offered.get("text") != t(PARENT_LANGUAGE, "choose_date"):
            raise BenchError(f"no day picker in chat {user['id']}: {offered}")
        self.press(user, day_label(local_day(start, self.rules), PARENT_LANGUAGE))
        self.press(user, time_label(start, self.rules))
        before = set(self.reminder_task_names())
        self.press(user, t(PARENT_LANGUAGE, "confirm_button"))
        booked = str(self.bot_messages(user["id"])[-1].get("text", ""))
        when = when_label(start, PARENT_LANGUAGE, self.rules)
        zoom_link = template_value(booked, "booked", "zoom_link", when=when)
        if zoom_link is None:
            raise BenchError(f"parent {user['id']} not booked for {when}: {booked!r}")
        tasks = [self.task_body(name) for name in self.reminder_task_names() if name not in before]
        if sorted(task["kind"] for task in tasks) != sorted(REMINDER_TEXTS):
            raise BenchError(f"the booking of parent {user['id']} scheduled these reminders: {tasks}")
        return Booking(user["id"], start, zoom_link, tuple(tasks))

    def reminder_task_names(self) -> list[str]:
        """The lesson reminders waiting (the reminders queue also holds nudges and after-lesson tasks)."""
        queue = "/queues/" + self.stack.env["REMINDERS_QUEUE"]
        return [
            task["name"]
            for task in self.pending_tasks()
            if str(task["queue"]).endswith(queue) and "-remind" in str(task["name"])
        ]

    def nudge_task_names(self) -> list[str]:
        return [task["name"] for task in self.pending_tasks() if "/tasks/nudge-" in str(task["name"])]

    def task_body(self, name: str) -> dict[str, str]:
        """A pending task's JSON body, read through the Cloud Tasks API (FULL view)."""
        response = self.http.get(f"{self.stack.tasks_url}/v2/{name}", params={"responseView": "FULL"})
        response.raise_for_status()
        body = base64.b64decode(response.json()["httpRequest"]["body"])
        return dict(json.loads(body))

    def post_reminder(self, task: dict[str, str]) -> httpx.Response:
        """A reminder task straight to reminders, as Cloud Tasks posts it."""
        return self.http.post(self.url("reminders"), json=task, headers=self.task_headers("reminders"))

    def task_headers(self, function: str) -> dict[str, str]:
        """The OIDC token Cloud Tasks sends a task handler (signed by the emulator, which it verifies)."""
        body = {"email": self.stack.env["TASKS_INVOKER_SERVICE_ACCOUNT"], "audience": self.url(function)}
        response = self.http.post(f"{self.stack.tasks_url}/_emulator/token", json=body)
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def check_reminded(self, booking: Booking, kind: str) -> None:
        """The parent's chat ends with the reminder of that kind, with the lesson's time and Zoom link."""
        expected = t(
            PARENT_LANGUAGE,
            REMINDER_TEXTS[kind],
            when=when_label(booking.start, PARENT_LANGUAGE, self.rules),
            zoom_link=booking.zoom_link,
        )
        last = self.bot_messages(booking.chat_id)[-1].get("text")
        if last != expected:
            raise BenchError(f"no {kind} reminder in chat {booking.chat_id}; its last message: {last!r}")

    def check_welcomed(self, chat_id: int) -> None:
        messages = self.bot_messages(chat_id)
        if not is_welcome(messages):
            raise BenchError(f"tg_webhook answered /start in chat {chat_id} with: {messages}")

    def script_ai_reply(self) -> None:
        """The OpenAI fake answers AI_REPLY to every chat completion until the next reset."""
        response = self.http.post(
            f"{self.stack.fakes_url['openai']}/_fake/script", json={"reply": AI_REPLY, "times": -1}
        )
        response.raise_for_status()

    def check_assistant_answer(self, chat_id: int, text: str = AI_REPLY) -> None:
        """The bot's last message in the chat is the assistant's `text` with the "↩ Back" button."""
        last = self.bot_messages(chat_id)[-1]
        rows = last.get("reply_markup", {}).get("inline_keyboard", [])
        back = any(button.get("callback_data") == AI_BACK for row in rows for button in row)
        if last.get("text") != text or not back:
            raise BenchError(f"no assistant answer {text!r} in chat {chat_id}; its last message: {last}")

    def ask(self, user: dict[str, Any], question: str, answer: str = AI_REPLY) -> int:
        """The parent types `question`; checks the bot answered `answer`; returns the OpenAI calls made."""
        before = len(self.calls("openai"))
        self.parent_sends("text", user, text=question)
        self.check_assistant_answer(user["id"], answer)
        return len(self.calls("openai")) - before

    def canned_answer(self, key: str) -> str:
        return t(PARENT_LANGUAGE, key, manager_link=self.env["MANAGER_LINK"])

    def send_voice_note(self, user: dict[str, Any]) -> None:
        """The parent records a voice note; the bot transcribes it and answers it as a question."""
        self.parent_sends(
            "voice",
            user,
            file_id=f"voice-{uuid.uuid4().hex[:12]}",
            duration=VOICE_SECONDS,
            content_base64=base64.b64encode(VOICE_NOTE).decode(),
        )
        self.check_assistant_answer(user["id"])

    def _dispatch(self, path: str, payload: dict[str, Any] | None = None) -> int:
        response = self.http.post(f"{self.stack.tasks_url}/_emulator/{path}", json=payload or {})
        response.raise_for_status()
        dispatched = response.json()["dispatched"]
        failed = [d for d in dispatched if d["status"] != 200]
        if failed:
            raise BenchError(f"tasks failed: {failed}")
        return len(dispatched)

    def run_due(self) -> int:
        return self._dispatch("run-due")

    def run_flush(self) -> int:
        """Let the batched CRM writer's window end: the CRM changes recorded in it are written."""
        return self._dispatch("advance", {"seconds": int(self.env.get("CRM_FLUSH_SECONDS", "5"))})

    def run_chain(self) -> int:
        """Deliver every pending step: sync now, email1 after 30 min, email2 and call_alert a day apart,
        and the CRM writer's batch after each."""
        ran = self.run_due() + self.run_flush()
        for seconds in (HALF_HOUR, DAY, DAY):
            ran += self._dispatch("advance", {"seconds": seconds})
            ran += self.run_flush()
        pending = self.http.get(f"{self.stack.tasks_url}/_emulator/tasks").json()["tasks"]
        if pending:
            raise BenchError(f"tasks left after the chain: {pending}")
        # The functions schedule by the wall clock: put the emulator's clock back for the next lead.
        self.http.post(f"{self.stack.tasks_url}/_emulator/reset").raise_for_status()
        return ran

    # ---- seeing ----
    def clear_calls(self, *services: str) -> None:
        """Forget the calls the fakes recorded (of `services` only, if given)."""
        for name, url in self.stack.fakes_url.items():
            if not services or name in services:
                self.http.delete(f"{url}/_fake/calls").raise_for_status()

    def tally(self) -> dict[str, int]:
        """How many calls each fake has recorded so far (the logs only grow until cleared)."""
        return {name: len(self.calls(name)) for name in self.stack.fakes_url}

    def calls(self, service: str) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.stack.fakes_url[service]}/_fake/calls")
        response.raise_for_status()
        return list(response.json())

    def sheet_lead_ids(self) -> list[str]:
        """The lead_id of every row of the Leads sheet, as the Sheets fake holds it (duplicates included)."""
        state = self.http.get(f"{self.stack.fakes_url['sheets']}/_fake/state").json()
        for spreadsheet in state["spreadsheets"].values():
            for sheet in spreadsheet["sheets"]:
                if sheet.get("title") == self.env.get("SHEETS_LEADS_SHEET", "Leads") and sheet["values"]:
                    header, *rows = sheet["values"]
                    column = header.index("lead_id")
                    return [str(row[column]) for row in rows if len(row) > column and row[column]]
        return []

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """What the bot sent to `chat_id`, oldest first, with the keyboards as sent."""
        response = self.http.get(
            f"{self.stack.fakes_url['telegram']}/_fake/messages", params={"chat_id": chat_id}
        )
        response.raise_for_status()
        return list(response.json())

    def pending_tasks(self) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.stack.tasks_url}/_emulator/tasks")
        response.raise_for_status()
        return list(response.json()["tasks"])

    def call_counts(self) -> CallCounts:
        sheets = self.calls("sheets")
        return CallCounts(
            sheets=len(sheets),
            resend=len(self.calls("resend")),
            telegram=len(self.calls("telegram")),
            sheets_requests=tuple(f"{c['method']} {c['path']}" for c in sheets),
        )
