"""Scenario 1 end to end: a Tilda POST → CRM → email1 → email2 → call alert, through real processes."""

from __future__ import annotations

import re
import time

from local.cloud_tasks_emulator import fake_oidc_token
from shared.domain.leads import LeadStatus
from tests.e2e.conftest import System
from tests.factories import tilda_form

HALF_HOUR = 30 * 60
DAY = 24 * 3600


def submit(system: System, **form: str | None) -> str:
    response = system.post_tilda(tilda_form(**form))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "created"
    return body["lead_id"]


def test_full_chain_from_tilda_to_the_call_alert(system: System) -> None:
    lead_id = submit(system)
    assert [t["url"] for t in system.run_due()] == [system.stack.url("email_chain")]  # the CRM sync
    row = system.crm_row(lead_id)
    assert (row["status"], row["source"], row["phone"], row["email"]) == (
        "NEW",
        "tilda",
        "+79161234567",
        "anna.petrova@example.com",
    )
    assert row["utm_source"] == "instagram"
    assert "Новая заявка" in system.manager_messages()[0]
    assert system.emails() == []

    system.advance(HALF_HOUR)
    [email1] = system.emails()
    assert email1["to"] == ["anna.petrova@example.com"]
    token = re.search(r"https://t\.me/allin_academy_bot\?start=([A-Za-z0-9_-]+)", email1["text"]).group(1)  # type: ignore[union-attr]
    assert len(token) >= 20 and lead_id not in token
    assert system.leads().find_by(token=token).lead_id == lead_id  # type: ignore[union-attr]
    assert token in email1["html"]
    assert system.crm_row(lead_id)["email_1_sent"] == "TRUE"

    system.advance(DAY)
    assert len(system.emails()) == 2
    assert system.crm_row(lead_id)["email_2_sent"] == "TRUE"

    system.advance(DAY)
    alert = system.manager_messages()[-1]
    for expected in ("Позвоните", "Анна Петрова", "+79161234567", "anna.petrova@example.com", "tilda"):
        assert expected in alert
    assert system.crm_row(lead_id)["call_alert_sent"] == "TRUE"
    assert [r["event"] for r in system.sheet("Log")] == [
        "LEAD_CREATED",
        "EMAIL_1_SENT",
        "EMAIL_2_SENT",
        "CALL_ALERT_SENT",
    ]
    assert system.pending_tasks() == []
    assert len(system.emails()) == 2


def test_chain_stops_when_the_parent_opens_the_bot_after_email1(system: System) -> None:
    lead_id = submit(system)
    system.run_due()
    system.advance(HALF_HOUR)
    assert len(system.emails()) == 1
    # What tg_webhook does when the parent follows the deep link.
    system.leads().update(
        lead_id, lambda lead: lead.model_copy(update={"bot_activated": True, "status": LeadStatus.ACTIVATED})
    )
    messages_before = len(system.manager_messages())

    system.advance(DAY)
    system.advance(DAY)
    assert len(system.emails()) == 1
    assert len(system.manager_messages()) == messages_before
    assert system.pending_tasks() == []
    assert system.crm_row(lead_id).get("email_2_sent", "") == ""


def test_manager_status_change_in_the_sheet_stops_the_chain(system: System) -> None:
    lead_id = submit(system)
    system.run_due()
    rows = system.sheet("Leads")
    header = list(rows[0].keys())
    status_column = chr(ord("A") + header.index("status"))
    system.http.put(
        f"{system.stack.fakes_url['sheets']}/v4/spreadsheets/{system.env['SHEETS_SPREADSHEET_ID']}/values/Leads!{status_column}2",
        params={"valueInputOption": "RAW"},
        json={"values": [["CALLED"]]},
        headers={"Authorization": "Bearer manager"},
    ).raise_for_status()
    system.advance(HALF_HOUR)
    assert system.emails() == []
    assert system.pending_tasks() == []
    assert system.leads().get(lead_id).crm_status == "CALLED"  # type: ignore[union-attr]


