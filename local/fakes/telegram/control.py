"""The fake's /_fake/ control endpoints: updates, deliveries, messages, files, callback answers."""

from __future__ import annotations

import base64
from typing import Any

from werkzeug.wrappers import Request, Response

from local.fakes.base import CONTROL_PREFIX, JSONDict, json_response
from local.fakes.telegram.model import _UpdateRecord


class ControlEndpoints:
    """The /_fake/ endpoints of the Telegram fake (mixed into TelegramFake)."""

    # ---- control endpoints -------------------------------------------------------------------------------
    def _control(self, request: Request) -> Response:
        action = request.path[len(CONTROL_PREFIX) :].strip("/")
        method = request.method
        try:
            if action == "updates" and method == "POST":
                update = self._update_from_control(request.get_json(silent=True))
                return self._delivered(*self._deliver(update, None))
            if action == "updates" and method == "GET":
                return json_response(self.updates())
            if action == "deliveries" and method == "GET":
                return json_response(self.deliveries())
            if action == "redeliver" and method == "POST":
                spec = request.get_json(silent=True)
                if not isinstance(spec, dict) or not isinstance(spec.get("update_id"), int):
                    raise ValueError('body must be {"update_id": N}')
                status = self.redeliver(spec["update_id"])
                with self.lock:
                    record = [r for r in self._records if r.update_id == spec["update_id"]][-1]
                return self._delivered(record, status)
            if action == "messages" and method == "GET":
                return json_response(self.messages(request.args.get("chat_id"), with_markup=True))
            if action == "callback_answers" and method == "GET":
                return json_response(self.callback_answers())
            if action == "groups" and method == "POST":
                spec = request.get_json(silent=True)
                if not isinstance(spec, dict) or not isinstance(spec.get("chat_id"), int):
                    raise ValueError('body must be {"chat_id": N, "title": "...", "members": [user ids]}')
                members = spec.get("members") or []
                if not all(isinstance(m, int) for m in members):
                    raise ValueError("members must be user ids")
                self.add_group(spec["chat_id"], str(spec.get("title") or "Group"), members)
                return json_response({"ok": True})
            if action == "files" and method == "POST":
                return json_response(
                    {"ok": True, "file": self._file_from_control(request.get_json(silent=True))}
                )
        except (ValueError, KeyError, TypeError) as exc:
            text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            return json_response({"ok": False, "error": str(text)}, 400)
        return super()._control(request)

    @staticmethod
    def _delivered(record: _UpdateRecord, status: int) -> Response:
        body: JSONDict = {"update": record.update, "webhook_status": status}
        if record.error:
            body["webhook_error"] = record.error
        return json_response(body)

    def _control_user(self, spec: JSONDict) -> JSONDict:
        if isinstance(spec.get("user"), dict):
            return self._normalize_user(spec["user"])
        if isinstance(spec.get("user_id"), int):
            return self.known_user(spec["user_id"])
        raise ValueError('give "user": {...} or "user_id": N')

    def _update_from_control(self, spec: Any) -> Any:
        if not isinstance(spec, dict):
            raise ValueError('body must be a JSON object with "kind"')
        kind = spec.get("kind")
        if kind == "raw":
            if "update" not in spec:
                raise ValueError('kind raw needs "update"')
            return spec["update"]
        user = self._control_user(spec)
        chat_id = spec.get("chat_id")  # a group made with POST /_fake/groups; default: the private chat
        if chat_id is not None and not isinstance(chat_id, int):
            raise ValueError("chat_id must be a number")
        if kind == "text":
            reply_to = spec.get("reply_to_message_id")
            if reply_to is not None and not isinstance(reply_to, int):
                raise ValueError("reply_to_message_id must be a number")
            return self.text_update(user, str(spec.get("text", "")), chat_id=chat_id, reply_to=reply_to)
        if kind == "command":
            command = str(spec.get("command", "/start"))
            return self.command_update(user, command, spec.get("payload"), chat_id=chat_id)
        if kind == "contact":
            if not isinstance(spec.get("phone_number"), str):
                raise ValueError('kind contact needs "phone_number"')
            return self.contact_update(
                user,
                str(spec["phone_number"]),
                spec.get("contact_user_id"),
                first_name=spec.get("first_name"),
                last_name=spec.get("last_name"),
            )
        if kind == "callback":
            data = spec.get("callback_data", spec.get("data"))
            if not isinstance(data, str) or not isinstance(spec.get("message_id"), int):
                raise ValueError('kind callback needs "message_id" and "callback_data"')
            return self.callback_update(
                user,
                spec["message_id"],
                data,
                check_keyboard=spec.get("check_keyboard", True),
                chat_id=chat_id,
            )
        if kind == "voice":
            if not isinstance(spec.get("file_id"), str):
                raise ValueError('kind voice needs "file_id" (and "duration")')
            content = spec.get("content_base64")
            return self.voice_update(
                user,
                str(spec["file_id"]),
                int(spec.get("duration", 1)),
                content=base64.b64decode(content) if content is not None else None,
                file_size=spec.get("file_size"),
            )
        raise ValueError(f"unknown kind {kind!r}: text, command, contact, callback, voice or raw")

    def _file_from_control(self, spec: Any) -> JSONDict:
        if not isinstance(spec, dict) or not isinstance(spec.get("file_id"), str):
            raise ValueError('body must be {"file_id": ..., "file_type": ..., "content_base64": ...}')
        content = spec.get("content_base64")
        return self.add_file(
            spec["file_id"],
            spec.get("file_type", "video_note"),
            file_size=spec.get("file_size"),
            duration=spec.get("duration"),
            content=base64.b64decode(content) if content is not None else None,
            length=spec.get("length"),
            mime_type=spec.get("mime_type"),
        )
