"""The managers' desk: a lead's card, and the leads a manager asks for in the managers' chat."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from shared.domain.email_chain import contacts_text, manager_time
from shared.domain.leads import InvalidContact, Lead, normalise_email, normalise_phone
from shared.domain.timezones import zone_time
from shared.i18n import t

_LEAD_ID = re.compile(r"[0-9a-f]{20}")


@dataclass(frozen=True)
class LeadQuery:
    """How a manager named a lead: by the phone or email the parent gave, or by the lead's id."""

    by: Literal["phone", "email", "id"]
    value: str


def parse_lead_query(text: str, phone_region: str) -> LeadQuery | None:
    """`+7 916 123-45-67`, `anna@example.com` or a lead id, normalised as the lead stores them; None for
    anything else (a name: the store finds parents by their contacts only)."""
    text = text.strip()
    if _LEAD_ID.fullmatch(text):
        return LeadQuery("id", text)
    try:
        if "@" in text:
            return LeadQuery("email", normalise_email(text))
        if sum(c.isdigit() for c in text) >= 7:
            return LeadQuery("phone", normalise_phone(text, phone_region))
    except InvalidContact:
        return None
    return None


def lead_card(lead: Lead, timezone: str, language: str) -> str:
    """What managers see of a lead: the contacts, the status, the lesson and its Zoom link."""
    lines = [contacts_text(lead, language), f"{t(language, 'manager_field_status')}: {lead.status.value}"]
    if lead.lesson_at is not None:
        when = manager_time(lead.lesson_at, timezone)
        lines.append(f"{t(language, 'manager_field_lesson')}: {when} {zone_time(timezone, language)}")
        zoom = lead.zoom_link or t(language, "manager_zoom_missing")
        lines.append(f"{t(language, 'manager_field_zoom')}: {zoom}")
    return "\n".join(lines)
