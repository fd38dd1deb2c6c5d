"""Leads in the state store, found by id, email, phone or deep-link token; merges race-free."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.leads import Lead, LeadStatus, Source, new_lead_id
from shared.domain.tilda import TildaSubmission
from shared.flows.locks import hold_locks
from shared.ports import StateStore, Write, update_document

LEADS = "leads"
# How long after a form its row may take to reach the CRM before the reconciler records it again.
CRM_CATCH_UP = timedelta(minutes=15)
INDEX = "lead_index"
LOCKS = "lead_locks"


@dataclass(frozen=True)
class Upserted:
    lead: Lead
    created: bool


class LeadRepository:
    def __init__(self, store: StateStore, retention: timedelta | None = None) -> None:
        """`retention` (DATA_RETENTION_DAYS): a lead, and the index entries that find it, expire after this
        long without a write; every write of the lead starts it again (None: kept for ever)."""
        self._store = store
        self._retention = retention

    def get(self, lead_id: str) -> Lead | None:
        document = self._store.get(LEADS, lead_id)
        return Lead.model_validate(document.data) if document else None

    def get_many(self, lead_ids: list[str]) -> dict[str, Lead]:
        """The leads that exist among `lead_ids`, by id, in one round trip."""
        documents = self._store.get_many([(LEADS, lead_id) for lead_id in lead_ids])
        return {
            lead_id: Lead.model_validate(document.data)
            for lead_id, document in zip(lead_ids, documents, strict=True)
            if document is not None
        }

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

        result = update_document(self._store, LEADS, lead_id, apply, ttl=self._retention)
        return Lead.model_validate(result) if result else None

    def behind_crm(self, until: datetime, limit: int = 200) -> list[Lead]:
        """Leads whose row should have reached the CRM by `until` (see Lead.due_at), earliest first."""
        return [
            Lead.model_validate(document.data)
            for _, document in self._store.due(LEADS, until.timestamp(), limit)
        ]

    def caught_up(self, lead_id: str) -> None:
        """The lead's row is in the CRM (or its effect recorded): it is no longer due."""
        self.update(lead_id, lambda lead: lead.model_copy(update={"due_at": None}) if lead.due_at else None)

    def forget(self, lead: Lead) -> None:
        """Delete the lead and the index entries that find it by email, phone or link token (an entry
        pointing at another lead stays: it is that lead's)."""
        for key in self._index_keys(email=lead.email, phone=lead.phone, token=lead.link_token):
            entry = self._store.get(INDEX, key)
            if entry is not None and entry.data.get("lead_id") == lead.lead_id:
                self._store.delete(INDEX, key)
        self._store.delete(LEADS, lead.lead_id)

    def versioned(self, lead_id: str) -> tuple[Lead, int] | None:
        """The lead with its version, for a compare-and-set in an atomic commit (`rewrite`)."""
        document = self._store.get(LEADS, lead_id)
        return (Lead.model_validate(document.data), document.version) if document else None

    def rewrite(self, lead: Lead, version: int) -> Write:
        """The lead's new state as a write of an atomic commit, refused unless it is still at `version`
        (its expiry starts again, like every write of a lead)."""
        return Write(LEADS, lead.lead_id, lead.model_dump(mode="json"), version=version, ttl=self._retention)

    def index_documents(self, *, email: str | None, phone: str | None) -> list[tuple[str, str]]:
        """The index entries (collection, key) that would find a parent by email or phone."""
        return [(INDEX, key) for key in self._index_keys(email=email, phone=phone)]

    def creation(self, lead: Lead) -> list[Write]:
        """A new lead with the index entries that find it, as writes of an atomic commit that is refused if
        any of them exists already (another form of the same parent came first)."""
        keys = self._index_keys(email=lead.email, phone=lead.phone, token=lead.link_token)
        return [
            Write(LEADS, lead.lead_id, lead.model_dump(mode="json"), create=True, ttl=self._retention),
            *(Write(INDEX, key, {"lead_id": lead.lead_id}, create=True, ttl=self._retention) for key in keys),
        ]

    def ensure_token_index(self, lead: Lead) -> None:
        """Make the deep link resolvable (idempotent; repairs an index lost to a crash)."""
        [key] = self._index_keys(token=lead.link_token)
        self._index(key, lead.lead_id)

    def upsert_from_tilda(self, submission: TildaSubmission, now: datetime) -> Upserted:
        """A form: the parent's existing lead (same email or phone) is updated, else a lead is created."""
        return self.upsert(
            email=submission.email,
            phone=submission.phone,
            create=lambda lead_id: lead_from_submission(lead_id, submission, now),
            merge=lambda lead: _merge_submission(lead, submission, now),
        )

    def upsert(
        self,
        *,
        email: str | None,
        phone: str | None,
        create: Callable[[str], Lead],
        merge: Callable[[Lead], Lead],
        lead_id: str | None = None,
    ) -> Upserted:
        """One lead per email/phone (or the given `lead_id`): `merge` into it, or `create` a new one.

        Writers sharing a contact are serialised by short locks on the contacts (taken in sorted order,
        so two writers never wait for each other), which keeps "find, else create" atomic across
        instances.
        """
        keys = self._index_keys(email=email, phone=phone)
        with hold_locks(self._store, LOCKS, keys):
            existing = (self.get(lead_id) if lead_id else None) or self.find_by(email=email, phone=phone)
            target = existing.lead_id if existing else new_lead_id()
            created = False

            def write(data: dict[str, Any] | None) -> dict[str, Any]:
                nonlocal created
                created = data is None
                lead = create(target) if data is None else merge(Lead.model_validate(data))
                return lead.model_dump(mode="json")

            stored = Lead.model_validate(
                update_document(self._store, LEADS, target, write, ttl=self._retention)
            )
            for key in keys:  # a contact already pointing at another lead stays with it
                self._index(key, target)
            if created:
                self.ensure_token_index(stored)
        return Upserted(stored, created)

    def _index(self, key: str, lead_id: str) -> None:
        """Point `key` at the lead unless it points at another one; one pointing at it lives on as long."""
        entry = {"lead_id": lead_id}
        if self._store.create(INDEX, key, entry, ttl=self._retention) or self._retention is None:
            return
        current = self._store.get(INDEX, key)
        if current is not None and current.data.get("lead_id") == lead_id:
            self._store.put(INDEX, key, entry, ttl=self._retention)

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


def lead_from_submission(lead_id: str, submission: TildaSubmission, now: datetime) -> Lead:
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
        due_at=(now + CRM_CATCH_UP).timestamp(),
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
            "due_at": (now + CRM_CATCH_UP).timestamp(),
        }
    )
