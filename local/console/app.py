"""The console's WSGI app: the page, and a small JSON API over the fakes' and the emulator's endpoints.

    GET  /                          the page (static/index.html, console.js, console.css)
    GET  /api/overview              clock, the parents played, the bot and the managers' chat
    POST /api/parents               {"name", "language", "phone"} -> a new parent (a Telegram user)
    GET  /api/chat/<chat id>        the chat as Telegram shows it: the parent's and the bot's messages
    POST /api/chat/<chat id>/send   {"kind": "text"|"command"|"callback"|"contact"|"voice", ...}
    GET  /api/crm                   every sheet of the CRM spreadsheet as rows
    GET  /api/emails                the outbox; GET /api/emails/<n> one email's HTML, deep links opening
                                    the parent chat in the console
    GET  /api/calendar              the events of the booking horizon, free and booked
    POST /api/calendar              {"start": "2026-12-05T15:00", "minutes": 60} a FREE slot (academy time)
    DELETE /api/calendar/<event id>
    GET  /api/tasks                 pending, delivered and failed Cloud Tasks
    POST /api/tasks/run             {"name"} run one now; POST /api/clock {"seconds"} or {"next": true}
    GET  /api/faults                the switch per fake
    POST /api/faults/<fake>         {"mode": "500"|"429"|"hang"|"off"}

Errors are JSON {"error": "..."} with a 4xx status (bad input) or 502 (a fake did not answer).
"""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

STATIC = Path(__file__).parent / "static"
FAKES = ("telegram", "sheets", "resend", "calendar", "zoom", "openai")
FAULT_MODES = {
    "500": {"status": 500, "times": -1},
    "429": {"status": 429, "times": -1, "retry_after": 5},
    "hang": {"hang": 30, "times": -1},
}
MANAGER = {"id": 500001, "first_name": "Ольга", "username": "olga_manager", "language_code": "ru"}
_CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css"}


class BadRequest(Exception):
    """The page (or a person with curl) sent something the console cannot do."""


@dataclass
class Parent:
    user_id: int
    name: str
    language: str
    phone: str

    def user(self) -> dict[str, Any]:
        return {"id": self.user_id, "first_name": self.name, "language_code": self.language}


