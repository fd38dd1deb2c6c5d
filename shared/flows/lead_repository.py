"""Leads in the state store, found by id, email, phone or deep-link token; merges race-free."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.leads import Lead, LeadStatus, Source, new_lead_id
from shared.domain.tilda import TildaSubmission
from shared.ports import StateStore, StoreConflict, update_document

LEADS = "leads"
INDEX = "lead_index"
LOCKS = "lead_locks"


@dataclass(frozen=True)
class Upserted:
    lead: Lead
    created: bool


class LeadRepository:
    def __init__(self, store: StateStore) -> None:
        self._store = store

    def get(self, lead_id: str) -> Lead | None:
        document = self._store.get(LEADS, lead_id)
        return Lead.model_validate(document.data) if document else None

    def find_by(
        self, *, email: str | None = None, phone: str | None = None, token: str | None = None
    ) -> Lead | None:
        for key in self._index_keys(email=email, phone=phone, token=token):
            document = self._store.get(INDEX, key)
            if document and (lead := self.get(document.data["lead_id"])):
                return lead
        return None

    def update(self, lead_id: str, change: Callable[[Lead], Lead | None]) -> Lead | None:
        """Apply `change` to the stored lead with compare-and-set retries; None if there is no such lead."""

        def apply(data: dict[str, Any] | None) -> dict[str, Any] | None:
            if data is None:
                return None
            changed = change(Lead.model_validate(data))
            return changed.model_dump(mode="json") if changed is not None else None

        result = update_document(self._store, LEADS, lead_id, apply)
        return Lead.model_validate(result) if result else None

    def ensure_token_index(self, lead: Lead) -> None:
        """Make the deep link resolvable (idempotent; repairs an index lost to a crash)."""
        [key] = self._index_keys(token=lead.link_token)
        self._store.create(INDEX, key, {"lead_id": lead.lead_id})

    def upsert_from_tilda(self, submission: TildaSubmission, now: datetime) -> Upserted:
        """One lead per email/phone: a parent's existing lead is updated, otherwise a new one is created.

        Submissions sharing a contact are serialised by short locks on the contacts (taken in sorted
        order, so two submissions can never wait for each other), which keeps "find, else create"
        atomic across instances.
        """
        keys = self._index_keys(email=submission.email, phone=submission.phone)
        with self._locked(keys):
            existing = self.find_by(email=submission.email, phone=submission.phone)
            lead_id = existing.lead_id if existing else new_lead_id()
            created = False

            def merge(data: dict[str, Any] | None) -> dict[str, Any]:
                nonlocal created
                created = data is None
                if data is None:
                    return _lead_from_submission(lead_id, submission, now).model_dump(mode="json")
                return _merge_submission(Lead.model_validate(data), submission, now).model_dump(mode="json")

            stored = Lead.model_validate(update_document(self._store, LEADS, lead_id, merge))
            for key in keys:  # a contact already pointing at another lead stays with it
                self._store.create(INDEX, key, {"lead_id": lead_id})
            if created:
                self.ensure_token_index(stored)
        return Upserted(stored, created)

    @contextmanager
    def _locked(self, keys: list[str], lease: timedelta = timedelta(seconds=30)) -> Iterator[None]:
        taken: list[str] = []
        try:
            for key in sorted(keys):
                deadline = time.monotonic() + 10
                while not self._store.create(LOCKS, key, {"locked": True}, ttl=lease):
                    if time.monotonic() > deadline:
                        raise StoreConflict(f"contact {key.split(':')[0]} stayed locked")
                    time.sleep(0.02)
                taken.append(key)
            yield
        finally:
            for key in taken:
                self._store.delete(LOCKS, key)

    @staticmethod
    def _index_keys(
        *, email: str | None = None, phone: str | None = None, token: str | None = None
    ) -> list[str]:
        """Index keys hold a digest, not the contact: store keys show up in consoles and audit logs."""
        keys = []
        if email:
            keys.append(f"email:{_digest(email)}")
        if phone:
            keys.append(f"phone:{_digest(phone)}")
        if token:
            keys.append(f"token:{_digest(token)}")
        return keys


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:40]


def _lead_from_submission(lead_id: str, submission: TildaSubmission, now: datetime) -> Lead:
    return Lead(
        lead_id=lead_id,
        created_at=now,
        updated_at=now,
        source=Source.TILDA,
        status=LeadStatus.NEW,
        name=submission.name,
        phone=submission.phone,
        email=submission.email,
        child_age=submission.child_age,
        language=submission.language,
        utm_source=submission.utm_source,
        utm_medium=submission.utm_medium,
        utm_campaign=submission.utm_campaign,
        tilda_tranid=submission.tranid,
        tilda_formid=submission.formid,
    )


def _merge_submission(lead: Lead, submission: TildaSubmission, now: datetime) -> Lead:
    """A repeated form: newest name, age and language win; known contacts and first-touch UTM stay."""
    return lead.model_copy(
        update={
            "updated_at": now,
            "name": submission.name or lead.name,
            "phone": lead.phone or submission.phone,
            "email": lead.email or submission.email,
            "child_age": submission.child_age or lead.child_age,
            "language": submission.language,
            "utm_source": lead.utm_source or submission.utm_source,
            "utm_medium": lead.utm_medium or submission.utm_medium,
            "utm_campaign": lead.utm_campaign or submission.utm_campaign,
            "tilda_tranid": submission.tranid or lead.tilda_tranid,
            "tilda_formid": submission.formid or lead.tilda_formid,
        }
    )
