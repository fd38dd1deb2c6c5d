"""The intake and email-chain use cases on recording fakes of their ports (store: fakeredis)."""

from __future__ import annotations

from datetime import timedelta

import fakeredis
import pytest

from shared.adapters.store_redis import RedisStore
from shared.domain.jobs import ChainStep, CrmFlush, CrmSync, Step
from shared.domain.leads import LeadStatus, StepState
from shared.domain.tilda import TildaFields, parse_submission
from shared.flows.crm_flush import FlushRequests
from shared.flows.email_chain import ChainSettings, EmailChain, Outcome, RetryLater
from shared.flows.intake import Intake
from shared.flows.lead_repository import LeadRepository
from shared.flows.outbox import DeliveryOutcome
from shared.ports import MailerError
from tests.factories import outbox, tilda_form
from tests.fakes import FixedClock, RecordingCrm, RecordingMailer, RecordingNotifier, RecordingScheduler


class Pipeline:
    def __init__(self, manager_language: str = "ru", crm_flush_seconds: int = 0) -> None:
        self.store = RedisStore(fakeredis.FakeRedis())
        self.leads = LeadRepository(self.store)
        self.crm = RecordingCrm()
        self.mailer = RecordingMailer()
        self.notifier = RecordingNotifier()
        self.scheduler = RecordingScheduler()
        self.clock = FixedClock()
        self.outbox = outbox(self.store, self.clock, self.leads, self.crm, self.notifier)
        self.flushes = FlushRequests(
            self.store, self.scheduler, self.clock, timedelta(seconds=crm_flush_seconds)
        )
        self.intake = Intake(
            store=self.store,
            leads=self.leads,
            scheduler=self.scheduler,
            clock=self.clock,
            flushes=self.flushes,
            email1_delay=timedelta(minutes=30),
            manager_language=manager_language,
        )
        self.chain = EmailChain(
            store=self.store,
            leads=self.leads,
            crm=self.crm,
            mailer=self.mailer,
            notifier=self.notifier,
            scheduler=self.scheduler,
            clock=self.clock,
            outbox=self.outbox,
            flushes=self.flushes,
            settings=ChainSettings(
                "allin_academy_bot",
                timedelta(hours=24),
                timedelta(hours=24),
                horizon=timedelta(hours=24),
                manager_language=manager_language,
                crm_flush_seconds=crm_flush_seconds,
            ),
        )

    def submit(self, **overrides: str | None):
        submission = parse_submission(tilda_form(**overrides), TildaFields(), "RU")
        return self.intake.accept(submission)

    def run_job(self, name: str):
        job = self.scheduler.jobs[name].job
        assert isinstance(job, ChainStep | CrmSync | CrmFlush)
        return self.chain.run(job)

    def flush_job(self) -> str:
        """The batched writer's latest flush, which the intake asked for."""
        return [name for name in self.scheduler.jobs if name.startswith("crm-flush-")][-1]

    def flush_jobs(self) -> list[str]:
        return [name for name in self.scheduler.jobs if name.startswith("crm-flush-")]


def step_task(step: Step, lead_id: str | None) -> str:
    """The task name of a lead's email-chain step."""
    assert lead_id is not None
    return ChainStep(step=step, lead_id=lead_id).task_name()  # type: ignore[arg-type]


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline()


