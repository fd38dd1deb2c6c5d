"""The managers' chat: the commands managers type there, answered with what they need to act.

Only updates from the managers' chat (MANAGER_CHAT_ID) reach the desk, and Telegram delivers a group's
messages only from its members; a parent typing the same commands in their own chat gets the parents'
bot. The desk reads the store and never changes what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.bot.replies import Button, Reply
from shared.domain.desk import lead_card, parse_lead_query
from shared.domain.leads import Lead
from shared.flows.lead_repository import LeadRepository
from shared.i18n import t


@dataclass(frozen=True)
class DeskSettings:
    language: str  # MANAGER_LANGUAGE
    timezone: str  # the academy's: lessons in the managers' local time
    phone_region: str  # for phone numbers typed without a country code
    sheet_url: str | None = None  # the CRM spreadsheet, linked from every card


@dataclass
class ManagerDesk:
    leads: LeadRepository
    settings: DeskSettings

    def command(self, name: str, payload: str) -> list[Reply]:
        """The answer to `/name payload` in the managers' chat."""
        if name == "lead":
            return [self._lead(payload)]
        return [Reply(t(self.settings.language, "desk_help"))]

    def _lead(self, payload: str) -> Reply:
        language = self.settings.language
        if not payload.strip():
            return Reply(t(language, "desk_lead_usage"))
        query = parse_lead_query(payload, self.settings.phone_region)
        if query is None:
            return Reply(t(language, "desk_lead_usage"))
        if query.by == "id":
            lead = self.leads.get(query.value)
        elif query.by == "email":
            lead = self.leads.find_by(email=query.value)
        else:
            lead = self.leads.find_by(phone=query.value)
        if lead is None:
            return Reply(t(language, "desk_lead_not_found", query=payload.strip()[:100]))
        return self.card(lead)

    def card(self, lead: Lead) -> Reply:
        text = lead_card(lead, self.settings.timezone, self.settings.language)
        sheet = self.settings.sheet_url
        buttons = [[Button(t(self.settings.language, "desk_sheet_button"), url=sheet)]] if sheet else []
        return Reply(text, buttons=buttons)
