"""Both public webhooks fuzzed through the real functions: whatever arrives, no 5xx, nothing written for
what is refused, no session for a chat the bot ignores.

`make test` runs a fixed, derandomized set of examples (FUZZ_EXAMPLES each, 1500 by default);
`make fuzz` runs far more with fresh randomness (FUZZ_RANDOM=1). Examples are built from the real
payload shapes (Tilda's form fields, the Bot API's update objects) with any part of them swapped for
any JSON value, dropped, or left as it is, so most of them get past the first checks.
"""

from __future__ import annotations

import itertools
import json
import os
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import System

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1500"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=os.environ.get("FUZZ_RANDOM") != "1",  # the same examples on every `make test`
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
pytestmark = pytest.mark.fuzz

# ---- values ------------------------------------------------------------------------------------------
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)


def maybe(real: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the real shape; sometimes any JSON value in its place."""
    return st.one_of(real, real, real, real, real, json_values)


def shaped(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """An object with its required fields (each maybe mangled), some of the optional ones, maybe a
    stranger, and now and then a required field dropped."""
    fields = st.fixed_dictionaries(
        {name: maybe(strategy) for name, strategy in required.items()},
        optional={name: maybe(strategy) for name, strategy in (optional or {}).items()}
        | {"x_odd": json_values},
    )
    names = sorted(required)
    return st.tuples(fields, st.sampled_from([None] * 8 + names)).map(
        lambda pair: {k: v for k, v in pair[0].items() if k != pair[1]}
    )


# ---- Tilda -------------------------------------------------------------------------------------------
phones = st.sampled_from(["+7 (916) 123-45-67", "89161234567", "+44 20 7946 0958", "12", "+7", "abc"])
emails = st.sampled_from(["anna@example.com", "Anna.P@Example.COM", "a@b", "@", "анна@пример.рф", ""])
text = st.text(max_size=40)
tilda_fields = {
    "Name": st.one_of(st.sampled_from(["Анна", "Boris"]), text),
    "Phone": st.one_of(phones, text, st.integers()),
    "Email": st.one_of(emails, text),
    "child_age": st.one_of(st.integers(-5, 30), text),
    "lang": st.sampled_from(["ru", "en", "EN-gb", ""]),
    "tranid": st.one_of(st.from_regex(r"\d{1,8}:\d{1,10}", fullmatch=True), text),
    "formid": st.one_of(st.from_regex(r"form\d{1,9}", fullmatch=True), text),
    "COOKIES": st.one_of(st.just("TILDAUTM=utm_source%3Dig%7C%7C%7C"), text),
    "utm_source": text,
    "test": st.sampled_from(["test", "x"]),
}
tilda_forms = st.fixed_dictionaries({}, optional=tilda_fields)


@st.composite
def tilda_requests(draw: st.DrawFn) -> tuple[str, bytes]:
    """(Content-Type, body): a form as Tilda posts it, the same as JSON, or something else entirely."""
    kind = draw(st.sampled_from(["form", "form", "json", "json-any", "bytes"]))
    if kind == "form":
        form = {k: str(v) for k, v in draw(tilda_forms).items()}
        return "application/x-www-form-urlencoded", urlencode(form).encode()
    if kind == "json":
        form = draw(st.fixed_dictionaries({}, optional={k: maybe(v) for k, v in tilda_fields.items()}))
        return "application/json", json.dumps(form, ensure_ascii=False).encode()
    if kind == "json-any":
        return "application/json", json.dumps(draw(json_values)).encode()
    content_type = draw(
        st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/xml"])
    )
    return content_type, draw(st.binary(max_size=200))


def documents(system: System) -> set[tuple[str, object]]:
    """Every document in the store with its last write time: any write changes this set."""
    return {(path, snapshot.update_time) for path, snapshot in system.documents(names_only=True)}


def test_tilda_webhook_fuzzed(system: System) -> None:
    statuses: dict[int, int] = {}
    url, secret = system.stack.url("tilda_webhook"), system.env["TILDA_SECRET"]

    @FUZZ
    @given(request=tilda_requests(), right_secret=st.booleans() | st.just(True))
    def one(request: tuple[str, bytes], right_secret: bool) -> None:
        content_type, body = request
        before = documents(system)
        headers = {"Content-Type": content_type, "X-Tilda-Secret": secret if right_secret else "wrong"}
        response = system.http.post(url, content=body, headers=headers)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (response.status_code, response.text)
        if response.status_code >= 400:
            assert documents(system) == before, f"a refused form wrote: {response.text}"
            assert "error" in response.json()  # a clear error, not a bare status
        else:  # keep the store small: the next example's look at it stays cheap
            system.stack.wipe_store()

    one()
    # The run reached every answer worth reaching: accepted forms, refused ones and forged ones.
    assert statuses.get(200, 0) and statuses.get(400, 0) and statuses.get(401, 0), statuses


# ---- Telegram ----------------------------------------------------------------------------------------
user_ids = st.integers(7_100_000, 7_100_050)
group_ids = st.integers(-1_009_999_999_999, -1)
users = shaped(
    {"id": user_ids, "is_bot": st.just(False) | st.booleans(), "first_name": text},
    {
        "username": st.from_regex(r"[a-z]{5,10}", fullmatch=True),
        "language_code": st.sampled_from(["ru", "en", "de", "EN-us"]),
    },
)


@st.composite
def chats(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"id": draw(user_ids), "type": "private", "first_name": "A"}
    kind = draw(st.sampled_from(["group", "supergroup", "channel"]))
    return {"id": draw(group_ids), "type": kind, "title": draw(text)}


commands = st.sampled_from(
    ["/start", "/start tok3n", "/language", "/privacy", "/delete_me", "/ai вопрос", "/x"]
)
entities = st.lists(
    shaped(
        {
            "type": st.sampled_from(["bot_command", "url", "bold"]),
            "offset": st.integers(0, 5),
            "length": st.integers(0, 9),
        }
    ),
    max_size=2,
)
messages = shaped(
    {
        "message_id": st.integers(1, 10**6),
        "date": st.integers(1_700_000_000, 1_900_000_000),
        "chat": chats(),
        "from": users,
    },
    {
        "text": st.one_of(commands, text),
        "entities": entities,
        "contact": shaped({"phone_number": phones, "first_name": text}, {"user_id": user_ids}),
        "voice": shaped({"file_id": text, "file_unique_id": text, "duration": st.integers(-1, 10**4)}),
    },
)
callback_data = st.one_of(
    st.sampled_from(
        ["consent", "lang:en", "ai:back", "back:days", "erase:ask", "erase:no", "cancel:0badf00d"]
    ),
    st.text(max_size=70),
)
callback_queries = shaped(
    {
        "id": st.from_regex(r"\d{5,12}", fullmatch=True),
        "from": users,
        "chat_instance": st.from_regex(r"-?\d{5,12}", fullmatch=True),
    },
    {"message": messages, "data": callback_data},
)
update_kinds = {
    "message": messages,
    "edited_message": messages,
    "channel_post": messages,
    "callback_query": callback_queries,
    "my_chat_member": shaped({"chat": chats(), "from": users, "date": st.integers()}),
    "something_new": json_values,
}
_update_ids = itertools.count(10**8)


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(list(update_kinds)))
    body = draw(maybe(update_kinds[kind]))
    # A parent's private chat has the parent's id: mostly so, or the conversation is hardly reached.
    message = body.get("message", body) if isinstance(body, dict) and kind == "callback_query" else body
    sender = body.get("from") if isinstance(body, dict) else None
    chat = message.get("chat") if isinstance(message, dict) else None
    if isinstance(sender, dict) and isinstance(chat, dict) and chat.get("type") == "private":
        if "id" in sender and draw(st.integers(0, 3)):
            chat["id"] = sender["id"]
    return {"update_id": next(_update_ids), kind: body}


def chat_of(update: dict[str, Any]) -> dict[str, Any] | None:
    """The chat the update comes from, where it has a well-formed one."""
    for value in update.values():
        if isinstance(value, dict):
            holder = value.get("message", value) if "data" in value else value
            chat = holder.get("chat") if isinstance(holder, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return chat
    return None


def test_tg_webhook_fuzzed(system: System) -> None:
    url = system.stack.url("tg_webhook")
    headers = {"X-Telegram-Bot-Api-Secret-Token": system.env["TELEGRAM_WEBHOOK_SECRET"]}
    store = system.store()
    answered: dict[str, int] = {}

    @FUZZ
    @given(update=updates())
    def one(update: dict[str, Any]) -> None:
        response = system.http.post(url, json=update, headers=headers)
        assert response.status_code == 200, (response.status_code, response.text, update)
        status = response.json().get("status", "")
        answered[status] = answered.get(status, 0) + 1
        chat = chat_of(update)
        if chat is not None and chat.get("type") != "private":
            assert store.get("sessions", str(chat["id"])) is None, "a session for a chat the bot ignores"

    one()
    assert answered.get("ok", 0) and answered.get("ignored", 0), answered  # handled ones and unreadable ones
    assert store.keys("sessions", "71"), "no fuzzed update reached a parent's conversation"
