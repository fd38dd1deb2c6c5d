"""The email chain: its steps, their order and delays, and what each step says. Pure."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from string import Template

from shared.domain.jobs import ChainStepKind, Step, SyncEvent
from shared.domain.leads import Lead
from shared.domain.timezones import zone_time
from shared.i18n import t

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
LANGUAGES = ("ru", "en")


NEXT_STEP: dict[Step, ChainStepKind] = {Step.EMAIL1: Step.EMAIL2, Step.EMAIL2: Step.CALL_ALERT}
STEP_COLUMN: dict[Step, str] = {
    Step.EMAIL1: "email_1_sent",
    Step.EMAIL2: "email_2_sent",
    Step.CALL_ALERT: "call_alert_sent",
}


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def render_email(step: Step, lead: Lead, link: str) -> RenderedEmail:
    """The step's email in the lead's language (ru when unknown), from the editable templates."""
    language = lead.language if lead.language in LANGUAGES else "ru"
    name = lead.name or t(language, "email_name_fallback")
    subject_line, _, text_body = (
        (_TEMPLATES / f"{step.value}.{language}.txt").read_text("utf-8").partition("\n")
    )
    html_body = (_TEMPLATES / f"{step.value}.{language}.html").read_text("utf-8")
    subject = Template(subject_line.removeprefix("Subject:").strip()).safe_substitute(name=name)
    return RenderedEmail(
        subject=subject.replace("\n", " ")[:200],
        text=Template(text_body).safe_substitute(name=name, link=link),
        html=Template(html_body).safe_substitute(name=html.escape(name), link=html.escape(link, quote=True)),
    )


def contacts_text(lead: Lead, language: str) -> str:
    def line(field: str, value: object) -> str:
        return f"{t(language, 'manager_field_' + field)}: {value}"

    lines = [
        line("name", lead.name or "—"),
        line("phone", lead.phone or "—"),
        line("email", lead.email or "—"),
    ]
    if lead.child_age:
        lines.append(line("child_age", lead.child_age))
    source = lead.source.value
    if lead.utm_source:
        source += f" / {lead.utm_source}" + (f" / {lead.utm_campaign}" if lead.utm_campaign else "")
    lines.append(line("source", source))
    lines.append(line("id", lead.lead_id))
    return "\n".join(lines)


_NEW_LEAD_TITLES = {
    SyncEvent.CREATED: "manager_new_lead",
    SyncEvent.UPDATED: "manager_repeat_lead",
    SyncEvent.ACTIVATED: "manager_in_bot",
}


def new_lead_title(lead: Lead, event: SyncEvent, language: str) -> str:
    """The line that says what happened: a form submission or a parent registering in the bot."""
    title = t(language, _NEW_LEAD_TITLES.get(event, "manager_new_lead"))
    if event is SyncEvent.ACTIVATED and lead.tg_username:
        title += f" (@{lead.tg_username})"
    return title


def new_lead_text(lead: Lead, event: SyncEvent, language: str) -> str:
    """The managers' chat message for a form submission or a parent registering in the bot."""
    return f"{new_lead_title(lead, event, language)}\n{contacts_text(lead, language)}"


def manager_time(moment: datetime, timezone: str) -> str:
    """A lesson's time as the managers' messages give it: 07.12.2026 09:00, in the academy's zone."""
    from zoneinfo import ZoneInfo

    return f"{moment.astimezone(ZoneInfo(timezone)):%d.%m.%Y %H:%M}"


def booking_title(lead: Lead, event: SyncEvent, timezone: str, language: str) -> str:
    """The line that says what happened to the trial lesson: booked, being rescheduled, cancelled."""
    if event is SyncEvent.SCHEDULED and lead.lesson_at:
        title = t(
            language,
            "manager_booked",
            when=manager_time(lead.lesson_at, timezone),
            zone=zone_time(timezone, language),
        )
        if not lead.zoom_link:
            title += "\n" + t(language, "manager_booked_no_zoom")
        return title
    if event is SyncEvent.RESCHEDULED:
        return t(language, "manager_rescheduling")
    if event is SyncEvent.CONFIRMED:
        return t(language, "manager_confirmed")
    if event is SyncEvent.UNCONFIRMED and lead.lesson_at:
        return t(language, "manager_unconfirmed", when=manager_time(lead.lesson_at, timezone))
    return t(language, "manager_cancelled")


def booking_text(lead: Lead, event: SyncEvent, timezone: str, language: str) -> str:
    """The managers' chat message when a parent books, reschedules or cancels a trial lesson."""
    return f"{booking_title(lead, event, timezone, language)}\n{contacts_text(lead, language)}"


def call_alert_text(lead: Lead, language: str) -> str:
    """The managers' chat message two days after the form when the parent never opened the bot."""
    return f"{t(language, 'manager_call_alert')}\n{contacts_text(lead, language)}"