class TestIntake:
    def test_new_lead_records_its_row_and_message_and_schedules_email1_in_30_minutes(
        self, pipeline: Pipeline
    ) -> None:
        result = pipeline.submit()
        assert result.outcome == "created" and result.lead_id
        email1 = pipeline.scheduler.jobs[step_task(Step.EMAIL1, result.lead_id)]
        assert email1.run_at == pipeline.clock.now() + timedelta(minutes=30)
        assert pipeline.scheduler.jobs[pipeline.flush_job()].run_at == pipeline.clock.now()
        recorded = pipeline.store.due("outbox", pipeline.clock.now().timestamp())
        assert sorted(document.data["effect"]["kind"] for _, document in recorded) == [
            "crm_log",
            "crm_row",
            "managers",
        ]
        # The sheet and the managers' chat are the batched writer's, not on Tilda's clock.
        assert pipeline.crm.calls == [] and pipeline.notifier.managers == []

    def test_tilda_retrying_the_same_form_three_times_is_one_lead_and_one_chain(
        self, pipeline: Pipeline
    ) -> None:
        results = [pipeline.submit() for _ in range(3)]
        assert [r.outcome for r in results] == ["created", "duplicate", "duplicate"]
        assert {r.lead_id for r in results} == {results[0].lead_id}
        assert len(pipeline.scheduler.jobs) == 2

    def test_same_payload_without_tranid_is_a_duplicate(self, pipeline: Pipeline) -> None:
        assert pipeline.submit(tranid=None).outcome == "created"
        assert pipeline.submit(tranid=None).outcome == "duplicate"

    def test_a_parent_sending_the_form_again_and_again_is_one_repeat_message_in_three_hours(
        self, pipeline: Pipeline
    ) -> None:
        lead_id = pipeline.submit(tranid="t0").lead_id
        for n in range(1, 5):
            assert pipeline.submit(tranid=f"t{n}", child_age=str(6 + n)).outcome == "updated"
        assert len(pipeline.flush_jobs()) == 1  # one flush waiting takes every form's effects
        pipeline.run_job(pipeline.flush_job())
        titles = [text.splitlines()[0] for text in pipeline.notifier.managers]
        assert titles == ["🆕 Новая заявка с сайта", "🔁 Повторная заявка с сайта"]
        assert pipeline.crm.row(lead_id)["child_age"] == "10"  # the row follows every form
        pipeline.clock.advance(hours=3)
        pipeline.submit(tranid="t5")
        assert pipeline.run_job(pipeline.flush_job()).detail == "3 done"  # the row, its Log row, the message
        assert len(pipeline.notifier.managers) == 3

    def test_new_form_from_a_known_parent_updates_the_lead(self, pipeline: Pipeline) -> None:
        first = pipeline.submit()
        second = pipeline.submit(tranid="other", Email="new@example.com", Name="Анна")
        assert second.outcome == "updated" and second.lead_id == first.lead_id
        pipeline.run_job(pipeline.flush_job())
        assert len(pipeline.crm.rows) == 1
        assert sorted(m.splitlines()[0] for m in pipeline.notifier.managers) == [
            "🆕 Новая заявка с сайта",  # (one clock tick here: a real one orders them as they came)
            "🔁 Повторная заявка с сайта",
        ]

    def test_cloud_tasks_down_releases_the_form_for_tildas_retry(self, pipeline: Pipeline) -> None:
        pipeline.scheduler.fail = True
        with pytest.raises(ConnectionError):
            pipeline.submit()
        pipeline.scheduler.fail = False
        # The tasks go first: with Cloud Tasks down nothing was stored, and the retry makes the lead.
        assert pipeline.store.keys("leads", "") == [] and pipeline.store.keys("once", "") == []
        assert pipeline.submit().outcome == "created"


