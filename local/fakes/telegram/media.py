"""The Bot API methods that send a file: sendVideoNote and sendDocument (registered on import)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local.fakes.base import JSONDict
from local.fakes.telegram.api import Params, TelegramApiError, telegram_method
from local.fakes.telegram.methods import _replied_message, _reply_markup
from local.fakes.telegram.model import _FILE_KINDS, FakeFile

if TYPE_CHECKING:  # the fake imports this module: a runtime import would run in a circle
    from local.fakes.telegram.fake import TelegramFake

MAX_CAPTION_LENGTH = 1024


def _file(fake: TelegramFake, params: Params, field: str, **stored: Any) -> FakeFile:
    """The file a send names in `field`: an upload (multipart, stored as a new file of that kind, with
    `stored` facts) or the file_id of one the server has."""
    upload = params.upload(field)
    if upload is not None:
        content = upload.read()
        if not content:
            raise TelegramApiError(400, "Bad Request: file must be non-empty")
        return fake._store_file(fake._new_file_id(field), field, content, **stored)
    reference = params.text(field).strip()
    if not reference:
        raise TelegramApiError(400, f"Bad Request: there is no {field} in the request")
    found = fake._files.get(reference)
    if found is None:  # nor can these be sent by URL: the server gives the same answer
        raise TelegramApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
    return found


@telegram_method("sendVideoNote")
def _send_video_note(fake: TelegramFake, bot: JSONDict, params: Params) -> JSONDict:
    chat = fake.chat(params)
    stored = _file(
        fake, params, "video_note", duration=params.integer("duration"), length=params.integer("length")
    )
    if stored.file_type != "video_note":
        kind = _FILE_KINDS[stored.file_type][2]
        raise TelegramApiError(400, f"Bad Request: can't use file of type {kind} as VideoNote")
    markup = _reply_markup(params, chat)
    reply_message = _replied_message(fake, chat, params)
    return fake.new_message(
        bot, chat, video_note=stored.media(), reply_markup=markup, reply_to_message=reply_message
    )


@telegram_method("sendDocument")
def _send_document(fake: TelegramFake, bot: JSONDict, params: Params) -> JSONDict:
    """A file as a document: an upload (multipart) or the file_id of a file the server has."""
    chat = fake.chat(params)
    caption = params.text("caption")
    if len(caption) > MAX_CAPTION_LENGTH:
        raise TelegramApiError(400, "Bad Request: message caption is too long")
    upload = params.upload("document")
    facts = {"mime_type": upload.mimetype or None, "file_name": upload.filename or None} if upload else {}
    stored = _file(fake, params, "document", **facts)
    markup = _reply_markup(params, chat)
    reply_message = _replied_message(fake, chat, params)
    return fake.new_message(
        bot,
        chat,
        document=stored.media(),
        caption=caption or None,
        reply_markup=markup,
        reply_to_message=reply_message,
    )
