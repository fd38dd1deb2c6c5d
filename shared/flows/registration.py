"""Use case: a parent who opens the bot becomes an activated lead, and their email chain stops.

Two ways in: the deep link from an email (`/start <token>`) links the Tilda lead at once; answering the
questions (phone, email, name) saves the parent, linked to an existing lead with the same email or phone.
Either way the CRM row and the managers' message go through one sync task per lead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.domain.jobs import CrmSync, chain_steps
from shared.domain.leads import Lead, LeadStatus, Source
from shared.flows.lead_repository import LeadRepository
from shared.ports import Clock, Scheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parent:
    """Who is writing to the bot, as Telegram says."""

    user_id: int
    username: str | None


@dataclass(frozen=True)
class Contacts:
    """What the parent answered in the bot."""

    phone: str | None
    email: str | None
    name: str | None
    language: str


@dataclass
class Registration:
    leads: LeadRepository
    scheduler: Scheduler
    clock: Clock

    def lead(self, lead_id: str | None) -> Lead | None:
        return self.leads.get(lead_id) if lead_id else None

    def follow_link(self, token: str, parent: Parent) -> Lead | None:
        """The lead whose email link carried `token`, now the parent's and activated; None if unknown."""
        found = self.leads.find_by(token=token)
        if found is None:
            log.info("start with an unknown token", extra={"user_id": parent.user_id})
            return None
        now = self.clock.now()
        updated = self.leads.update(
            found.lead_id,
            lambda current: current.model_copy(
                update={
                    "updated_at": now,
                    "tg_id": parent.user_id,
                    "tg_username": parent.username,
                    "bot_activated": True,
                    "status": LeadStatus.ACTIVATED if current.status is LeadStatus.NEW else current.status,
                }
            ),
        )
        lead = updated or found
        self._activated(lead)
        return lead

    def set_timezone(self, lead_id: str, zone: str | None) -> None:
        """The parent's own zone (None: the academy's), kept on the lead for what is sent outside a chat
        turn (reminders, waitlist offers)."""
        self.leads.update(
            lead_id,
            lambda current: (
                None if current.timezone == zone else current.model_copy(update={"timezone": zone})
            ),
        )

    def register(self, contacts: Contacts, parent: Parent, lead_id: str | None) -> Lead:
        """Save the parent as an activated lead, linking an existing one with the same email or phone."""
        now = self.clock.now()

        def link(lead: Lead) -> Lead:
            return lead.model_copy(
                update={
                    "updated_at": now,
                    "phone": lead.phone or contacts.phone,
                    "email": lead.email or contacts.email,
                    "name": contacts.name or lead.name,
                    "language": contacts.language,
                    "tg_id": parent.user_id,
                    "tg_username": parent.username,
                    "bot_activated": True,
                    "status": LeadStatus.ACTIVATED if lead.status is LeadStatus.NEW else lead.status,
                }
            )

        def create(new_id: str) -> Lead:
            return link(Lead(lead_id=new_id, created_at=now, updated_at=now, source=Source.DIRECT_BOT))

        upserted = self.leads.upsert(
            email=contacts.email, phone=contacts.phone, create=create, merge=link, lead_id=lead_id
        )
        self._activated(upserted.lead)
        return upserted.lead

    def _activated(self, lead: Lead) -> None:
        for step in chain_steps(lead.lead_id):
            self.scheduler.cancel(step)
        self.scheduler.schedule(CrmSync.for_activation(lead.lead_id))