class TestNewParentFastPath:
    """A new parent's form: one read, the tasks enqueued together, one atomic commit; a race falls back."""

    @staticmethod
    def before_commit(pipeline: Pipeline, hook) -> list[str]:  # type: ignore[no-untyped-def]
        """Run `hook` once just before the next commit; returns the store calls made from now on."""
        calls: list[str] = []
        pending = [hook] if hook is not None else []
        store = pipeline.store
        commit, get_many = store.commit, store.get_many

        def hooked_commit(writes):  # type: ignore[no-untyped-def]
            calls.append("commit")
            if pending:
                pending.pop()()  # its own commits, if any, go straight to the store
            return commit(writes)

        def counted_get_many(documents):  # type: ignore[no-untyped-def]
            calls.append("get_many")
            return get_many(documents)

        store.commit = hooked_commit  # type: ignore[method-assign]
        store.get_many = counted_get_many  # type: ignore[method-assign]
        return calls

    def test_a_new_parent_is_one_read_and_one_commit(self, pipeline: Pipeline) -> None:
        calls = self.before_commit(pipeline, None)
        result = pipeline.submit()
        assert result.outcome == "created" and calls == ["get_many", "commit"]
        assert pipeline.leads.find_by(email="anna.petrova@example.com").lead_id == result.lead_id  # type: ignore[union-attr]
        assert {n.split("-")[0] for n in pipeline.scheduler.jobs} >= {"crm", result.lead_id}
        assert pipeline.submit().outcome == "duplicate"

    def test_the_same_parent_committing_first_sends_the_form_down_the_slower_path(
        self, pipeline: Pipeline
    ) -> None:
        other = parse_submission(tilda_form(tranid="other:1", Name="Анна"), TildaFields(), "RU")
        self.before_commit(pipeline, lambda: pipeline.intake.accept(other))
        result = pipeline.submit()
        assert result.outcome == "updated"
        assert pipeline.store.keys("leads", "") == [result.lead_id]  # one lead, not two
        pipeline.run_job(pipeline.flush_job())
        assert len(pipeline.crm.rows) == 1

    def test_a_flush_starting_before_the_commit_makes_the_form_ask_for_the_next_one(
        self, pipeline: Pipeline
    ) -> None:
        pipeline.submit(tranid="first:1", Email="first@example.com", Phone="+79160000001")
        calls = self.before_commit(pipeline, pipeline.flushes.starting)  # the waiting flush begins
        result = pipeline.submit()
        assert result.outcome == "created" and calls == ["get_many", "commit", "get_many", "commit"]
        flushes = [name for name in pipeline.scheduler.jobs if name.startswith("crm-flush-")]
        assert len(flushes) == 2  # this form's effects are not left to the flush that had started
        pipeline.run_job(flushes[-1])
        assert result.lead_id in [row["lead_id"] for row in pipeline.crm.rows]

    def test_a_crash_between_the_tasks_and_the_commit_is_made_whole_by_tildas_retry(
        self, pipeline: Pipeline
    ) -> None:
        def crash() -> None:
            raise ConnectionError("the instance dies")

        self.before_commit(pipeline, crash)
        with pytest.raises(ConnectionError):
            pipeline.submit()
        assert pipeline.store.keys("leads", "") == [] and len(pipeline.scheduler.jobs) == 2
        result = pipeline.submit()  # Tilda's retry: the same lead, the tasks it enqueued before
        assert result.outcome == "created" and len(pipeline.scheduler.jobs) == 2
        assert f"{result.lead_id}-email1" in pipeline.scheduler.jobs