@dataclass
class Console:
    """What the console talks to: the fakes' and the emulator's URLs, and the settings they run with."""

    fakes: dict[str, str]  # name -> base URL
    tasks: str
    env: dict[str, str]
    parents: dict[int, Parent] = field(default_factory=dict)
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))

    def __post_init__(self) -> None:
        self.urls = Map(
            [
                Rule("/", endpoint=lambda r: self._static("index.html")),
                Rule("/static/<name>", endpoint=lambda r, name: self._static(name)),
                Rule("/api/overview", endpoint=self.overview),
                Rule("/api/parents", endpoint=self.add_parent, methods=["POST"]),
                Rule("/api/chat/<int(signed=True):chat_id>", endpoint=self.chat),
                Rule("/api/chat/<int(signed=True):chat_id>/send", endpoint=self.send, methods=["POST"]),
                Rule("/api/crm", endpoint=self.crm),
                Rule("/api/emails", endpoint=self.emails),
                Rule("/api/emails/<int:index>", endpoint=self.email_html),
                Rule("/api/calendar", endpoint=self.calendar, methods=["GET"]),
                Rule("/api/calendar", endpoint=self.add_slot, methods=["POST"]),
                Rule("/api/calendar/<event_id>", endpoint=self.remove_slot, methods=["DELETE"]),
                Rule("/api/tasks", endpoint=self.tasks_state),
                Rule("/api/tasks/run", endpoint=self.run_task, methods=["POST"]),
                Rule("/api/clock", endpoint=self.move_clock, methods=["POST"]),
                Rule("/api/faults", endpoint=self.faults),
                Rule("/api/faults/<fake>", endpoint=self.set_fault, methods=["POST"]),
            ]
        )
        self._group_ready = False
        self.manager = dict(MANAGER)  # the manager the console plays (MANAGER_IDS' first, when set)

    # ---- WSGI ------------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            endpoint, values = self.urls.bind_to_environ(environ).match()
            result = endpoint(request, **values)
            response = result if isinstance(result, Response) else _json(result)
        except BadRequest as exc:
            response = _json({"error": str(exc)}, 400)
        except httpx.HTTPError as exc:
            response = _json({"error": f"a fake did not answer: {exc}"}, 502)
        except HTTPException as exc:
            response = _json({"error": exc.description or exc.name}, exc.code or 500)
        return response(environ, start_response)

    def _static(self, name: str) -> Response:
        path = STATIC / name
        if path.suffix not in _CONTENT_TYPES or not path.is_file() or path.parent != STATIC:
            raise NotFound()
        return Response(path.read_bytes(), content_type=_CONTENT_TYPES[path.suffix])

    # ---- people ----------------------------------------------------------------------------------------
    def overview(self, request: Request) -> dict[str, Any]:
        return {
            "now": self._now().isoformat(),
            "timezone": self.env.get("ACADEMY_TIMEZONE", "Europe/Riga"),
            "bot": self.env.get("TELEGRAM_BOT_USERNAME", ""),
            "managers_chat": int(self.env["MANAGER_CHAT_ID"]),
            "parents": [vars(p) for p in self.parents.values()],
            "fakes": list(FAKES),
        }

    def add_parent(self, request: Request) -> dict[str, Any]:
        body = _body(request)
        name = str(body.get("name") or "").strip()
        language = str(body.get("language") or "ru")
        phone = str(body.get("phone") or "").strip()
        if not name or language not in ("ru", "en") or not re.fullmatch(r"\+?[0-9 ()-]{7,20}", phone):
            raise BadRequest("a parent needs a name, a language (ru or en) and a phone number")
        user_id = 1000 + len(self.parents) + 1
        while user_id in self.parents:
            user_id += 1
        self.parents[user_id] = Parent(user_id, name, language, phone)
        return vars(self.parents[user_id])

    # ---- chats -----------------------------------------------------------------------------------------
    def chat(self, request: Request, chat_id: int) -> dict[str, Any]:
        state = self._get(self.fakes["telegram"] + "/_fake/state")
        messages = [{**m, "from_bot": True} for m in state["messages"] if m["chat"]["id"] == chat_id] + [
            {**m, "from_bot": False} for m in state["incoming_messages"] if m["chat"]["id"] == chat_id
        ]
        messages.sort(key=lambda m: (m["message_id"], m["from_bot"]))
        keyboard = state["reply_keyboards"].get(str(chat_id))
        return {"chat_id": chat_id, "messages": messages, "reply_keyboard": keyboard}

    def send(self, request: Request, chat_id: int) -> dict[str, Any]:
        body = _body(request)
        kind = body.get("kind")
        managers = int(self.env["MANAGER_CHAT_ID"])
        if chat_id == managers:
            self._managers_group()
            update: dict[str, Any] = {"user": self.manager, "chat_id": managers}
        elif chat_id in self.parents:
            update = {"user": self.parents[chat_id].user()}
        else:
            raise BadRequest(f"no parent {chat_id}: add one first")
        if kind == "text":
            text = str(body.get("text") or "")
            if not text.strip():
                raise BadRequest("type something")
            if text.startswith("/"):
                command, _, payload = text.partition(" ")
                update |= {"kind": "command", "command": command, "payload": payload.strip() or None}
            else:
                update |= {"kind": "text", "text": text}
                if isinstance(body.get("reply_to"), int):
                    update["reply_to_message_id"] = body["reply_to"]
        elif kind == "callback":
            if not isinstance(body.get("message_id"), int) or not isinstance(body.get("data"), str):
                raise BadRequest("a button press needs message_id and data")
            update |= {"kind": "callback", "message_id": body["message_id"], "callback_data": body["data"]}
        elif kind == "contact" and chat_id in self.parents:
            update |= {"kind": "contact", "phone_number": self.parents[chat_id].phone}
        elif kind == "voice":
            update |= {"kind": "voice", **self._voice_file(body)}
        else:
            raise BadRequest("kind: text, callback, contact (parents) or voice")
        answer = self._post(self.fakes["telegram"] + "/_fake/updates", update)
        return {"webhook_status": answer.get("webhook_status"), "error": answer.get("webhook_error")}

    def _voice_file(self, body: dict[str, Any]) -> dict[str, Any]:
        """A voice note: an uploaded file (base64), or what it "says" typed (the OpenAI fake transcribes
        UTF-8 audio as that text)."""
        if isinstance(body.get("audio_base64"), str) and body["audio_base64"]:
            content = body["audio_base64"]
        elif str(body.get("says") or "").strip():
            content = base64.b64encode(str(body["says"]).encode()).decode()
        else:
            raise BadRequest("a voice note needs a file or the words it says")
        file_id = f"console-voice-{secrets.token_hex(6)}"
        spec = {"file_id": file_id, "file_type": "voice", "content_base64": content, "duration": 5}
        self._post(self.fakes["telegram"] + "/_fake/files", spec)
        return {"file_id": file_id, "duration": 5}

    def _managers_group(self) -> None:
        """The managers' group with the console's manager in it (made once; the fake keeps it)."""
        if self._group_ready:
            return
        ids = [int(i) for i in re.findall(r"-?\d+", self.env.get("MANAGER_IDS", ""))]
        if ids:
            self.manager["id"] = ids[0]
        group = {
            "chat_id": int(self.env["MANAGER_CHAT_ID"]),
            "title": "All In managers",
            "members": [self.manager["id"]],
        }
        self._post(self.fakes["telegram"] + "/_fake/groups", group)
        self._group_ready = True

    # ---- CRM, emails, calendar -------------------------------------------------------------------------
    def crm(self, request: Request) -> dict[str, Any]:
        state = self._get(self.fakes["sheets"] + "/_fake/state")
        spreadsheet = state["spreadsheets"].get(self.env.get("SHEETS_SPREADSHEET_ID", ""), {"sheets": []})
        return {
            # As a manager sees them: date-times through their formats (the academy's wall clock).
            "sheets": [
                {"title": s["title"], "values": s.get("formatted") or s.get("values") or []}
                for s in spreadsheet["sheets"]
            ]
        }

    def emails(self, request: Request) -> dict[str, Any]:
        sent = self._get(self.fakes["resend"] + "/_fake/state")["sent"]
        return {
            "emails": [
                {
                    "index": i,
                    "to": e.get("to"),
                    "subject": e.get("subject"),
                    "created_at": e.get("created_at"),
                }
                for i, e in enumerate(sent)
            ]
        }

    def email_html(self, request: Request, index: int) -> Response:
        sent = self._get(self.fakes["resend"] + "/_fake/state")["sent"]
        if not 0 <= index < len(sent):
            raise NotFound("no such email")
        body = str(sent[index].get("html") or f"<pre>{html.escape(str(sent[index].get('text', '')))}</pre>")
        # The bot's deep link opens the parent chat here, with /start and the link's token.
        bot = re.escape(self.env.get("TELEGRAM_BOT_USERNAME", ""))
        body = re.sub(
            rf'href="https://t\.me/{bot}\?start=([A-Za-z0-9_-]+)"',
            lambda m: f'href="/?start={quote(m.group(1))}" target="_top"',
            body,
        )
        return Response(body, content_type="text/html; charset=utf-8")

    def calendar(self, request: Request) -> dict[str, Any]:
        now = self._now()
        params = {
            "timeMin": (now - timedelta(days=1)).isoformat(),
            "timeMax": (
                now + timedelta(days=int(self.env.get("BOOKING_HORIZON_DAYS", "14")) + 1)
            ).isoformat(),
            "singleEvents": "true",
            "orderBy": "startTime",
        }
        events = self._get(self._events_url(), params=params, headers=_MANAGER_AUTH).get("items", [])
        return {
            "events": [
                {
                    "id": e["id"],
                    "summary": e.get("summary", ""),
                    "start": e["start"].get("dateTime"),
                    "end": e["end"].get("dateTime"),
                    "free": str(e.get("summary", "")).startswith("FREE"),
                }
                for e in events
            ]
        }

    def add_slot(self, request: Request) -> dict[str, Any]:
        body = _body(request)
        try:
            local = datetime.fromisoformat(str(body.get("start")))
        except ValueError:
            raise BadRequest("start: a date and time like 2026-12-05T15:00") from None
        minutes = int(body.get("minutes") or 60)
        zone = ZoneInfo(self.env.get("ACADEMY_TIMEZONE", "Europe/Riga"))
        start = (local if local.tzinfo else local.replace(tzinfo=zone)).astimezone(UTC)
        event = {
            "summary": "FREE",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat()},
        }
        created = self._post(self._events_url(), event, headers=_MANAGER_AUTH)
        return {"id": created["id"]}

    def remove_slot(self, request: Request, event_id: str) -> dict[str, Any]:
        response = self.http.delete(f"{self._events_url()}/{quote(event_id)}", headers=_MANAGER_AUTH)
        if response.status_code >= 400:
            raise BadRequest(f"the calendar refused: {response.status_code}")
        return {"deleted": event_id}

    def _events_url(self) -> str:
        return (
            f"{self.fakes['calendar']}/calendar/v3/calendars/{quote(self.env['GOOGLE_CALENDAR_ID'])}/events"
        )

    # ---- queue, clock, faults --------------------------------------------------------------------------
    def tasks_state(self, request: Request) -> dict[str, Any]:
        pending = self._get(self.tasks + "/_emulator/tasks")
        history = self._get(self.tasks + "/_emulator/history")["attempts"]
        failed = self._get(self.tasks + "/_emulator/failed")["tasks"]
        tasks = [{**task, "payload": self._payload(task["name"])} for task in pending["tasks"]]
        return {"now": pending["now"], "pending": tasks, "history": history[-50:], "failed": failed}

    def _payload(self, name: str) -> str:
        """The task's body, as Cloud Tasks' GetTask (FULL view) gives it."""
        response = self.http.get(f"{self.tasks}/v2/{name}", params={"responseView": "FULL"})
        if response.status_code != 200:
            return ""  # delivered meanwhile
        body = response.json().get("httpRequest", {}).get("body", "")
        return base64.b64decode(body).decode(errors="replace") if body else ""

    def run_task(self, request: Request) -> dict[str, Any]:
        name = str(_body(request).get("name") or "")
        if not re.fullmatch(r"projects/[^/]+/locations/[^/]+/queues/[^/]+/tasks/[^/]+", name):
            raise BadRequest("name: a task's full name")
        task = self._post(f"{self.tasks}/v2/{name}:run", {})  # Cloud Tasks' RunTask: due now...
        # ...and dispatched now, also where the emulator leaves dispatching to its callers (the tests).
        ran = self._post(self.tasks + "/_emulator/run-due", {"wait_for_rate_limits": False})
        return {"task": task.get("name"), "dispatched": len(ran.get("dispatched", []))}

    def move_clock(self, request: Request) -> dict[str, Any]:
        body = _body(request)
        if body.get("next"):
            pending = self._get(self.tasks + "/_emulator/tasks")
            times = sorted(t["scheduleTime"] for t in pending["tasks"] if t.get("scheduleTime"))
            if not times:
                raise BadRequest("no task is waiting")
            due = datetime.fromisoformat(times[0].replace("Z", "+00:00"))
            seconds = max((due - self._now()).total_seconds(), 0.0) + 1
        else:
            try:
                seconds = float(body.get("seconds"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise BadRequest("seconds: how far to move the clock") from None
            if not 0 < seconds <= 366 * 86400:
                raise BadRequest("seconds: more than 0, at most a year")
        answer = self._post(self.tasks + "/_emulator/advance", {"seconds": seconds})
        return {"now": answer.get("now"), "dispatched": len(answer.get("dispatched", []))}

    def faults(self, request: Request) -> dict[str, Any]:
        return {name: self._fault_mode(name) for name in FAKES if name in self.fakes}

    def set_fault(self, request: Request, fake: str) -> dict[str, Any]:
        if fake not in self.fakes:
            raise NotFound(f"no fake {fake}")
        mode = str(_body(request).get("mode"))
        if mode != "off" and mode not in FAULT_MODES:
            raise BadRequest("mode: 500, 429, hang or off")
        self.http.delete(f"{self.fakes[fake]}/_fake/faults").raise_for_status()
        if mode != "off":
            self._post(f"{self.fakes[fake]}/_fake/faults", FAULT_MODES[mode])
        return {fake: self._fault_mode(fake)}

    def _fault_mode(self, fake: str) -> str:
        armed = self._get(f"{self.fakes[fake]}/_fake/faults")
        faults = armed.get("faults", armed) if isinstance(armed, dict) else armed
        for fault in faults or []:
            if fault.get("hang"):
                return "hang"
            if fault.get("status") in (500, 429):
                return str(fault["status"])
        return "off"

    # ---- helpers ---------------------------------------------------------------------------------------
    def _now(self) -> datetime:
        seconds = self._get(self.tasks + "/_emulator/now")["epochSeconds"]
        return datetime.fromtimestamp(seconds, UTC)

    def _get(self, url: str, **kwargs: Any) -> Any:
        response = self.http.get(url, **kwargs)
        response.raise_for_status()
        return response.json()

    def _post(self, url: str, body: Any, **kwargs: Any) -> Any:
        response = self.http.post(url, json=body, **kwargs)
        if response.status_code >= 400:
            raise BadRequest(f"{url.split('/', 3)[-1]}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else {}


_MANAGER_AUTH = {"Authorization": "Bearer console-manager"}


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")


def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        raise BadRequest("the body must be JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body
