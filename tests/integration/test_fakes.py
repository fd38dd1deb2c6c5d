"""The HTTP fakes driven by the real clients: googleapiclient, the resend SDK, httpx, python-telegram-bot."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import google.oauth2.credentials
import google_auth_httplib2
import httplib2
import httpx
import pytest
import resend
import resend.exceptions
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from local.fakes import ResendFake, SheetsFake, TelegramFake, start_fakes
from local.fakes.sheets import FORMULA_PLACEHOLDER
from local.httpserver import ServerThread

SPREADSHEET = "sheet-id-1"
TOKEN = "123456:TEST-token"
RESEND_KEY = "re_test_123"
ROOT = Path(__file__).resolve().parents[2]


# ---- Sheets ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sheets_server() -> Iterator[tuple[SheetsFake, ServerThread]]:
    fake = SheetsFake(spreadsheets={SPREADSHEET: ["Leads", "Log"]})
    with fake.server() as server:
        yield fake, server


@pytest.fixture
def sheets_fake(sheets_server: tuple[SheetsFake, ServerThread]) -> SheetsFake:
    fake = sheets_server[0]
    fake.reset()
    return fake


def sheets_client(url: str, *, token: str | None = "test-token", timeout: float = 5) -> Any:
    http: Any = httplib2.Http(timeout=timeout)
    if token is not None:
        credentials = google.oauth2.credentials.Credentials(token=token)
        http = google_auth_httplib2.AuthorizedHttp(credentials, http=http)
    return build("sheets", "v4", static_discovery=True, http=http, client_options={"api_endpoint": url + "/"})


@pytest.fixture
def sheets(sheets_server: tuple[SheetsFake, ServerThread], sheets_fake: SheetsFake) -> Any:
    return sheets_client(sheets_server[1].url)


def test_sheets_requests_use_the_v4_paths_googleapiclient_builds(
    sheets: Any, sheets_fake: SheetsFake
) -> None:
    meta = sheets.spreadsheets().get(spreadsheetId=SPREADSHEET).execute()

    assert [s["properties"]["title"] for s in meta["sheets"]] == ["Leads", "Log"]
    first = meta["sheets"][0]["properties"]
    assert first["sheetId"] == 0 and first["index"] == 0
    assert first["gridProperties"] == {"rowCount": 1000, "columnCount": 26}
    (call,) = sheets_fake.calls()
    assert call["method"] == "GET" and call["path"] == f"/v4/spreadsheets/{SPREADSHEET}"
    assert call["headers"]["Authorization"] == "Bearer test-token"


def test_append_then_get(sheets: Any, sheets_fake: SheetsFake) -> None:
    values = sheets.spreadsheets().values()
    first = values.append(
        spreadsheetId=SPREADSHEET,
        range="Leads!A1",
        valueInputOption="RAW",
        body={"values": [["name", "phone", "status"], ["Anna", "+79991234567", "new"]]},
    ).execute()
    second = values.append(
        spreadsheetId=SPREADSHEET,
        range="Leads",
        valueInputOption="RAW",
        insertDataOption="INSERT_ROWS",
        body={"values": [["Boris", "+79990000000"]]},
    ).execute()

    assert first["updates"]["updatedRange"] == "Leads!A1:C2"
    assert "tableRange" not in first
    assert second["tableRange"] == "Leads!A1:C2"
    assert second["updates"] == {
        "spreadsheetId": SPREADSHEET,
        "updatedRange": "Leads!A3:B3",
        "updatedRows": 1,
        "updatedColumns": 2,
        "updatedCells": 2,
    }
    got = values.get(spreadsheetId=SPREADSHEET, range="Leads").execute()
    assert got == {
        "range": "Leads!A1:Z1001",  # INSERT_ROWS added a row to the 1000-row grid
        "majorDimension": "ROWS",
        "values": [["name", "phone", "status"], ["Anna", "+79991234567", "new"], ["Boris", "+79990000000"]],
    }
    column = values.get(spreadsheetId=SPREADSHEET, range="Leads!B:B", majorDimension="COLUMNS").execute()
    assert column["range"] == "Leads!B1:B1001"
    assert column["values"] == [["phone", "+79991234567", "+79990000000"]]


def test_append_finds_the_table_and_stops_at_a_blank_row(sheets_fake: SheetsFake, sheets: Any) -> None:
    sheets_fake.set_values(SPREADSHEET, "Leads", [["h1", "h2"], ["a", "b"], [], ["below", "gap"]])

    reply = (
        sheets.spreadsheets()
        .values()
        .append(
            spreadsheetId=SPREADSHEET,
            range="Leads!A:B",
            valueInputOption="RAW",
            body={"values": [["c", "d"]]},
        )
        .execute()
    )

    # Like the real API: the table ends at the first blank row, so the append lands in it.
    assert reply["tableRange"] == "Leads!A1:B2"
    assert reply["updates"]["updatedRange"] == "Leads!A3:B3"
    assert sheets_fake.sheet_values(SPREADSHEET, "Leads")[2:] == [["c", "d"], ["below", "gap"]]


def test_update_by_range_and_trailing_empties_trimmed(sheets: Any, sheets_fake: SheetsFake) -> None:
    sheets_fake.set_values(SPREADSHEET, "Leads", [["name", "status", "note"], ["Anna", "new", "x"]])
    values = sheets.spreadsheets().values()

    reply = values.update(
        spreadsheetId=SPREADSHEET,
        range="Leads!B2:C2",
        valueInputOption="RAW",
        body={"values": [["called", ""]]},
    ).execute()

    assert reply == {
        "spreadsheetId": SPREADSHEET,
        "updatedRange": "Leads!B2:C2",
        "updatedRows": 1,
        "updatedColumns": 2,
        "updatedCells": 2,
    }
    got = values.get(spreadsheetId=SPREADSHEET, range="Leads!A1:E5").execute()
    assert got["range"] == "Leads!A1:E5"
    assert got["values"] == [["name", "status", "note"], ["Anna", "called"]]
    with pytest.raises(HttpError) as too_wide:
        values.update(
            spreadsheetId=SPREADSHEET,
            range="Leads!A2:B2",
            valueInputOption="RAW",
            body={"values": [[1, 2, 3]]},
        ).execute()
    assert too_wide.value.status_code == 400
    assert "tried writing to column [C]" in too_wide.value.reason


def test_value_input_option_is_required(sheets: Any) -> None:
    with pytest.raises(HttpError) as exc:
        sheets.spreadsheets().values().update(
            spreadsheetId=SPREADSHEET, range="Leads!A1", body={"values": [["x"]]}
        ).execute()

    assert exc.value.status_code == 400
    assert exc.value.reason == "'valueInputOption' is required but not specified"


def test_raw_keeps_formulas_as_text_user_entered_stores_formulas(
    sheets: Any, sheets_fake: SheetsFake
) -> None:
    link = '=HYPERLINK("http://x","y")'
    values = sheets.spreadsheets().values()
    values.update(
        spreadsheetId=SPREADSHEET,
        range="Leads!A1",
        valueInputOption="RAW",
        body={"values": [[link, "007", True, 5]]},
    ).execute()
    values.update(
        spreadsheetId=SPREADSHEET,
        range="Leads!A2",
        valueInputOption="USER_ENTERED",
        body={"values": [[link, "007", "true", "'=not a formula"]]},
    ).execute()

    assert sheets_fake.formula_cells(SPREADSHEET, "Leads") == {"A2": link}
    assert not sheets_fake.is_formula(SPREADSHEET, "Leads", "A1")
    state_sheet = sheets_fake.state()["spreadsheets"][SPREADSHEET]["sheets"][0]
    assert state_sheet["formulas"] == {"A2": link}

    def read(option: str) -> list[list[Any]]:
        return values.get(spreadsheetId=SPREADSHEET, range="Leads!A1:D2", valueRenderOption=option).execute()[
            "values"
        ]

    assert read("FORMULA") == [[link, "007", True, 5], [link, 7, True, "=not a formula"]]
    assert read("UNFORMATTED_VALUE") == [
        [link, "007", True, 5],
        [FORMULA_PLACEHOLDER, 7, True, "=not a formula"],
    ]
    assert read("FORMATTED_VALUE") == [
        [link, "007", "TRUE", "5"],
        [FORMULA_PLACEHOLDER, "7", "TRUE", "=not a formula"],
    ]


def test_batch_get_and_batch_update(sheets: Any, sheets_fake: SheetsFake) -> None:
    values = sheets.spreadsheets().values()
    reply = values.batchUpdate(
        spreadsheetId=SPREADSHEET,
        body={
            "valueInputOption": "RAW",
            "data": [
                {"range": "Leads!A1:B1", "values": [["a", "b"]]},
                {"range": "Log!A1", "majorDimension": "COLUMNS", "values": [["x", "y"]]},
            ],
        },
    ).execute()
    assert reply["totalUpdatedCells"] == 4 and reply["totalUpdatedSheets"] == 2

    got = values.batchGet(spreadsheetId=SPREADSHEET, ranges=["Leads!1:1", "Log!A:A", "Leads!C5:D6"]).execute()

    assert [vr["range"] for vr in got["valueRanges"]] == ["Leads!A1:Z1", "Log!A1:A1000", "Leads!C5:D6"]
    assert got["valueRanges"][0]["values"] == [["a", "b"]]
    assert got["valueRanges"][1]["values"] == [["x"], ["y"]]
    assert "values" not in got["valueRanges"][2]


def test_add_sheet_and_duplicate_title(sheets: Any, sheets_fake: SheetsFake) -> None:
    reply = (
        sheets.spreadsheets()
        .batchUpdate(
            spreadsheetId=SPREADSHEET, body={"requests": [{"addSheet": {"properties": {"title": "Calls"}}}]}
        )
        .execute()
    )
    props = reply["replies"][0]["addSheet"]["properties"]
    assert props["title"] == "Calls" and props["index"] == 2 and isinstance(props["sheetId"], int)
    assert sheets_fake.sheet_titles(SPREADSHEET) == ["Leads", "Log", "Calls"]

    with pytest.raises(HttpError) as exc:
        sheets.spreadsheets().batchUpdate(
            spreadsheetId=SPREADSHEET,
            body={
                "requests": [
                    {"addSheet": {"properties": {"title": "New"}}},
                    {"addSheet": {"properties": {"title": "Log"}}},
                ]
            },
        ).execute()
    assert exc.value.status_code == 400
    assert 'A sheet with the name "Log" already exists' in exc.value.reason
    # batchUpdate is atomic: the first request of the failed batch was not applied.
    assert sheets_fake.sheet_titles(SPREADSHEET) == ["Leads", "Log", "Calls"]


def test_quoted_sheet_names(sheets: Any, sheets_fake: SheetsFake) -> None:
    sheets_fake.add_sheet(SPREADSHEET, "My Sheet")
    values = sheets.spreadsheets().values()
    values.update(
        spreadsheetId=SPREADSHEET, range="'My Sheet'!A2", valueInputOption="RAW", body={"values": [["v"]]}
    ).execute()

    got = values.get(spreadsheetId=SPREADSHEET, range="'My Sheet'!A2:Z").execute()

    assert got["range"] == "'My Sheet'!A2:Z1000"
    assert got["values"] == [["v"]]


def test_missing_token_is_401_in_googles_format(sheets_server: tuple[SheetsFake, ServerThread]) -> None:
    client = sheets_client(sheets_server[1].url, token=None)

    with pytest.raises(HttpError) as exc:
        client.spreadsheets().get(spreadsheetId=SPREADSHEET).execute()

    assert exc.value.status_code == 401
    assert exc.value.error_details  # Google's ErrorInfo details are passed through
    body = httpx.get(sheets_server[1].url + f"/v4/spreadsheets/{SPREADSHEET}").json()
    assert body["error"]["code"] == 401 and body["error"]["status"] == "UNAUTHENTICATED"


def test_unknown_spreadsheet_404_and_unknown_sheet_400(sheets: Any) -> None:
    with pytest.raises(HttpError) as missing:
        sheets.spreadsheets().get(spreadsheetId="nope").execute()
    assert missing.value.status_code == 404

    with pytest.raises(HttpError) as bad_range:
        sheets.spreadsheets().values().get(spreadsheetId=SPREADSHEET, range="Nope!A1:B2").execute()
    assert bad_range.value.status_code == 400
    assert bad_range.value.reason == "Unable to parse range: Nope!A1:B2"

    with pytest.raises(HttpError) as beyond:
        sheets.spreadsheets().values().get(spreadsheetId=SPREADSHEET, range="Leads!A1:A1001").execute()
    assert "exceeds grid limits" in beyond.value.reason


@pytest.mark.parametrize(
    ("status", "grpc_status"), [(500, "INTERNAL"), (429, "RESOURCE_EXHAUSTED"), (503, "UNAVAILABLE")]
)
def test_injected_faults_surface_as_http_errors(
    sheets: Any, sheets_fake: SheetsFake, status: int, grpc_status: str
) -> None:
    sheets_fake.add_fault(status, match=":append")
    append = (
        sheets.spreadsheets()
        .values()
        .append(spreadsheetId=SPREADSHEET, range="Leads", valueInputOption="RAW", body={"values": [["x"]]})
    )
    sheets.spreadsheets().get(spreadsheetId=SPREADSHEET).execute()  # not matched: unaffected

    with pytest.raises(HttpError) as exc:
        append.execute()

    assert exc.value.status_code == status
    assert exc.value.resp["content-type"].startswith("application/json")
    assert httpx.Response(status, content=exc.value.content).json()["error"]["status"] == grpc_status
    assert sheets_fake.sheet_values(SPREADSHEET, "Leads") == []  # the failed request changed nothing
    append.execute()  # times=1: the retry goes through
    assert sheets_fake.sheet_values(SPREADSHEET, "Leads") == [["x"]]
    statuses = [call["status"] for call in sheets_fake.calls(path=":append")]
    assert statuses == [status, 200]


def test_hang_makes_the_client_time_out(
    sheets_server: tuple[SheetsFake, ServerThread], sheets_fake: SheetsFake
) -> None:
    client = sheets_client(sheets_server[1].url, timeout=0.3)
    sheets_fake.add_fault(hang=1.0, match="GET")

    started = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout)):
        client.spreadsheets().get(spreadsheetId=SPREADSHEET).execute()

    assert time.monotonic() - started < 0.9
    sheets_fake.clear_faults()  # also releases the hanging request
    assert client.spreadsheets().get(spreadsheetId=SPREADSHEET).execute()["spreadsheetId"] == SPREADSHEET


def test_control_endpoints_over_http(sheets_server: tuple[SheetsFake, ServerThread], sheets: Any) -> None:
    base = sheets_server[1].url
    armed = httpx.post(base + "/_fake/faults", json={"status": 503, "times": 2, "match": "spreadsheets/"})
    assert armed.status_code == 200
    assert httpx.get(base + "/_fake/faults").json()[0]["times"] == 2
    assert httpx.post(base + "/_fake/faults", json={"times": 1}).status_code == 400

    for _ in range(2):
        with pytest.raises(HttpError):
            sheets.spreadsheets().get(spreadsheetId=SPREADSHEET).execute()
    sheets.spreadsheets().get(spreadsheetId=SPREADSHEET).execute()

    calls = httpx.get(base + "/_fake/calls", params={"path": SPREADSHEET}).json()
    assert [c["status"] for c in calls] == [503, 503, 200]
    assert calls[0]["fault"]["status"] == 503
    assert "sheets" in httpx.get(base + "/_fake/state").json()["spreadsheets"][SPREADSHEET]
    httpx.post(base + "/_fake/faults", json={"status": 500})
    assert httpx.delete(base + "/_fake/faults").json() == {"ok": True}
    assert httpx.post(base + "/_fake/reset").json() == {"ok": True}
    assert httpx.get(base + "/_fake/calls").json() == []  # control calls are never recorded


def test_concurrent_appends_each_get_their_own_row(
    sheets_server: tuple[SheetsFake, ServerThread], sheets_fake: SheetsFake
) -> None:
    url = f"{sheets_server[1].url}/v4/spreadsheets/{SPREADSHEET}/values/Leads!A1:append"

    def append(i: int) -> str:
        reply = httpx.post(
            url,
            params={"valueInputOption": "RAW"},
            json={"values": [[f"lead-{i}"]]},
            headers={"Authorization": "Bearer t"},
        )
        return str(reply.json()["updates"]["updatedRange"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        ranges = list(pool.map(append, range(24)))

    assert len(set(ranges)) == 24
    assert sorted(row[0] for row in sheets_fake.sheet_values(SPREADSHEET, "Leads")) == sorted(
        f"lead-{i}" for i in range(24)
    )


def test_after_fault_applies_the_write_but_loses_the_answer(sheets: Any, sheets_fake: SheetsFake) -> None:
    sheets_fake.add_fault(500, match=":append", after=True)
    with pytest.raises(HttpError):
        sheets.spreadsheets().values().append(
            spreadsheetId=SPREADSHEET, range="Leads", valueInputOption="RAW", body={"values": [["once"]]}
        ).execute()

    assert sheets_fake.sheet_values(SPREADSHEET, "Leads") == [["once"]]


# ---- Resend ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def resend_server() -> Iterator[tuple[ResendFake, ServerThread]]:
    fake = ResendFake(api_keys=[RESEND_KEY])
    with fake.server() as server:
        yield fake, server


@pytest.fixture
def resend_fake(
    resend_server: tuple[ResendFake, ServerThread], monkeypatch: pytest.MonkeyPatch
) -> ResendFake:
    fake, server = resend_server
    fake.reset()
    monkeypatch.setattr(resend, "api_url", server.url)
    monkeypatch.setattr(resend, "api_key", RESEND_KEY)
    return fake


EMAIL: dict[str, Any] = {
    "from": "All In Academy <hello@allin.example>",
    "to": ["parent@example.com"],
    "subject": "Welcome",
    "html": "<p>Hi</p>",
    "tags": [{"name": "lead", "value": "L-1"}],
}


def test_resend_send_and_retrieve(resend_fake: ResendFake) -> None:
    sent = resend.Emails.send(dict(EMAIL))  # type: ignore[arg-type]

    assert len(sent["id"]) == 36
    (email,) = resend_fake.sent
    assert email["id"] == sent["id"]
    assert email["from"] == EMAIL["from"] and email["to"] == ["parent@example.com"]
    assert email["subject"] == "Welcome" and email["html"] == "<p>Hi</p>" and email["text"] is None
    assert email["tags"] == [{"name": "lead", "value": "L-1"}]
    assert resend_fake.state()["sent"][0]["id"] == sent["id"]
    fetched = resend.Emails.get(sent["id"])
    assert fetched["subject"] == "Welcome" and fetched["object"] == "email"


def test_resend_idempotent_replay_and_conflict(resend_fake: ResendFake) -> None:
    options: Any = {"idempotency_key": "welcome/lead-1"}
    first = resend.Emails.send(dict(EMAIL), options=options)  # type: ignore[arg-type]
    again = resend.Emails.send(dict(EMAIL), options=options)  # type: ignore[arg-type]

    assert again["id"] == first["id"]
    assert len(resend_fake.sent) == 1
    assert resend_fake.calls()[0]["headers"]["Idempotency-Key"] == "welcome/lead-1"

    with pytest.raises(resend.exceptions.ResendError) as exc:
        resend.Emails.send({**EMAIL, "subject": "Other"}, options=options)  # type: ignore[arg-type]
    assert exc.value.code == 409
    assert exc.value.error_type == "invalid_idempotent_request"
    assert len(resend_fake.sent) == 1


def test_resend_idempotency_expires_after_24_hours(resend_server: tuple[ResendFake, ServerThread]) -> None:
    now = [1_000_000.0]
    fake = ResendFake(api_keys=[RESEND_KEY], clock=lambda: now[0])
    with fake.server() as server:
        headers = {"Authorization": f"Bearer {RESEND_KEY}", "Idempotency-Key": "k"}
        first = httpx.post(server.url + "/emails", json=EMAIL, headers=headers).json()
        now[0] += 24 * 3600 + 1
        second = httpx.post(server.url + "/emails", json=EMAIL, headers=headers).json()
    assert first["id"] != second["id"]
    assert len(fake.sent) == 2


def test_resend_idempotency_key_too_long(resend_fake: ResendFake) -> None:
    with pytest.raises(resend.exceptions.ResendError) as exc:
        resend.Emails.send(dict(EMAIL), options={"idempotency_key": "k" * 257})  # type: ignore[arg-type]

    assert exc.value.code == 400
    assert exc.value.error_type == "invalid_idempotency_key"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"subject": None}, "Missing `subject` field."),
        ({"to": None}, "Missing `to` field."),
        ({"html": None}, "Missing `html` or `text` field."),
        ({"from": "not an address"}, "Invalid `from` field."),
        ({"to": ["ok@example.com", "broken@"]}, "Invalid `to` field."),
        ({"to": [f"p{i}@example.com" for i in range(51)]}, "Too many recipients"),
    ],
)
def test_resend_validation_is_422(resend_fake: ResendFake, change: dict[str, Any], message: str) -> None:
    params = {k: v for k, v in {**EMAIL, **change}.items() if v is not None}

    with pytest.raises(resend.exceptions.ValidationError) as exc:
        resend.Emails.send(params)  # type: ignore[arg-type]

    assert exc.value.code == 422
    assert exc.value.message.startswith(message)
    assert resend_fake.sent == []


def test_resend_auth_errors(resend_fake: ResendFake, resend_server: tuple[ResendFake, ServerThread]) -> None:
    missing = httpx.post(resend_server[1].url + "/emails", json=EMAIL)
    assert missing.status_code == 401
    assert missing.json() == {
        "statusCode": 401,
        "message": "Missing API key in the authorization header.",
        "name": "missing_api_key",
    }

    resend.api_key = "re_wrong"
    with pytest.raises(resend.exceptions.InvalidApiKeyError) as exc:
        resend.Emails.send(dict(EMAIL))  # type: ignore[arg-type]
    assert exc.value.code == 403


def test_resend_rate_limit_fault_has_retry_after(resend_fake: ResendFake) -> None:
    resend_fake.add_fault(429, retry_after=2)

    with pytest.raises(resend.exceptions.RateLimitError) as exc:
        resend.Emails.send(dict(EMAIL))  # type: ignore[arg-type]

    assert exc.value.code == 429
    assert exc.value.headers["retry-after"] == "2"
    assert resend_fake.sent == []


def test_resend_lost_answer_then_retry_with_same_key_sends_once(resend_fake: ResendFake) -> None:
    resend_fake.add_fault(500, after=True)
    options: Any = {"idempotency_key": "email1/lead-7"}
    with pytest.raises(resend.exceptions.ResendError) as exc:
        resend.Emails.send(dict(EMAIL), options=options)  # type: ignore[arg-type]
    assert exc.value.code == 500

    retried = resend.Emails.send(dict(EMAIL), options=options)  # type: ignore[arg-type]

    assert [email["id"] for email in resend_fake.sent] == [retried["id"]]


# ---- Telegram --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def telegram_server() -> Iterator[tuple[TelegramFake, ServerThread]]:
    fake = TelegramFake(tokens=[TOKEN], username="allin_academy_bot")
    with fake.server() as server:
        yield fake, server


@pytest.fixture
def telegram_fake(telegram_server: tuple[TelegramFake, ServerThread]) -> TelegramFake:
    telegram_server[0].reset()
    return telegram_server[0]


@pytest.fixture
def bot_api(
    telegram_server: tuple[TelegramFake, ServerThread], telegram_fake: TelegramFake
) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{telegram_server[1].url}/bot{TOKEN}/", timeout=5) as client:
        yield client


def test_get_me(bot_api: httpx.Client) -> None:
    me = bot_api.get("getMe").json()

    assert me["ok"] is True
    assert me["result"]["id"] == 123456
    assert me["result"]["is_bot"] is True and me["result"]["username"] == "allin_academy_bot"
    assert me["result"]["can_join_groups"] is True


def test_send_message_happy_path(bot_api: httpx.Client, telegram_fake: TelegramFake) -> None:
    markup = {"inline_keyboard": [[{"text": "Call me", "callback_data": "call:1"}]]}
    first = bot_api.post(
        "sendMessage",
        json={"chat_id": 42, "text": "<b>Hello</b>, Anna", "parse_mode": "HTML", "reply_markup": markup},
    ).json()
    # A form post with the markup JSON-encoded, as python-telegram-bot sends it.
    second = bot_api.post(
        "SENDMESSAGE", data={"chat_id": "42", "text": "again", "reply_markup": '{"remove_keyboard": true}'}
    ).json()
    other_chat = bot_api.get("sendMessage", params={"chat_id": "-1001234", "text": "group"}).json()

    message = first["result"]
    assert first["ok"] is True
    assert message["message_id"] == 1 and second["result"]["message_id"] == 2
    assert other_chat["result"]["message_id"] == 1
    assert message["chat"] == {"id": 42, "type": "private"}
    assert other_chat["result"]["chat"]["type"] == "supergroup"
    assert message["from"]["is_bot"] is True and message["from"]["username"] == "allin_academy_bot"
    assert isinstance(message["date"], int)
    assert message["text"] == "Hello, Anna"
    assert message["entities"] == [{"type": "bold", "offset": 0, "length": 5}]
    assert message["reply_markup"] == markup
    assert "reply_markup" not in second["result"]  # reply keyboards are not echoed
    assert [m["text"] for m in telegram_fake.messages(chat_id=42)] == ["Hello, Anna", "again"]
    assert len(telegram_fake.messages()) == 3
    assert telegram_fake.calls(path="sendMessage")[0]["body"]["parse_mode"] == "HTML"


def test_wrong_token_and_unknown_method(
    telegram_server: tuple[TelegramFake, ServerThread], bot_api: httpx.Client
) -> None:
    wrong = httpx.post(f"{telegram_server[1].url}/bot999:nope/sendMessage", json={"chat_id": 1, "text": "x"})
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

    unknown = bot_api.post("sendTelepathy", json={})
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"chat_id": 42, "text": ""}, "Bad Request: message text is empty"),
        ({"chat_id": 42}, "Bad Request: message text is empty"),
        ({"chat_id": 42, "text": "<b> </b>", "parse_mode": "HTML"}, "Bad Request: message text is empty"),
        ({"text": "hi"}, "Bad Request: chat_id is empty"),
        ({"chat_id": 42, "text": "x" * 4097}, "Bad Request: message is too long"),
        (
            {"chat_id": 42, "text": "<b>unclosed", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            {"chat_id": 42, "text": "a<br>b", "parse_mode": "HTML"},
            'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 1',
        ),
        (
            {"chat_id": 42, "text": "<b>x</i>", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Unmatched end tag at byte offset 4,"
            ' expected "</b>", found "</i>"',
        ),
        (
            {"chat_id": 42, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "no action"}]]}},
            "Bad Request: can't parse inline keyboard button:"
            " Text buttons are unallowed in the inline keyboard",
        ),
    ],
)
def test_send_message_errors(
    bot_api: httpx.Client, telegram_fake: TelegramFake, params: dict[str, Any], description: str
) -> None:
    response = bot_api.post("sendMessage", json=params)

    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}
    assert telegram_fake.messages() == []


def test_4096_characters_are_fine(bot_api: httpx.Client) -> None:
    text = "я" * 4096
    assert bot_api.post("sendMessage", json={"chat_id": 1, "text": text}).json()["result"]["text"] == text


def test_webhook_with_secret(bot_api: httpx.Client, telegram_fake: TelegramFake) -> None:
    url = "https://example.com/tg_webhook"
    set_ok = bot_api.post("setWebhook", data={"url": url, "secret_token": "s3cr3t_-X"}).json()
    assert set_ok == {"ok": True, "result": True, "description": "Webhook was set"}
    info = bot_api.get("getWebhookInfo").json()["result"]
    assert info["url"] == url and info["pending_update_count"] == 0
    assert "secret_token" not in info  # the real API never shows it back
    assert telegram_fake.webhook.secret_token == "s3cr3t_-X"
    assert telegram_fake.state()["webhook"]["secret_token"] == "s3cr3t_-X"

    bad = bot_api.post("setWebhook", json={"url": url, "secret_token": "has space+plus"})
    assert bad.status_code == 400
    assert bad.json()["description"] == "Bad Request: secret token contains unallowed characters"
    plain_http = bot_api.post("setWebhook", json={"url": "http://example.com/hook"})
    assert (
        plain_http.json()["description"]
        == "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
    )
    assert telegram_fake.webhook.url == url  # refused calls change nothing

    deleted = bot_api.post("deleteWebhook").json()
    assert deleted["description"] == "Webhook was deleted"
    assert bot_api.get("getWebhookInfo").json()["result"]["url"] == ""


def test_telegram_rate_limit_fault(bot_api: httpx.Client, telegram_fake: TelegramFake) -> None:
    telegram_fake.add_fault(429, retry_after=3, match="sendMessage")

    limited = bot_api.post("sendMessage", json={"chat_id": 1, "text": "x"})

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert limited.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert bot_api.post("sendMessage", json={"chat_id": 1, "text": "x"}).json()["ok"] is True


def test_telegram_hang_times_out_httpx(
    telegram_server: tuple[TelegramFake, ServerThread], telegram_fake: TelegramFake
) -> None:
    telegram_fake.add_fault(hang=1.0)
    with pytest.raises(httpx.TimeoutException):
        httpx.post(f"{telegram_server[1].url}/bot{TOKEN}/getMe", timeout=0.3)
    telegram_fake.clear_faults()


def test_python_telegram_bot_runs_against_the_fake(
    telegram_server: tuple[TelegramFake, ServerThread], telegram_fake: TelegramFake
) -> None:
    from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
    from telegram.constants import ParseMode

    async def scenario() -> Any:
        async with Bot(TOKEN, base_url=f"{telegram_server[1].url}/bot") as bot:
            markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
            message = await bot.send_message(
                7, "<i>hi</i> there", parse_mode=ParseMode.HTML, reply_markup=markup
            )
            return bot.username, message

    username, message = asyncio.run(scenario())

    assert username == "allin_academy_bot"
    assert message.message_id == 1 and message.chat.id == 7 and message.text == "hi there"
    assert message.reply_markup.inline_keyboard[0][0].callback_data == "yes"
    assert telegram_fake.messages(7)[0]["entities"] == [{"type": "italic", "offset": 0, "length": 2}]


def test_custom_method_registration(bot_api: httpx.Client, telegram_fake: TelegramFake) -> None:
    telegram_fake.register_method("answerCallbackQuery", lambda fake, bot, params: True)

    assert bot_api.post("answerCallbackQuery", json={"callback_query_id": "1"}).json() == {
        "ok": True,
        "result": True,
    }


# ---- all three together ----------------------------------------------------------------------------------
def test_start_fakes_in_process() -> None:
    env = {
        "SHEETS_SPREADSHEET_ID": "sheet-xyz",
        "TELEGRAM_BOT_TOKEN": "42:abc",
        "TELEGRAM_BOT_USERNAME": "some_bot",
        "RESEND_API_KEY": "re_env",
    }
    with start_fakes(env) as fakes:
        assert fakes.sheets.sheet_titles("sheet-xyz") == ["Leads", "Log"]
        me = httpx.get(f"{fakes.telegram_url}/bot42:abc/getMe").json()["result"]
        assert me["username"] == "some_bot"
        sent = httpx.post(
            fakes.resend_url + "/emails", json=EMAIL, headers={"Authorization": "Bearer re_env"}
        )
        assert sent.status_code == 200 and len(fakes.resend.sent) == 1
        assert fakes.app_env()["TELEGRAM_API_URL"] == fakes.telegram_url
        # local functions are plain http: the dev fake accepts such webhooks
        hook = httpx.post(
            f"{fakes.telegram_url}/bot42:abc/setWebhook", json={"url": "http://127.0.0.1:8080/"}
        )
        assert hook.json()["ok"] is True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_serves_all_three() -> None:
    ports = [_free_port() for _ in range(3)]
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": "77:cli",
        "RESEND_API_KEY": "re_cli",
        "SHEETS_SPREADSHEET_ID": "cli-sheet",
    }
    args = ["--sheets-port", str(ports[0]), "--resend-port", str(ports[1]), "--telegram-port", str(ports[2])]
    proc = subprocess.Popen(
        [sys.executable, "-m", "local.fakes", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                me = httpx.get(f"http://127.0.0.1:{ports[2]}/bot77:cli/getMe", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the fakes did not start"
                time.sleep(0.05)
        assert me.json()["result"]["username"] == "allin_academy_bot"
        sheet = httpx.get(
            f"http://127.0.0.1:{ports[0]}/v4/spreadsheets/cli-sheet", headers={"Authorization": "Bearer t"}
        )
        assert sheet.status_code == 200
        email = httpx.post(
            f"http://127.0.0.1:{ports[1]}/emails", json=EMAIL, headers={"Authorization": "Bearer re_cli"}
        )
        assert email.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert b"point the app here with TELEGRAM_API_URL" in stderr
