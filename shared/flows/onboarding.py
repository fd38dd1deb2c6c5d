"""Use case: a parent's first conversation with the bot, from /start to a saved, activated lead.

welcome (+ video note + consent) → phone → email → name → the lead is saved or linked, activated, and
its email chain cancelled. `/start <token>` from an email links the Tilda lead at once and skips every
question whose answer is known.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from shared.domain.conversation import (
    AI_BACK,
    CONSENT,
    LANGUAGE_PREFIX,
    Button,
    Incoming,
    Reply,
    Scene,
    Session,
)
from shared.domain.email_chain import Step, task_name
from shared.domain.leads import (
    InvalidContact,
    Lead,
    LeadStatus,
    Source,
    dictated_email,
    dictated_phone,
    normalise_email,
    normalise_phone,
)
from shared.flows.booking import BookingFlow
from shared.flows.lead_repository import LeadRepository
from shared.i18n import LANGUAGES, language_for, t
from shared.ports import Clock, Job, Scheduler

log = logging.getLogger(__name__)
MAX_NAME = 100
_BOOKING_SCENES = (Scene.REGISTERED, Scene.DATES, Scene.TIMES, Scene.CONFIRM, Scene.SCHEDULED)
_CHAIN_STEPS = (Step.EMAIL1, Step.EMAIL2, Step.CALL_ALERT)
# How a dictated answer to "What is your name?" starts, before the name itself.
_SPOKEN_NAME_PREFIX = re.compile(
    r"^(?:меня зовут|моё имя|мое имя|я|это|my name is|my name's|i am|i'm|it's|this is)[\s,:—-]+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class OnboardingSettings:
    manager_link: str
    privacy_policy_url: str
    privacy_policy_version: str
    welcome_video_note: str | None
    phone_region: str


@dataclass
class Onboarding:
    leads: LeadRepository
    scheduler: Scheduler
    clock: Clock
    settings: OnboardingSettings
    # Built on first use: a plain /start must not pay for the Calendar and Zoom clients. Without a
    # calendar (None) a manager arranges the lesson.
    booking_factory: Callable[[], BookingFlow] | None = None

    def handle(self, session: Session, event: Incoming) -> list[Reply]:
        """Advance `session` (changed in place) by one event; returns what to send."""
        if not session.language_chosen:
            session.language = language_for(event.language_code)
        if event.kind == "command":
            return self._command(session, event)
        if event.kind == "callback":
            return self._callback(session, event)
        if session.scene is Scene.WELCOME:
            return [self._text(session, "consent_required"), self._consent_keyboard(session)]
        if session.scene is Scene.PHONE:
            return self._phone(session, event)
        if session.scene is Scene.EMAIL:
            return self._email(session, event)
        if session.scene is Scene.NAME:
            return self._name(session, event)
        if session.scene in (Scene.DATES, Scene.TIMES, Scene.CONFIRM):
            return [self._text(session, "use_buttons")]
        return self._after_registration(session)

    # ---- commands and buttons --------------------------------------------------------------------
    def _command(self, session: Session, event: Incoming) -> list[Reply]:
        if event.text == "language":
            return [
                Reply(
                    t(session.language, "language_prompt"),
                    buttons=[
                        [Button("Русский", f"{LANGUAGE_PREFIX}ru"), Button("English", f"{LANGUAGE_PREFIX}en")]
                    ],
                )
            ]
        if event.text != "start":
            return [self._text(session, "use_buttons")]
        replies = [Reply(t(session.language, "welcome"), remove_keyboard=True)]
        if self.settings.welcome_video_note:
            replies.append(Reply(video_note=self.settings.welcome_video_note))
        token = event.payload[:64]  # Telegram's limit for a deep-link payload
        if token and (lead := self.leads.find_by(token=token)):
            lead = self._activate(lead, event)
            session.lead_id = lead.lead_id
            session.phone = session.phone or lead.phone
            session.email = session.email or lead.email
            session.name = session.name or lead.name or None
            if lead.language in LANGUAGES and not session.language_chosen:
                session.language = lead.language
            replies[0] = Reply(
                t(session.language, "welcome") + "\n\n" + t(session.language, "welcome_back", name=lead.name),
                remove_keyboard=True,
            )
        elif event.payload:
            log.info("start with an unknown token", extra={"chat_id": event.chat_id})
        if session.consent_at is not None:
            return replies + self._next_question(session, event)
        session.scene = Scene.WELCOME
        return [*replies, self._consent_keyboard(session)]

    def _callback(self, session: Session, event: Incoming) -> list[Reply]:
        data = event.callback_data or ""
        if data == AI_BACK:
            return self.resume(session)
        if (
            self.booking_factory
            and session.lead_id
            and (replies := self.booking_factory().on_callback(session, data)) is not None
        ):
            return replies
        if data.startswith(LANGUAGE_PREFIX) and data[len(LANGUAGE_PREFIX) :] in LANGUAGES:
            session.language = data[len(LANGUAGE_PREFIX) :]
            session.language_chosen = True
            return [self._text(session, "language_set")]
        if data == CONSENT and session.scene is Scene.WELCOME:
            session.consent_at = self.clock.now()
            session.consent_version = self.settings.privacy_policy_version
            return self._next_question(session, event)
        return [self._text(session, "use_buttons")]  # a stale button of an earlier step

    def resume(self, session: Session) -> list[Reply]:
        """The step the parent is in, presented again (after the assistant answered a question)."""
        if session.scene is Scene.WELCOME:
            return [self._consent_keyboard(session)]
        if session.scene is Scene.PHONE:
            return [self._ask_phone(session, "ask_phone")]
        if session.scene is Scene.EMAIL:
            return [Reply(t(session.language, "ask_email"), remove_keyboard=True)]
        if session.scene is Scene.NAME:
            return [Reply(t(session.language, "ask_name"), remove_keyboard=True)]
        if session.lead_id is None:  # a booking scene without a saved lead cannot happen; start over
            return [self._text(session, "use_buttons")]
        return self._after_registration(session)

    # ---- questions -------------------------------------------------------------------------------
    def _phone(self, session: Session, event: Incoming) -> list[Reply]:
        if event.kind == "contact":
            if event.contact_user_id != event.user_id:
                return [self._ask_phone(session, "contact_not_own")]
            raw = event.contact_phone or ""
        elif event.kind == "text":
            raw = dictated_phone(event.text) if event.from_voice else event.text
        else:
            return [self._ask_phone(session, "text_expected")]
        try:
            # A shared contact carries the number without "+" but always with its country code.
            session.phone = normalise_phone(
                raw if event.kind == "text" or raw.startswith("+") else f"+{raw}", self.settings.phone_region
            )
        except InvalidContact:
            return [self._ask_phone(session, "phone_invalid")]
        return self._next_question(session, event)

    def _email(self, session: Session, event: Incoming) -> list[Reply]:
        if event.kind != "text":
            return [self._text(session, "text_expected")]
        try:
            raw = dictated_email(event.text) if event.from_voice else event.text
            session.email = normalise_email(raw[:254])
        except InvalidContact:
            return [self._text(session, "email_invalid")]
        return self._next_question(session, event)

    def _name(self, session: Session, event: Incoming) -> list[Reply]:
        name = "".join(ch for ch in event.text if unicodedata.category(ch)[0] != "C").strip()
        if event.from_voice:  # "Меня зовут Анна." → "Анна"
            name = _SPOKEN_NAME_PREFIX.sub("", name).strip().rstrip(".!?…")
        if event.kind != "text" or not name or len(name) > MAX_NAME:
            return [self._text(session, "name_invalid", max_length=MAX_NAME)]
        session.name = " ".join(name.split())
        return self._next_question(session, event)

    def _next_question(self, session: Session, event: Incoming) -> list[Reply]:
        if session.scene in _BOOKING_SCENES and session.lead_id:  # /start again: nothing new to save
            return self._after_registration(session)
        if not session.phone:
            session.scene = Scene.PHONE
            return [self._ask_phone(session, "ask_phone")]
        if not session.email:
            session.scene = Scene.EMAIL
            return [Reply(t(session.language, "ask_email"), remove_keyboard=True)]
        if not session.name:
            session.scene = Scene.NAME
            return [Reply(t(session.language, "ask_name"), remove_keyboard=True)]
        self._register(session, event)
        session.scene = Scene.REGISTERED
        thanks = Reply(t(session.language, "registered", name=session.name), remove_keyboard=True)
        return [thanks, *self._after_registration(session)]

    def _after_registration(self, session: Session) -> list[Reply]:
        """The booked lesson with its buttons, or the day picker, or (no calendar) the manager's contact."""
        if self.booking_factory is None:
            return [self._text(session, "registered_next", manager_link=self.settings.manager_link)]
        lead = self.leads.get(session.lead_id or "")
        if lead is not None and lead.booking_id and lead.lesson_at:
            session.scene = Scene.SCHEDULED
            return self.booking_factory().scheduled_info(session, lead)
        return self.booking_factory().offer_days(session)

    # ---- effects ---------------------------------------------------------------------------------
    def _register(self, session: Session, event: Incoming) -> None:
        """Save the parent as an activated lead, linking an existing one with the same email or phone."""
        now = self.clock.now()

        def link(lead: Lead) -> Lead:
            return lead.model_copy(
                update={
                    "updated_at": now,
                    "phone": lead.phone or session.phone,
                    "email": lead.email or session.email,
                    "name": session.name or lead.name,
                    "language": session.language,
                    "tg_id": event.user_id,
                    "tg_username": event.username,
                    "bot_activated": True,
                    "status": LeadStatus.ACTIVATED if lead.status is LeadStatus.NEW else lead.status,
                }
            )

        def create(lead_id: str) -> Lead:
            return link(Lead(lead_id=lead_id, created_at=now, updated_at=now, source=Source.DIRECT_BOT))

        upserted = self.leads.upsert(
            email=session.email, phone=session.phone, create=create, merge=link, lead_id=session.lead_id
        )
        session.lead_id = upserted.lead.lead_id
        self._after_activation(upserted.lead, event="activated")

    def _activate(self, lead: Lead, event: Incoming) -> Lead:
        """The deep link was followed: the lead is the parent's, and the email chain stops now."""
        now = self.clock.now()
        updated = self.leads.update(
            lead.lead_id,
            lambda current: current.model_copy(
                update={
                    "updated_at": now,
                    "tg_id": event.user_id,
                    "tg_username": event.username,
                    "bot_activated": True,
                    "status": LeadStatus.ACTIVATED if current.status is LeadStatus.NEW else current.status,
                }
            ),
        )
        lead = updated or lead
        self._after_activation(lead, event="activated")
        return lead

    def _after_activation(self, lead: Lead, *, event: str) -> None:
        for step in _CHAIN_STEPS:
            self.scheduler.cancel("email_chain", task_name(step, lead.lead_id))
        # The CRM row and the managers' message go through the pipeline's sync task (retried there). One
        # key per lead: following the link and then registering tells the managers once, not twice.
        self.scheduler.schedule(
            Job(
                "email_chain",
                task_name(Step.SYNC, lead.lead_id, event),
                {"step": Step.SYNC.value, "lead_id": lead.lead_id, "event": event, "key": event},
            )
        )

    # ---- replies ---------------------------------------------------------------------------------
    def _text(self, session: Session, key: str, **values: object) -> Reply:
        return Reply(t(session.language, key, **values))

    def _ask_phone(self, session: Session, key: str) -> Reply:
        return Reply(t(session.language, key), contact_button=t(session.language, "share_contact_button"))

    def _consent_keyboard(self, session: Session) -> Reply:
        return Reply(
            t(session.language, "consent"),
            buttons=[
                [Button(t(session.language, "consent_button"), CONSENT)],
                [Button(t(session.language, "privacy_button"), url=self.settings.privacy_policy_url)],
            ],
        )