def test_tilda_retrying_the_same_form_three_times(system: System) -> None:
    responses = [system.post_tilda() for _ in range(3)]
    assert [r.json()["outcome"] for r in responses] == ["created", "duplicate", "duplicate"]
    system.run_due()
    system.advance(HALF_HOUR)
    assert len(system.sheet("Leads")) == 1
    assert len(system.emails()) == 1
    assert len(system.manager_messages()) == 1


def test_formula_in_the_name_stays_text(system: System) -> None:
    lead_id = submit(system, Name='=HYPERLINK("http://x","y")')
    system.run_due()
    assert system.crm_row(lead_id)["name"] == '=HYPERLINK("http://x","y")'
    assert system.sheet_formulas() == {}


def test_bad_requests_write_nothing(system: System) -> None:
    assert system.post_tilda(**{"X-Tilda-Secret": "wrong"}).status_code == 401
    assert system.post_tilda(tilda_form(Phone="123")).status_code == 400
    assert system.post_tilda(tilda_form(Email="anna@")).status_code == 400
    assert system.post_tilda({"test": "test"}).status_code == 200
    big = system.http.post(
        system.stack.url("tilda_webhook"),
        content=b"Name=" + b"A" * 200_000,
        headers={
            "X-Tilda-Secret": system.env["TILDA_SECRET"],
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert big.status_code == 413
    for value in (["a", "b"], True, 12345):  # a JSON body's name must be text
        typed = system.http.post(
            system.stack.url("tilda_webhook"),
            json={"Name": value, "Phone": "+79161234567"},
            headers={"X-Tilda-Secret": system.env["TILDA_SECRET"]},
        )
        assert (typed.status_code, typed.json()["error"]) == (400, "Name must be text")
    assert system.pending_tasks() == [] and system.sheet("Leads") == [] and system.sheets_calls() == 0
    assert system.leads().find_by(phone="+79161234567") is None


def test_tilda_is_answered_while_sheets_hangs_and_the_lead_arrives_later(system: System) -> None:
    system.fault("sheets", hang=3, times=-1)
    response = system.post_tilda()
    assert response.status_code == 200  # the webhook never waits for Sheets
    lead_id = response.json()["lead_id"]
    [sync] = system.run_due()
    assert sync["status"] == 200  # the row waits in the outbox; the task has nothing left to retry
    assert len(system.manager_messages()) == 1  # the managers hear of the lead while Sheets is down
    system.http.delete(f"{system.stack.fakes_url['sheets']}/_fake/faults").raise_for_status()
    assert system.reconcile() == {}  # not due yet: a failed effect backs off
    system.advance(60)
    assert system.reconcile() == {"done": 2}  # the row and its Log row
    assert system.crm_row(lead_id)["lead_id"] == lead_id
    assert system.reconcile() == {} and len(system.manager_messages()) == 1


def test_a_long_sheets_outage_loses_nothing(system: System) -> None:
    system.fault("sheets", status=503, times=-1)
    lead_id = submit(system)
    system.run_due()
    for _ in range(8):  # two hours and more of emulated time, the reconciler every 15 minutes
        system.advance(15 * 60)
        assert set(system.reconcile()) <= {"retry"}
    assert system.sheet("Leads") == [] and len(system.manager_messages()) == 1
    developer_alerts = [
        m["text"]
        for m in system._state("telegram")["messages"]
        if str(m["chat"]["id"]) == system.env["DEV_CHAT_ID"]
    ]
    assert len(developer_alerts) == 1 and "for crm" in developer_alerts[0]  # one alert, not one per retry
    assert len(system.emails()) == 1  # email1 went out at +30 min from what the store knows
    system.http.delete(f"{system.stack.fakes_url['sheets']}/_fake/faults").raise_for_status()
    system.advance(30 * 60)
    # The row and its Log row (and the reconciler's own look at a lead still behind the CRM), email1's
    # cell and Log row.
    assert system.reconcile() == {"done": 5}
    assert [row["lead_id"] for row in system.sheet("Leads")] == [lead_id]
    assert len(system.manager_messages()) == 1


def test_sheets_500_and_429_are_retried_without_duplicates(system: System) -> None:
    lead_id = submit(system)
    system.fault("sheets", status=500, times=2)
    system.fault("sheets", status=429, times=1)
    system.run_due()
    assert len([r for r in system.sheet("Leads") if r["lead_id"] == lead_id]) == 1


def test_resend_failing_is_marked_in_the_crm_then_retried(system: System) -> None:
    lead_id = submit(system)
    system.run_due()
    system.fault("resend", status=500, times=3)  # the first send and its two retries
    [attempt] = system.advance(HALF_HOUR)
    assert attempt["status"] == 503
    assert system.crm_row(lead_id)["email_1_sent"] == "FAILED"
    assert system.sheet("Log")[-1]["event"] == "EMAIL_1_SENT_FAILED"
    system.advance(60)
    assert len(system.emails()) == 1
    assert system.crm_row(lead_id)["email_1_sent"] == "TRUE"


def test_a_task_delivered_twice_sends_one_email(system: System) -> None:
    lead_id = submit(system)
    system.run_due()
    task = {"step": "email1", "lead_id": lead_id}
    headers = system.task_headers("email_chain")
    first = system.http.post(system.stack.url("email_chain"), json=task, headers=headers)
    second = system.http.post(system.stack.url("email_chain"), json=task, headers=headers)
    assert (first.json()["outcome"], second.json()["outcome"]) == ("done", "duplicate")
    assert len(system.emails()) == 1


def test_forged_task_calls_are_refused_with_nothing_done(system: System) -> None:
    lead_id = submit(system)
    task = {"step": "email1", "lead_id": lead_id}
    url = system.stack.url("email_chain")
    invoker = system.env["TASKS_INVOKER_SERVICE_ACCOUNT"]
    unsigned = fake_oidc_token(invoker, url, time.time())  # right claims, no key of the issuer's
    forged = {
        "no token": {},
        "not a token": {"Authorization": "Bearer not-a-jwt"},
        "unsigned": {"Authorization": f"Bearer {unsigned}"},
        "another account": system.task_headers(
            "email_chain", account="intruder@example.iam.gserviceaccount.com"
        ),
        "another audience": system.task_headers("reminders"),
    }
    for name, headers in forged.items():
        headers = {**headers, "X-CloudTasks-TaskRetryCount": "99"}
        for path in ("", "reconcile"):
            response = system.http.post(url + path, json=task, headers=headers)
            assert response.status_code == 401, (name, path, response.text)
    reminder = {"kind": "remind24h", "lead_id": lead_id, "booking_id": "abcd"}
    assert system.http.post(system.stack.url("reminders"), json=reminder).status_code == 401
    assert system.emails() == [] and system.sheets_calls() == 0  # nothing was done
    response = system.http.post(url, json=task, headers=system.task_headers("email_chain"))
    assert response.json()["outcome"] == "done" and len(system.emails()) == 1  # the invoker's call works


def test_malformed_task_is_dropped_for_good(system: System) -> None:
    headers = system.task_headers("email_chain")
    response = system.http.post(system.stack.url("email_chain"), content=b"{not json", headers=headers)
    assert response.status_code == 200 and response.json()["outcome"] == "rejected"
    response = system.http.post(
        system.stack.url("email_chain"), json={"step": "email9", "lead_id": "x"}, headers=headers
    )
    assert response.status_code == 200 and response.json()["outcome"] == "rejected"


def test_a_lead_arriving_after_time_moved_on_waits_its_own_half_hour(system: System) -> None:
    submit(system)
    system.run_due()
    system.advance(DAY)  # the first lead's chain moved the clock on
    submit(system, Email="boris@example.com", Phone="+79162223344", tranid="second-form")
    system.run_due()

    def emails_to_boris() -> int:
        return len([e for e in system.emails() if e["to"] == ["boris@example.com"]])

    assert emails_to_boris() == 0
    system.advance(HALF_HOUR)
    assert emails_to_boris() == 1