class TestSync:
    def test_the_flush_adds_the_row_and_tells_managers(self, pipeline: Pipeline) -> None:
        lead_id = pipeline.submit().lead_id
        assert pipeline.run_job(pipeline.flush_job()).detail == "3 done"
        row = pipeline.crm.row(lead_id)
        assert row["status"] == "NEW" and row["phone"] == "+79161234567" and row["utm_source"] == "instagram"
        assert len(pipeline.notifier.managers) == 1 and "Новая заявка" in pipeline.notifier.managers[0]
        assert pipeline.crm.calls == ["write_rows"]  # the batched writer: the rows and the Log together

    def test_managers_and_developers_read_the_manager_language(self) -> None:
        pipeline = Pipeline(manager_language="en")
        lead_id = pipeline.submit(lang="ru").lead_id
        pipeline.run_job(pipeline.flush_job())
        message = pipeline.notifier.managers[0]
        assert message.startswith("🆕 New request from the website\nName: Анна Петрова\nPhone: +79161234567")
        assert f"ID: {lead_id}" in message and "Имя" not in message

    def test_a_burst_is_one_batch_written_a_few_seconds_later(self) -> None:
        pipeline = Pipeline(crm_flush_seconds=5)
        lead_ids = [
            pipeline.submit(tranid=f"t{n}", Email=f"parent{n}@example.com", Phone=f"+7916000{n:04d}").lead_id
            for n in range(60)
        ]
        [flush] = pipeline.flush_jobs()  # the first lead asked for it; the others found it waiting
        assert pipeline.scheduler.jobs[flush].run_at == pipeline.clock.now() + timedelta(seconds=5)
        assert pipeline.crm.rows == [] and pipeline.notifier.managers == []
        pipeline.clock.advance(seconds=5)
        assert pipeline.run_job(flush).detail == "180 done"  # 60 rows, 60 Log rows, 60 messages
        assert pipeline.crm.calls == ["write_rows"] and len(pipeline.crm.rows) == 60
        # The managers get digests, a few messages for the 60 leads (Telegram allows a bot ~20 a minute
        # in a group), each within Telegram's 4096 characters.
        digests = pipeline.notifier.managers
        assert 2 < len(digests) < 6 and all(len(text) <= 4096 for text in digests)
        assert all(sum(f"ID: {lead_id}" in text for text in digests) == 1 for lead_id in lead_ids)

    def test_a_lead_recorded_after_a_flush_started_asks_for_the_next(self) -> None:
        pipeline = Pipeline(crm_flush_seconds=5)
        pipeline.submit(tranid="a")
        first = pipeline.flush_job()
        pipeline.run_job(first)
        late = pipeline.submit(tranid="b", Email="boris@example.com", Phone="+79160000002").lead_id
        second = pipeline.flush_job()
        assert second != first and pipeline.run_job(second).detail == "3 done"
        assert pipeline.crm.row(late)["lead_id"] == late

    def test_one_writer_at_a_time_and_a_failing_sheet_leaves_the_batch_to_the_reconciler(self) -> None:
        pipeline = Pipeline(crm_flush_seconds=5)
        lead_id = pipeline.submit().lead_id
        flush = pipeline.scheduler.jobs[pipeline.flush_job()]
        pipeline.store.create("crm_writer", "lock", {"at": "another instance"})
        with pytest.raises(RetryLater):
            pipeline.chain.run(flush.job)
        pipeline.store.delete("crm_writer", "lock")
        pipeline.crm.fail_next = 10**6
        assert (
            "2 retry" in pipeline.chain.run(flush.job).detail
        )  # the row and its Log row wait; the message went
        pipeline.crm.fail_next = 0
        pipeline.clock.advance(minutes=1)
        assert pipeline.outbox.redrive() == {DeliveryOutcome.DONE: 2}
        assert pipeline.crm.row(lead_id)["lead_id"] == lead_id

    def test_a_lead_whose_effects_were_never_recorded_is_caught_up_by_the_reconciler(
        self, pipeline: Pipeline
    ) -> None:
        written = pipeline.submit(tranid="written").lead_id
        pipeline.run_job(pipeline.flush_job())
        lost = pipeline.submit(tranid="lost", Email="lost@example.com", Phone="+79160000009").lead_id
        for key, _ in pipeline.store.due("outbox", pipeline.clock.now().timestamp() + 60):
            pipeline.store.delete("outbox", key)  # the instance died between the lead and its effects
        assert pipeline.chain.catch_up_leads() == 0  # a form's row may take a while
        pipeline.clock.advance(minutes=15)
        assert pipeline.chain.catch_up_leads() == 1  # only the lost one: the written one was cleared
        assert pipeline.chain.write_batched() == {DeliveryOutcome.DONE: 1}
        assert {row["lead_id"] for row in pipeline.crm.rows} == {written, lost}
        assert pipeline.chain.catch_up_leads() == 0

    def test_duplicate_delivery_does_nothing_more(self, pipeline: Pipeline) -> None:
        pipeline.submit()
        pipeline.run_job(pipeline.flush_job())
        assert pipeline.run_job(pipeline.flush_job()).detail == "nothing due"
        assert len(pipeline.crm.rows) == 1 and len(pipeline.notifier.managers) == 1

    def test_sheets_down_keeps_the_lead_and_alerts_developers_once(self, pipeline: Pipeline) -> None:
        lead_id = pipeline.submit().lead_id
        pipeline.crm.fail_next = 10**6  # Sheets is down
        result = pipeline.run_job(pipeline.flush_job())
        assert result.outcome is Outcome.DONE and "2 retry" in result.detail
        assert len(pipeline.notifier.managers) == 1  # the managers hear of the lead at once anyway
        for _ in range(12):  # hours of retries, backing off to every 30 minutes
            pipeline.clock.advance(minutes=30)
            assert pipeline.outbox.redrive() == {DeliveryOutcome.RETRY: 2}
        assert len(pipeline.notifier.developers) == 1 and "for crm" in pipeline.notifier.developers[0]
        assert pipeline.crm.rows == []
        pipeline.crm.fail_next = 0  # Sheets is back
        pipeline.clock.advance(minutes=30)
        assert pipeline.outbox.redrive() == {DeliveryOutcome.DONE: 2}
        assert pipeline.crm.row(lead_id)["lead_id"] == lead_id and len(pipeline.crm.rows) == 1
        assert (
            len(pipeline.notifier.managers) == 1
            and pipeline.run_job(pipeline.flush_job()).detail == "nothing due"
        )

    def test_a_day_of_failure_is_a_dead_letter_that_still_recovers(self, pipeline: Pipeline) -> None:
        lead_id = pipeline.submit().lead_id
        pipeline.crm.fail_next = 10**6
        pipeline.run_job(pipeline.flush_job())
        outcomes: dict[DeliveryOutcome, int] = {}
        for _ in range(50):  # a day and more
            pipeline.clock.advance(minutes=30)
            for outcome, count in pipeline.outbox.redrive().items():
                outcomes[outcome] = outcomes.get(outcome, 0) + count
        assert outcomes[DeliveryOutcome.DEAD] >= 1
        dead_alerts = [text for text in pipeline.notifier.developers if "until the service is back" in text]
        assert any("failing for 1 day" in text for text in dead_alerts)
        pipeline.crm.fail_next = 0
        pipeline.clock.advance(hours=1)
        assert pipeline.outbox.redrive() == {DeliveryOutcome.DONE: 2}
        assert pipeline.crm.row(lead_id)["lead_id"] == lead_id


