"""The funnel: counted from the CRM's rows by cohort and channel, kept on the Funnel sheet, told by /stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fakeredis
import pytest

from shared.adapters.store_redis import RedisStore
from shared.bot.desk import DeskSettings, ManagerDesk
from shared.domain.funnel import FUNNEL_COLUMNS, daily, weekly_table
from shared.flows.funnel import SHEET, FunnelReport
from shared.flows.lead_repository import LeadRepository
from shared.ports import CrmUnavailable
from tests.fakes import FixedClock, RecordingCrm

RIGA = "Europe/Riga"


def row(lead_id: str, created_at: str, status: str = "NEW", **values: object) -> dict[str, object]:
    return {"lead_id": lead_id, "created_at": created_at, "status": status, "source": "tilda", **values}


ROWS = [
    # Sunday 23:30 UTC is Monday 01:30 in Riga: the week of Monday 30 November.
    row(
        "a1",
        "2026-11-29T23:30:00+00:00",
        "ATTENDED",
        utm_source="google",
        utm_campaign="spring",
        tg_id="1",
        manager_status="paid ",  # the managers' column: they paid (however it was typed)
    ),
    row("a2", "2026-11-30T10:00:00+00:00", "NO_SHOW", utm_source="google", utm_campaign="spring", tg_id="2"),
    row("a3", "2026-12-01T10:00:00+00:00", "SCHEDULED", utm_source="google", utm_campaign="spring"),
    row("a4", "2026-12-02T10:00:00+00:00", "NEW", utm_source="google", utm_campaign="spring"),
    row(
        "a5", "2026-12-02T11:00:00+00:00", "думает", utm_source="google", utm_campaign="spring"
    ),  # a manager's
    row("b1", "2026-12-01T09:00:00+00:00", "ACTIVATED", source="direct_bot", bot_activated="TRUE"),
    row("b2", "2026-12-03T09:00:00+00:00", "CANCELLED", source="direct_bot", lesson_at=""),
    row("c1", "2026-11-29T12:00:00+00:00", "DELETED", bot_activated="TRUE"),  # forgotten: still counted
    {"lead_id": "", "created_at": "", "status": ""},  # a blank line in the sheet
    row("x1", "yesterday"),  # unreadable: left out
]


def test_leads_count_by_the_day_they_arrived_in_the_academys_zone_and_their_channel() -> None:
    days = daily(ROWS, RIGA)
    assert sorted(days) == ["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]
    assert days["2026-11-30"] == {
        "tilda|google|spring": {
            "leads": 2,
            "activated": 2,
            "booked": 2,
            "attended": 1,
            "no_show": 1,
            "paid": 1,
        }
    }
    assert days["2026-11-29"] == {
        "tilda||": {"leads": 1, "activated": 1, "booked": 0, "attended": 0, "no_show": 0, "paid": 0}
    }
    assert days["2026-12-03"]["direct_bot||"] == {
        "leads": 1,
        "activated": 1,
        "booked": 1,  # cancelled since: it was booked
        "attended": 0,
        "no_show": 0,
        "paid": 0,
    }


def test_the_funnel_sheet_has_a_row_per_week_and_channel_with_the_conversions() -> None:
    header, *rows = weekly_table(daily(ROWS, RIGA))
    assert tuple(header) == FUNNEL_COLUMNS
    assert rows == [
        ["2026-11-30", "tilda", "google", "spring", 5, 3, 3, 1, 1, 1, 60, 100, 33, 33, 20],
        ["2026-11-30", "direct_bot", "", "", 2, 2, 1, 0, 0, 0, 100, 50, 0, 0, 0],
        ["2026-11-23", "tilda", "", "", 1, 1, 0, 0, 0, 0, 100, 0, "", "", 0],
    ]


class Sheet:
    def __init__(self) -> None:
        self.store = RedisStore(fakeredis.FakeRedis())
        self.clock = FixedClock(datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
        self.crm = RecordingCrm(rows=[dict(r) for r in ROWS])  # type: ignore[misc]
        self.report = FunnelReport(self.store, lambda: self.crm, self.clock, RIGA)


def test_the_sheet_is_rewritten_only_when_its_numbers_change_and_at_most_every_quarter_hour() -> None:
    sheet = Sheet()
    assert sheet.report.refresh()
    assert sheet.crm.calls == ["read_all", "replace_sheet"]
    assert sheet.crm.sheets[SHEET][1][:5] == ["2026-11-30", "tilda", "google", "spring", 5]
    assert not sheet.report.refresh()  # counted a moment ago, by this instance or another
    assert sheet.crm.calls == ["read_all", "replace_sheet"]
    sheet.clock.advance(minutes=16)
    assert sheet.report.refresh() and sheet.crm.calls[-1] == "read_all"  # the same numbers: not written
    sheet.crm.rows.append(row("d1", "2026-12-04T08:00:00+00:00", source="direct_bot"))
    sheet.clock.advance(minutes=16)
    assert sheet.report.refresh() and sheet.crm.calls[-1] == "replace_sheet"
    counts = sheet.report.counts()
    assert counts is not None and counts.at == sheet.clock.now()


def test_a_failing_sheet_leaves_the_last_numbers_and_tries_again_later() -> None:
    sheet = Sheet()
    sheet.report.refresh()
    sheet.clock.advance(minutes=16)
    sheet.crm.fail_next = 1
    with pytest.raises(CrmUnavailable):
        sheet.report.refresh()
    counts = sheet.report.counts()
    assert counts is not None and counts.at == sheet.clock.now() - timedelta(minutes=16)


def test_stats_sums_the_last_days_per_channel() -> None:
    sheet = Sheet()
    sheet.report.refresh()
    desk = ManagerDesk(
        leads=LeadRepository(sheet.store),
        marks=lambda: None,  # type: ignore[arg-type,return-value]
        settings=DeskSettings(language="ru", timezone=RIGA, phone_region="RU"),
        clock=sheet.clock,
        funnel=sheet.report.counts,
    )
    week = desk.command("stats", "5")[0].text.splitlines()
    assert week[0] == "📊 Воронка заявок за последние 5 дн. (30.11–04.12):"
    assert week[1] == (
        "Всего: заявок 7 → в боте 5 (71%) → записались 4 (80%) → пришли 1 (25%), не пришли 1,"
        " оплатили 1 (14%)"
    )
    assert week[3] == (
        "tilda / google / spring: заявок 5 → в боте 3 (60%) → записались 3 (100%) → пришли 1 (33%),"
        " не пришли 1, оплатили 1 (20%)"
    )
    assert week[4].startswith("direct_bot: заявок 2 → в боте 2 (100%)")
    assert week[-1] == "Посчитано 04.12.2026 12:00; по неделям — на листе Funnel."
    assert "tilda: заявок 1" in desk.command("stats", "")[0].text  # 30 days: the week before too
    today = desk.command("stats", "1")[0].text.splitlines()
    assert today[1] == "За эти дни заявок не было."
