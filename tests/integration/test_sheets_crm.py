"""The Sheets CRM adapter through the real google-api-python-client against the Sheets fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from local.fakes import SheetsFake
from shared.adapters.google_api import build_sheets_service
from shared.adapters.sheets import SheetsCrm
from shared.config import load_settings
from shared.domain.crm_layout import MANAGER_COLUMNS
from shared.domain.leads import LEAD_COLUMNS
from shared.ports import CrmUnavailable, LogEntry, RowChange

SHEET = "crm-sheet"


@pytest.fixture
def fake() -> Iterator[SheetsFake]:
    sheets = SheetsFake({SHEET: ["Leads", "Log"]})
    with sheets.server() as server:
        sheets.url = server.url  # type: ignore[attr-defined]
        yield sheets


def crm_for(fake: SheetsFake, **settings: object) -> SheetsCrm:
    values = {"app_env": "test", "sheets_api_url": f"{fake.url}/", "sheets_timeout_seconds": 0.5, **settings}  # type: ignore[attr-defined]
    config = load_settings(**values)
    return SheetsCrm(lambda: build_sheets_service(config), SHEET, retries=3, backoff_seconds=0.01)


def row(lead_id: str, **values: str) -> dict[str, str]:
    return {"lead_id": lead_id, "status": "NEW", "name": "Анна", "phone": "+79161234567", **values}


def leads_table(fake: SheetsFake) -> list[list]:
    return fake.sheet_values(SHEET, "Leads")


def rows_of(fake: SheetsFake, lead_id: str) -> list[dict[str, str]]:
    header, *rows = leads_table(fake)
    return [dict(zip(header, r, strict=False)) for r in rows if r and r[header.index("lead_id")] == lead_id]


class TestWriteLead:
    def test_first_write_creates_headers_and_appends_the_row(self, fake: SheetsFake) -> None:
        crm = crm_for(fake)
        assert crm.write_lead("lead1", {}, row("lead1")) is None
        assert leads_table(fake)[0] == [*LEAD_COLUMNS, *MANAGER_COLUMNS]  # the managers' two after the bot's
        assert rows_of(fake, "lead1")[0]["phone"] == "+79161234567"

    def test_a_new_lead_costs_two_calls_once_headers_exist(self, fake: SheetsFake) -> None:
        crm = crm_for(fake)
        crm.write_lead("lead1", {}, row("lead1"))
        fake.clear_calls()
        crm.write_lead("lead2", {}, row("lead2"))
        assert len(fake.calls()) == 2

    def test_row_is_found_by_lead_id_after_managers_sort_and_reorder(self, fake: SheetsFake) -> None:
        crm = crm_for(fake)
        for lead in ("a1", "b2", "c3"):
            crm.write_lead(lead, {}, row(lead, name=f"name-{lead}"))
        header, *rows = leads_table(fake)
        # A manager moves `status` to the front, adds a column of their own and sorts rows backwards.
        order = ["status", "comments", *[h for h in header if h != "status"]]
        table = [order] + [
            [
                dict(zip(header, r, strict=False)).get(col, "manager note" if col == "comments" else "")
                for col in order
            ]
            for r in reversed(rows)
        ]
        fake.set_values(SHEET, "Leads", table, value_input_option="RAW", clear=True)
        before = crm.write_lead("b2", {"email_1_sent": "TRUE"}, row("b2"))
        assert before is not None and before.values["name"] == "name-b2"
        updated = rows_of(fake, "b2")[0]
        assert updated["email_1_sent"] == "TRUE" and updated["comments"] == "manager note"
        assert rows_of(fake, "a1")[0].get("email_1_sent", "") == ""

    def test_formula_like_name_stays_text(self, fake: SheetsFake) -> None:
        crm_for(fake).write_lead("lead1", {}, row("lead1", name='=HYPERLINK("http://x","y")'))
        assert fake.formula_cells(SHEET, "Leads") == {}
        assert rows_of(fake, "lead1")[0]["name"] == '=HYPERLINK("http://x","y")'

    def test_missing_sheet_is_created(self) -> None:
        fake = SheetsFake({SHEET: ["Sheet1"]})
        with fake.server() as server:
            fake.url = server.url  # type: ignore[attr-defined]
            crm = crm_for(fake)
            crm.write_lead("lead1", {}, row("lead1"))
            crm.append_log([LogEntry(datetime(2026, 11, 24, tzinfo=UTC), "lead1", "EMAIL_1_SENT", "TRUE")])
            assert rows_of(fake, "lead1")
            assert fake.sheet_values(SHEET, "Log")[1][1:] == ["lead1", "EMAIL_1_SENT", "TRUE"]

    def test_duplicate_rows_are_merged_into_one(self, fake: SheetsFake) -> None:
        crm = crm_for(fake)
        crm.write_lead("lead1", {}, row("lead1"))
        header = leads_table(fake)[0]
        duplicate = [row("lead1").get(h, "") for h in header]
        fake.set_values(SHEET, "Leads", [duplicate], start="A3", value_input_option="RAW")
        crm.write_lead("lead1", {"email_1_sent": "TRUE"}, row("lead1"))
        assert len(rows_of(fake, "lead1")) == 1


class TestBatchedWriter:
    def test_a_batch_is_one_read_and_one_write_with_its_log_rows(self, fake: SheetsFake) -> None:
        crm = crm_for(fake)
        crm.write_rows([RowChange(lead, {}, row(lead)) for lead in ("a1", "b2", "c3")])  # the first batch
        fake.clear_calls()
        changes = [
            RowChange("b2", {"email_1_sent": "TRUE", "updated_at": "2026-12-04T00:00:00+00:00"}, row("b2")),
            RowChange("c3", {"status": "SCHEDULED"}, row("c3")),
            RowChange("d4", {}, row("d4", name="Дина")),
            RowChange("e5", {}, row("e5")),
        ]
        entries = [LogEntry(datetime(2026, 12, 4, 9, 30, tzinfo=UTC), "d4", "LEAD_CREATED", "tilda")]
        before = crm.write_rows(changes, entries)
        # The rows (cells of existing ones, new ones appended) and the Log rows: one batchUpdate.
        assert [call["path"].rsplit("/", 1)[-1] for call in fake.calls()] == [
            "values:batchGet",
            f"{SHEET}:batchUpdate",
        ]
        assert fake.sheet_values(SHEET, "Log", "FORMATTED_VALUE")[-1] == [
            "2026-12-04 09:30",
            "d4",
            "LEAD_CREATED",
            "tilda",
        ]
        assert before["b2"] is not None and before["b2"].status == "NEW" and before["d4"] is None
        assert (
            rows_of(fake, "b2")[0]["email_1_sent"] == "TRUE"
            and rows_of(fake, "c3")[0]["status"] == "SCHEDULED"
        )
        assert rows_of(fake, "d4")[0]["name"] == "Дина" and len(leads_table(fake)) == 6

    def test_managers_columns_order_and_sorting_stay_and_a_moved_header_is_read_again(
        self, fake: SheetsFake
    ) -> None:
        crm = crm_for(fake)
        crm.write_rows([RowChange(lead, {}, row(lead, name=f"name-{lead}")) for lead in ("a1", "b2")])
        header, *rows = leads_table(fake)
        order = ["comments", *reversed(header)]  # a manager's own column first, the bot's ones reversed
        table = [order] + [
            [
                dict(zip(header, r, strict=False)).get(col, "manager note" if col == "comments" else "")
                for col in order
            ]
            for r in reversed(rows)
        ]
        fake.set_values(SHEET, "Leads", table, value_input_option="RAW", clear=True)
        before = crm.write_rows([RowChange("a1", {"email_1_sent": "TRUE"}, row("a1"))])
        assert before["a1"] is not None and before["a1"].status == "NEW"
        updated = rows_of(fake, "a1")[0]
        assert updated["email_1_sent"] == "TRUE" and updated["comments"] == "manager note"
        assert updated["name"] == "name-a1" and rows_of(fake, "b2")[0].get("email_1_sent", "") == ""
        assert leads_table(fake)[0] == order

    def test_a_duplicate_row_is_merged_and_sheets_down_is_unavailable(self, fake: SheetsFake) -> None:
        crm = crm_for(fake)
        crm.write_rows([RowChange("lead1", {}, row("lead1"))])
        header = leads_table(fake)[0]
        fake.set_values(
            SHEET, "Leads", [[row("lead1").get(h, "") for h in header]], start="A3", value_input_option="RAW"
        )
        crm.write_rows([RowChange("lead1", {"email_1_sent": "TRUE"}, row("lead1"))])
        assert len(rows_of(fake, "lead1")) == 1
        fake.add_fault(503, times=-1)
        with pytest.raises(CrmUnavailable):
            crm.write_rows([RowChange("lead2", {}, row("lead2"))])


class TestFailures:
    @pytest.mark.parametrize("status", [500, 429, 503])
    def test_transient_errors_are_retried(self, fake: SheetsFake, status: int) -> None:
        crm = crm_for(fake)
        fake.add_fault(status, times=2)
        crm.write_lead("lead1", {}, row("lead1"))
        assert len(rows_of(fake, "lead1")) == 1

    def test_hanging_sheets_times_out_and_is_retried(self, fake: SheetsFake) -> None:
        crm = crm_for(fake)
        fake.add_fault(hang=2, times=1)
        crm.write_lead("lead1", {}, row("lead1"))
        assert len(rows_of(fake, "lead1")) == 1

    def test_gives_up_after_three_retries(self, fake: SheetsFake) -> None:
        crm = crm_for(fake)
        fake.add_fault(500, times=-1)
        with pytest.raises(CrmUnavailable):
            crm.write_lead("lead1", {}, row("lead1"))
        assert len(fake.calls()) == 4  # the first try and three retries

    def test_lost_answer_of_an_append_does_not_duplicate_the_row(self, fake: SheetsFake) -> None:
        crm = crm_for(fake)
        crm.write_lead("lead0", {}, row("lead0"))
        fake.add_fault(500, times=1, match=":batchUpdate", after=True)  # the row lands, the answer is lost
        crm.write_lead("lead1", {}, row("lead1"))
        assert len(rows_of(fake, "lead1")) == 1

    def test_read_of_a_missing_lead(self, fake: SheetsFake) -> None:
        assert crm_for(fake).read_lead("nobody") is None


class TestReports:
    def test_read_all_gives_every_row_as_managers_left_it(self, fake: SheetsFake) -> None:
        crm = crm_for(fake)
        crm.write_rows([RowChange(lead, {}, row(lead)) for lead in ("a1", "b2")])
        crm.write_lead("b2", {"status": "ATTENDED", "bot_activated": True}, row("b2"))
        records = {r.values["lead_id"]: r.values for r in crm.read_all()}
        assert set(records) == {"a1", "b2"}
        assert records["b2"]["status"] == "ATTENDED" and records["b2"]["bot_activated"] == "TRUE"

    def test_replace_sheet_adds_the_sheet_then_keeps_exactly_the_rows_given(self, fake: SheetsFake) -> None:
        crm = crm_for(fake)
        crm.replace_sheet("Funnel", [["week", "leads"], ["2026-11-30", 5], ["2026-11-23", 2]])
        assert len(fake.calls()) == 3  # the clear finds no sheet: it is added, then written
        assert fake.sheet_values(SHEET, "Funnel") == [
            ["week", "leads"],
            ["2026-11-30", 5],
            ["2026-11-23", 2],
        ]
        fake.clear_calls()
        crm.replace_sheet("Funnel", [["week", "leads"], ["2026-11-30", 6]])  # a shorter table: no leftovers
        assert fake.sheet_values(SHEET, "Funnel") == [["week", "leads"], ["2026-11-30", 6]]
        assert len(fake.calls()) == 2  # clear, update


def leads_sheet(fake: SheetsFake) -> dict:
    return next(s for s in fake.state()["spreadsheets"][SHEET]["sheets"] if s["title"] == "Leads")


class TestLayout:
    """The Leads sheet explains itself (shared/domain/crm_layout.py), set up by the batched writer."""

    def test_a_new_sheet_is_laid_out_once(self, fake: SheetsFake) -> None:
        crm_for(fake).write_rows([RowChange("a1", {}, row("a1"))])
        sheet = leads_sheet(fake)
        header = sheet["values"][0]
        assert header[-2:] == ["manager_status", "notes"] and sheet["gridProperties"]["frozenRowCount"] == 1
        assert sheet["basicFilter"]["range"]["endColumnIndex"] == len(header)
        dropdowns = {
            v["range"]["startColumnIndex"]: v["rule"]["condition"]["values"] for v in sheet["dataValidation"]
        }
        assert [c["userEnteredValue"] for c in dropdowns[header.index("manager_status")]] == [
            "CALLED",
            "NO_ANSWER",
            "PAID",
            "LOST",
        ]
        assert {"userEnteredValue": "SCHEDULED"} in dropdowns[header.index("status")]
        coloured = {r["ranges"][0]["startColumnIndex"] for r in sheet["conditionalFormats"]}
        assert coloured == {header.index("status"), header.index("manager_status")}
        bold = [f for f in sheet["formats"] if "textFormat" in f["cell"].get("userEnteredFormat", {})]
        assert len(bold) == len(header)

        fake.clear_calls()
        crm_for(fake).write_rows([RowChange("b2", {}, row("b2"))])  # a new instance: checked, not redone
        [write] = [c for c in fake.calls() if c["path"].endswith(f"{SHEET}:batchUpdate")]
        assert [next(iter(r)) for r in write["body"]["requests"]] == ["appendCells"]  # the row, no layout
        assert len([c for c in fake.calls() if c["method"] == "GET" and c["path"].endswith(SHEET)]) == 1
        assert len(leads_sheet(fake)["conditionalFormats"]) == len(sheet["conditionalFormats"])

    def test_a_moved_status_column_moves_its_colours_and_the_managers_data_stays(
        self, fake: SheetsFake
    ) -> None:
        crm = crm_for(fake)
        crm.write_rows([RowChange("a1", {}, row("a1"))])
        header, first = leads_table(fake)
        order = ["status", *[name for name in header if name != "status"]]  # a manager drags it first
        moved = {
            **dict(zip(header, first, strict=False)),
            "manager_status": "PAID",
            "notes": "звонить после 18",
        }
        fake.set_values(
            SHEET,
            "Leads",
            [order, [moved.get(name, "") for name in order]],
            value_input_option="RAW",
            clear=True,
        )
        rules = len(leads_sheet(fake)["conditionalFormats"])

        crm.write_rows([RowChange("a1", {"status": "SCHEDULED"}, row("a1"))])
        sheet = leads_sheet(fake)
        assert len(sheet["conditionalFormats"]) == rules  # the old colours replaced, not added to
        assert {r["ranges"][0]["startColumnIndex"] for r in sheet["conditionalFormats"]} == {
            0,
            order.index("manager_status"),
        }
        [updated] = rows_of(fake, "a1")
        assert updated["status"] == "SCHEDULED" and updated["manager_status"] == "PAID"
        assert updated["notes"] == "звонить после 18"

    def test_an_existing_sheet_keeps_its_managers_data_and_order(self, fake: SheetsFake) -> None:
        theirs = [["Телефон клиента", "Комментарий", "lead_id"], ["+7 916 000", "оплатили", "old1"]]
        fake.set_values(SHEET, "Leads", theirs, value_input_option="RAW", clear=True)
        crm_for(fake).write_rows([RowChange("a1", {}, row("a1"))])
        header, *rows = leads_table(fake)
        assert header[:3] == theirs[0] and "manager_status" in header and "notes" not in header
        assert rows[0][:3] == theirs[1]

    def test_a_sheet_refusing_the_layout_still_gets_its_rows(self, fake: SheetsFake) -> None:
        fake.add_fault(status=400, times=1, match=":batchUpdate", message="Protected sheet")  # type: ignore[attr-defined]
        crm_for(fake).write_rows([RowChange("a1", {}, row("a1"))])
        assert rows_of(fake, "a1")[0]["phone"] == "+79161234567"