class TestChain:
    def test_full_chain(self, pipeline: Pipeline) -> None:
        lead_id = pipeline.submit().lead_id
        assert lead_id
        pipeline.run_job(pipeline.flush_job())
        pipeline.clock.advance(minutes=30)
        assert pipeline.run_job(step_task(Step.EMAIL1, lead_id)).outcome is Outcome.DONE
        lead = pipeline.leads.get(lead_id)
        assert lead is not None and lead.email_1_sent is StepState.SENT
        email = pipeline.mailer.sent[0]
        assert email.to == "anna.petrova@example.com" and email.idempotency_key == f"{lead_id}-email1"
        assert f"https://t.me/allin_academy_bot?start={lead.link_token}" in email.text
        assert pipeline.leads.find_by(token=lead.link_token).lead_id == lead_id  # type: ignore[union-attr]
        email2 = pipeline.scheduler.jobs[step_task(Step.EMAIL2, lead_id)]
        assert email2.run_at == pipeline.clock.now() + timedelta(hours=24)

        pipeline.clock.advance(hours=24)
        pipeline.run_job(step_task(Step.EMAIL2, lead_id))
        pipeline.clock.advance(hours=24)
        pipeline.run_job(step_task(Step.CALL_ALERT, lead_id))
        assert len(pipeline.mailer.sent) == 2
        alert = pipeline.notifier.managers[-1]
        assert "Позвоните" in alert and "+79161234567" in alert and "anna.petrova@example.com" in alert
        row = pipeline.crm.row(lead_id)
        assert (row["email_1_sent"], row["email_2_sent"], row["call_alert_sent"]) == ("TRUE", "TRUE", "TRUE")
        assert [e.event for e in pipeline.crm.log] == [
            "LEAD_CREATED",
            "EMAIL_1_SENT",
            "EMAIL_2_SENT",
            "CALL_ALERT_SENT",
        ]

    def test_task_delivered_twice_sends_once(self, pipeline: Pipeline) -> None:
        lead_id = pipeline.submit().lead_id
        name = step_task(Step.EMAIL1, lead_id)  # type: ignore[arg-type]
        assert pipeline.run_job(name).outcome is Outcome.DONE
        assert pipeline.run_job(name).outcome is Outcome.DUPLICATE
        assert len(pipeline.mailer.sent) == 1

    def test_activated_lead_stops_the_chain(self, pipeline: Pipeline) -> None:
        lead_id = pipeline.submit().lead_id
        assert lead_id
        pipeline.leads.update(
            lead_id,
            lambda lead: lead.model_copy(update={"bot_activated": True, "status": LeadStatus.ACTIVATED}),
        )
        result = pipeline.run_job(step_task(Step.EMAIL1, lead_id))
        assert (result.outcome, result.detail) == (Outcome.SKIPPED, "bot_activated")
        assert pipeline.mailer.sent == [] and step_task(Step.EMAIL2, lead_id) not in pipeline.scheduler.jobs

    def test_manager_moving_the_status_stops_the_chain(self, pipeline: Pipeline) -> None:
        lead_id = pipeline.submit().lead_id
        assert lead_id
        pipeline.run_job(pipeline.flush_job())
        pipeline.crm.row(lead_id)["status"] = "IN_PROGRESS"
        assert pipeline.run_job(step_task(Step.EMAIL1, lead_id)).detail == "moved_by_manager"
        assert pipeline.mailer.sent == []
        assert pipeline.leads.get(lead_id).crm_status == "IN_PROGRESS"  # type: ignore[union-attr]

    def test_resend_failing_is_marked_in_the_crm_and_retried(self, pipeline: Pipeline) -> None:
        lead_id = pipeline.submit().lead_id
        assert lead_id
        pipeline.run_job(pipeline.flush_job())
        pipeline.mailer.failures = [MailerError("resend 500", transient=True)]
        with pytest.raises(RetryLater):
            pipeline.run_job(step_task(Step.EMAIL1, lead_id))
        assert pipeline.crm.row(lead_id)["email_1_sent"] == "FAILED"
        assert pipeline.crm.log[-1].event == "EMAIL_1_SENT_FAILED"
        assert pipeline.run_job(step_task(Step.EMAIL1, lead_id)).outcome is Outcome.DONE
        assert pipeline.crm.row(lead_id)["email_1_sent"] == "TRUE" and len(pipeline.mailer.sent) == 1

    def test_a_resend_outage_is_shown_through_the_batched_writer_once(self) -> None:
        pipeline = Pipeline(crm_flush_seconds=5)
        lead_id = pipeline.submit().lead_id
        assert lead_id
        pipeline.run_job(pipeline.flush_job())
        pipeline.crm.calls.clear()
        pipeline.mailer.failures = [MailerError("resend 503", transient=True)] * 3
        for _ in range(3):  # three deliveries of the task, an outage
            with pytest.raises(RetryLater):
                pipeline.run_job(step_task(Step.EMAIL1, lead_id))
            pipeline.clock.advance(minutes=5)
        # The failing task writes nothing itself (it reads the managers' status before each try).
        assert set(pipeline.crm.calls) == {"read_lead"}
        assert pipeline.chain.write_batched() == {DeliveryOutcome.DONE: 2}  # one row change, one Log row
        assert pipeline.crm.row(lead_id)["email_1_sent"] == "FAILED"
        assert [entry.event for entry in pipeline.crm.log][-1:] == ["EMAIL_1_SENT_FAILED"]
        assert pipeline.run_job(step_task(Step.EMAIL1, lead_id)).detail == "TRUE"  # Resend is back: sent
        pipeline.chain.write_batched()
        assert pipeline.crm.row(lead_id)["email_1_sent"] == "TRUE" and len(pipeline.mailer.sent) == 1

    def test_permanent_email_failure_gives_up_and_the_chain_goes_on(self, pipeline: Pipeline) -> None:
        lead_id = pipeline.submit().lead_id
        assert lead_id
        pipeline.run_job(pipeline.flush_job())
        pipeline.mailer.failures = [MailerError("resend 422", transient=False)]
        result = pipeline.run_job(step_task(Step.EMAIL1, lead_id))
        assert result.outcome is Outcome.DONE and result.detail.startswith("failed")
        assert pipeline.leads.get(lead_id).email_1_sent is StepState.FAILED  # type: ignore[union-attr]
        assert step_task(Step.EMAIL2, lead_id) in pipeline.scheduler.jobs
        assert len(pipeline.notifier.developers) == 1

    def test_a_transient_failure_is_retried_until_the_horizon_then_given_up(self, pipeline: Pipeline) -> None:
        lead_id = pipeline.submit().lead_id
        assert lead_id
        pipeline.mailer.failures = [MailerError("resend 503", transient=True)] * 3
        with pytest.raises(RetryLater):  # the first failure
            pipeline.run_job(step_task(Step.EMAIL1, lead_id))
        pipeline.clock.advance(hours=23)
        with pytest.raises(RetryLater):  # a retry whatever count it claims: still within the horizon
            pipeline.run_job(step_task(Step.EMAIL1, lead_id))
        assert step_task(Step.EMAIL2, lead_id) not in pipeline.scheduler.jobs
        pipeline.clock.advance(hours=1)
        result = pipeline.run_job(step_task(Step.EMAIL1, lead_id))
        assert (
            result.detail.startswith("failed") and step_task(Step.EMAIL2, lead_id) in pipeline.scheduler.jobs
        )
        assert pipeline.leads.get(lead_id).email_1_sent is StepState.FAILED  # type: ignore[union-attr]
        # Developers: one alert while it was retried (for every lead), one when this lead's email is given up.
        assert len(pipeline.notifier.developers) == 2

    def test_lead_without_email_skips_emails_but_gets_the_call_alert(self, pipeline: Pipeline) -> None:
        lead_id = pipeline.submit(Email=None).lead_id
        assert lead_id
        assert pipeline.run_job(step_task(Step.EMAIL1, lead_id)).detail == "NO_EMAIL"
        pipeline.run_job(step_task(Step.EMAIL2, lead_id))
        pipeline.run_job(step_task(Step.CALL_ALERT, lead_id))
        assert pipeline.mailer.sent == [] and "Позвоните" in pipeline.notifier.managers[-1]

    def test_unknown_lead_is_rejected_for_good(self, pipeline: Pipeline) -> None:
        assert (
            pipeline.chain.run(ChainStep(step=Step.EMAIL1, lead_id="deadbeef00")).outcome is Outcome.REJECTED
        )

    def test_english_lead_gets_english_email(self, pipeline: Pipeline) -> None:
        lead_id = pipeline.submit(lang="en").lead_id
        pipeline.run_job(step_task(Step.EMAIL1, lead_id))  # type: ignore[arg-type]
        assert pipeline.mailer.sent[0].subject.endswith("your trial lesson at All In Academy is waiting")
