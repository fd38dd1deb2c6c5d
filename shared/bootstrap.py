"""The composition root: the only place that turns Settings into real adapters.

Everything is built lazily and once per instance (a Cloud Functions instance serves many requests), and
SDKs are imported only on the paths that use them: cold start is paid per instance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.bootstrap_lessons import LessonWiring
from shared.config import Settings
from shared.flows.lead_repository import LeadRepository
from shared.logs import configure_logging
from shared.ports import Clock, Crm, Mailer, Notifier, Scheduler, StateStore

if TYPE_CHECKING:
    from shared.adapters.openai_ai import OpenAIClient
    from shared.adapters.task_auth import TaskAuth
    from shared.bot.conversation import Conversation
    from shared.bot.desk import ManagerDesk
    from shared.bot.poison import PoisonUpdates
    from shared.bot.runtime import BotRuntime
    from shared.bot.scenes.base import SceneContext
    from shared.domain.conversation import Session
    from shared.domain.leads import Lead
    from shared.flows.assistant import AssistantFlow
    from shared.flows.cards import LeadCards
    from shared.flows.crm_flush import FlushRequests
    from shared.flows.email_chain import EmailChain
    from shared.flows.erasure import Erasure
    from shared.flows.funnel import FunnelReport
    from shared.flows.handover import Handover
    from shared.flows.intake import Intake
    from shared.flows.marks import Marks
    from shared.flows.outbox import Outbox
    from shared.flows.rate_limit import Limit
    from shared.flows.voice import VoiceInput

log = logging.getLogger(__name__)


class Container(LessonWiring):
    """Ports wired from Settings; tests pass fakes for any of them."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: StateStore | None = None,
        crm: Crm | None = None,
        scheduler: Scheduler | None = None,
        mailer: Mailer | None = None,
        notifier: Notifier | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self._task_auths: dict[str, TaskAuth] = {}
        configure_logging(settings.log_level)
        for name, value in (
            ("store", store),
            ("crm", crm),
            ("scheduler", scheduler),
            ("mailer", mailer),
            ("notifier", notifier),
            ("clock", clock),
        ):
            if value is not None:
                self.__dict__[name] = value  # pre-fills the cached_property

    @cached_property
    def clock(self) -> Clock:
        from shared.adapters.clocks import EmulatorClock, SystemClock

        if self.settings.local_clock_url and self.settings.is_local:
            return EmulatorClock(self.settings.local_clock_url)
        return SystemClock()

    @cached_property
    def store(self) -> StateStore:
        s = self.settings
        if s.state_backend == "redis":
            import redis

            from shared.adapters.store_redis import RedisStore

            connection = redis.Redis.from_url(
                s.redis_url or "",
                socket_timeout=s.store_timeout_seconds,
                socket_connect_timeout=s.store_timeout_seconds,
            )
            return RedisStore(connection, s.state_namespace)
        from google.cloud import firestore

        from shared.adapters.store_firestore import FirestoreStore

        client = firestore.Client(project=s.google_cloud_project, database=s.firestore_database)
        return FirestoreStore(client, s.state_namespace, timeout=s.store_timeout_seconds)

    @cached_property
    def leads(self) -> LeadRepository:
        return LeadRepository(self.store, timedelta(days=self.settings.data_retention_days))

    @cached_property
    def crm(self) -> Crm:
        from shared.adapters.google_api import build_sheets_service
        from shared.adapters.sheets import SheetsCrm

        s = self.settings
        return SheetsCrm(
            lambda: build_sheets_service(s),
            s.sheets_spreadsheet_id or "",
            leads_sheet=s.sheets_leads_sheet,
            log_sheet=s.sheets_log_sheet,
            retries=s.sheets_retries,
            backoff_seconds=s.retry_backoff_seconds,
            timezone=s.academy_timezone,
            language=s.manager_language,
        )

    @cached_property
    def funnel(self) -> FunnelReport:
        """The funnel counted from the CRM (the reconciler's), for the Funnel sheet and /stats."""
        from shared.flows.funnel import FunnelReport

        return FunnelReport(self.store, lambda: self.crm, self.clock, self.settings.academy_timezone)

    @cached_property
    def scheduler(self) -> Scheduler:
        from shared.adapters.cloud_tasks import CloudTasksScheduler, build_tasks_client

        s = self.settings
        return CloudTasksScheduler(
            lambda: build_tasks_client(s.cloud_tasks_api_url),
            project=s.google_cloud_project or "",
            location=s.tasks_location,
            queues={"email_chain": s.email_chain_queue, "reminders": s.reminders_queue},
            urls={"email_chain": s.email_chain_url or "", "reminders": s.reminders_url or ""},
            invoker_service_account=s.tasks_invoker_service_account,
        )

    @cached_property
    def mailer(self) -> Mailer:
        from shared.adapters.resend_mailer import ResendMailer

        s = self.settings
        return ResendMailer(
            s.secret("resend_api_key"),
            s.email_from or "",
            api_url=s.resend_api_url,
            retries=s.email_retries,
            backoff_seconds=s.retry_backoff_seconds,
            timeout_seconds=s.resend_timeout_seconds,
        )

    @cached_property
    def notifier(self) -> Notifier:
        from shared.adapters.telegram_notify import TelegramNotifier

        s = self.settings
        return TelegramNotifier(
            api_url=s.telegram_api_url,
            token=s.secret("telegram_bot_token"),
            manager_chat_id=s.manager_chat_id,
            dev_chat_id=s.dev_chat_id,
            timeout=s.telegram_timeout_seconds,
        )

    @cached_property
    def outbox(self) -> Outbox:
        """Every function records effects here; the email_chain function (which has the CRM) also
        re-drives them (the reconciler)."""
        from shared.domain.effects import RetryPolicy
        from shared.flows.effects import BlockedParent, EffectPerformer
        from shared.flows.outbox import Outbox, alert_once

        performer = EffectPerformer(self.leads, lambda: self.crm, self.notifier, self.cards)
        outbox = Outbox(
            store=self.store,
            clock=self.clock,
            perform=performer,
            perform_batch=performer.perform_batch,
            alert=alert_once(self.store, self.notifier.alert_developers),
            policy=RetryPolicy(horizon=timedelta(hours=self.settings.effects_horizon_hours)),
        )
        outbox.on_stopped = BlockedParent(self.leads, self.clock, outbox.record)
        return outbox

    @cached_property
    def cards(self) -> LeadCards:
        """The managers' messages about a lead as one card per lead, drawn by the desk."""
        from shared.flows.cards import LeadCards

        def render(lead: Lead) -> tuple[str, dict[str, Any] | None]:
            from shared.bot.replies import inline_markup  # the bot's buttons: only when a card is drawn

            card = self.desk.card(lead)
            return card.text, inline_markup(card)

        retention = timedelta(days=self.settings.data_retention_days)
        return LeadCards(self.store, self.notifier, render, retention)

    def task_auth(self, own_url: str | None) -> TaskAuth:
        """The check of a task handler's callers: the tasks invoker's OIDC token for `own_url` (built once
        per URL: it keeps the issuer's certificates)."""
        from shared.adapters.task_auth import TaskAuth

        key = own_url or ""
        if key not in self._task_auths:
            s = self.settings
            self._task_auths[key] = TaskAuth(
                certs_url=s.tasks_oidc_certs_url,
                invoker=s.tasks_invoker_service_account or "",
                audiences=[key],
            )
        return self._task_auths[key]

    @cached_property
    def flushes(self) -> FlushRequests:
        from shared.flows.crm_flush import FlushRequests

        return FlushRequests(
            self.store, self.scheduler, self.clock, timedelta(seconds=self.settings.crm_flush_seconds)
        )

    @cached_property
    def intake(self) -> Intake:
        from shared.flows.intake import Intake

        s = self.settings
        return Intake(
            store=self.store,
            leads=self.leads,
            scheduler=self.scheduler,
            clock=self.clock,
            flushes=self.flushes,
            email1_delay=timedelta(seconds=s.email1_delay_seconds),
            manager_language=s.manager_language,
        )

    @cached_property
    def email_chain(self) -> EmailChain:
        from shared.flows.email_chain import ChainSettings, EmailChain

        s = self.settings
        return EmailChain(
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
                bot_username=s.telegram_bot_username or "",
                email2_delay=timedelta(seconds=s.email2_delay_seconds),
                call_alert_delay=timedelta(seconds=s.call_alert_delay_seconds),
                horizon=timedelta(hours=s.effects_horizon_hours),
                timezone=s.academy_timezone,
                manager_language=s.manager_language,
                crm_flush_seconds=s.crm_flush_seconds,
            ),
        )

    @cached_property
    def scenes(self) -> SceneContext:
        from shared.bot.scenes.base import SceneContext, SceneSettings
        from shared.flows.registration import Registration

        s = self.settings
        return SceneContext(
            registration=Registration(leads=self.leads, scheduler=self.scheduler, clock=self.clock),
            clock=self.clock,
            rules=self.booking_rules,
            booking_factory=(lambda: self.booking) if s.google_calendar_id else None,
            erasure_factory=lambda: self.erasure,
            waitlist_factory=(lambda: self.waitlist) if s.google_calendar_id else None,
            settings=SceneSettings(
                manager_link=s.manager_link or "",
                privacy_policy_url=s.privacy_policy_url,
                privacy_policy_version=s.privacy_policy_version,
                welcome_video_note=s.welcome_video_note_file_id,
                phone_region=s.phone_default_region,
                retention_days=s.data_retention_days,
                ai_history_hours=s.ai_history_hours,
            ),
        )

    @cached_property
    def erasure(self) -> Erasure:
        from shared.flows.erasure import Erasure

        s = self.settings
        return Erasure(
            store=self.store,
            leads=self.leads,
            scheduler=self.scheduler,
            outbox=lambda: self.outbox,
            flushes=self.flushes,
            clock=self.clock,
            booking=lambda: self.booking if s.google_calendar_id else None,
            timezone=s.academy_timezone,
            manager_language=s.manager_language,
            waitlist=lambda: self.waitlist if s.google_calendar_id else None,
        )

    @cached_property
    def openai(self) -> OpenAIClient:
        from shared.adapters.openai_ai import OpenAIClient

        s = self.settings
        return OpenAIClient(
            api_key=s.secret("openai_api_key"),
            base_url=s.openai_base_url,
            model=s.openai_model,
            transcribe_model=s.openai_transcribe_model,
            timeout=s.openai_timeout_seconds,
            max_retries=s.openai_max_retries,
            max_answer_tokens=s.ai_max_answer_tokens,
        )

    @cached_property
    def assistant(self) -> AssistantFlow:
        from shared.config import link_hosts
        from shared.flows.assistant import RATE, AssistantFlow, AssistantSettings
        from shared.flows.rate_limit import RateLimiter
        from shared.knowledge import DEFAULT_DIR

        s = self.settings
        return AssistantFlow(
            store=self.store,
            assistant=lambda: self.openai,
            limiter=RateLimiter(self.store, RATE, self._question_limits, self.clock),
            clock=self.clock,
            settings=AssistantSettings(
                manager_link=s.manager_link or "",
                knowledge_dir=Path(s.ai_knowledge_dir) if s.ai_knowledge_dir else DEFAULT_DIR,
                link_hosts=link_hosts(s),
                link_urls=frozenset({s.manager_link}) if s.manager_link else frozenset(),
                history_turns=s.ai_history_turns,
                history_ttl=timedelta(hours=s.ai_history_hours),
                max_question_chars=s.ai_max_question_chars,
                max_answer_chars=s.ai_max_answer_chars,
            ),
        )

    @property
    def _question_limits(self) -> list[Limit]:
        """A parent's paid or relayed messages: AI_RATE_PER_WINDOW per window and AI_RATE_PER_DAY a day."""
        from shared.flows.rate_limit import Limit

        s = self.settings
        return [
            Limit(s.ai_rate_per_window, timedelta(minutes=s.ai_rate_window_minutes)),
            Limit(s.ai_rate_per_day, timedelta(days=1)),
        ]

    @cached_property
    def voice(self) -> VoiceInput:
        from shared.adapters.telegram_files import TelegramFiles
        from shared.flows.voice import VoiceInput, VoiceLimits

        s = self.settings
        return VoiceInput(
            files=TelegramFiles(
                api_url=s.telegram_api_url,
                token=s.secret("telegram_bot_token"),
                timeout=s.telegram_timeout_seconds,
            ),
            transcriber=lambda: self.openai,
            admit=self.assistant.admit,
            limits=VoiceLimits(max_seconds=s.voice_max_seconds, max_bytes=s.voice_max_bytes),
        )

    @cached_property
    def conversation(self) -> Conversation:
        from shared.bot.conversation import Conversation

        return Conversation(
            store=self.store,
            scenes=lambda: self.scenes,
            assistant=lambda: self.assistant,
            voice=lambda: self.voice,
            clock=self.clock,
            retention=timedelta(days=self.settings.data_retention_days),
            handover=(lambda: self.handover) if self.settings.manager_chat_id else None,
            nudge=lambda chat_id, since: self.nudges.start(chat_id, since),
        )

    @cached_property
    def handover(self) -> Handover:
        """Parents' chats handed over from the assistant to the managers' chat, and back."""
        from functools import partial

        from shared.bot.keyboards import handover_done_keyboard
        from shared.flows.handover import RELAY_RATE, Handover, HandoverSettings
        from shared.flows.rate_limit import RateLimiter

        s = self.settings
        return Handover(
            store=self.store,
            notifier=self.notifier,
            leads=self.leads,
            # Relayed messages are limited like questions to the assistant, on a counter of their own.
            limiter=RateLimiter(self.store, RELAY_RATE, self._question_limits, self.clock),
            summary=self.assistant.summary,
            recent=self.assistant.recent,
            done_markup=partial(handover_done_keyboard, language=s.manager_language),
            settings=HandoverSettings(language=s.manager_language, timezone=s.academy_timezone),
        )

    @cached_property
    def poison_updates(self) -> PoisonUpdates:
        from shared.bot.poison import PoisonUpdates
        from shared.flows.outbox import alert_once

        return PoisonUpdates(self.store, alert_once(self.store, self.notifier.alert_developers))

    @cached_property
    def bot(self) -> BotRuntime:
        from shared.bot.late_replies import LateReplies
        from shared.bot.runtime import BotRuntime

        s = self.settings
        return BotRuntime(
            token=s.secret("telegram_bot_token"),
            api_url=s.telegram_api_url,
            conversation=lambda: self.conversation,
            manager_link=s.manager_link or "",
            undelivered=LateReplies(self.store, lambda: self.outbox),
            desk=lambda: self.desk,
            managers_chat=s.manager_chat_id,
        )

    @cached_property
    def desk(self) -> ManagerDesk:
        from shared.bot.chat_document import change_session
        from shared.bot.conversation import SESSIONS
        from shared.bot.desk import DeskSettings, ManagerDesk

        s = self.settings
        sheet = s.sheets_spreadsheet_id

        def change(chat_id: int, edit: Callable[[Session], bool]) -> bool | None:
            retention = timedelta(days=s.data_retention_days)
            return change_session(self.store, chat_id, edit, now=self._timestamp, retention=retention)

        return ManagerDesk(
            leads=self.leads,
            marks=lambda: self.marks,
            clock=self.clock,
            calendar=(lambda: self.calendar) if s.google_calendar_id else None,
            erasure=lambda: self.erasure,
            forget_session=lambda chat_id: self.store.delete(SESSIONS, str(chat_id)),
            handover=lambda: self.handover,
            change_session=change,
            funnel=lambda: self.funnel.counts(),
            settings=DeskSettings(
                language=s.manager_language,
                timezone=s.academy_timezone,
                phone_region=s.phone_default_region,
                sheet_url=f"https://docs.google.com/spreadsheets/d/{sheet}/edit" if sheet else None,
                manager_ids=s.manager_user_ids(),
            ),
        )

    def _timestamp(self) -> float:
        return self.clock.now().timestamp()

    @cached_property
    def marks(self) -> Marks:
        from shared.flows.marks import Marks

        return Marks(
            store=self.store,
            leads=self.leads,
            flushes=self.flushes,
            clock=self.clock,
            scheduler=self.scheduler,
        )
