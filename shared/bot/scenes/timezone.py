"""The parent's time zone: asked once when the phone's country keeps another clock than the academy's,
chosen with /timezone (a button, or `/timezone Europe/Paris`). Times are then shown in it, with the
academy's beside them; the lead keeps it for the reminders."""

from __future__ import annotations

from shared.bot.callbacks import TimeZone
from shared.bot.replies import Button, Reply
from shared.bot.scenes import questions
from shared.bot.scenes.base import SceneContext, Turn, say
from shared.domain.conversation import Incoming, Session
from shared.domain.timezones import COMMON_ZONES, guess_zone, offset_label, valid_zone, zone_city, zone_time
from shared.i18n import t


def question(ctx: SceneContext, session: Session) -> Reply | None:
    """Once per chat, before the first days: «your number is from Moscow: show times there?»"""
    if session.timezone_asked or session.timezone is not None:
        return None
    session.timezone_asked = True
    guess = guess_zone(session.phone, ctx.rules.timezone, ctx.clock.now())
    if guess is None:
        return None
    now, language = ctx.clock.now(), session.language
    academy = ctx.rules.timezone
    theirs, ours, offset = zone_time(guess, language), zone_time(academy, language), offset_label(guess, now)
    buttons = [
        [Button(t(language, "tz_use_button", zone=theirs, offset=offset), TimeZone(guess))],
        [Button(t(language, "tz_keep_button", zone=ours), TimeZone(academy))],
    ]
    text = t(language, "tz_question", zone=theirs, offset=offset, academy=ours)
    return Reply(text, buttons=buttons)


def on_command(ctx: SceneContext, session: Session, event: Incoming) -> Turn:
    """/timezone: the zone times are shown in, and buttons to change it; `/timezone Area/City` sets it."""
    if event.payload.strip():
        zone = valid_zone(event.payload.strip())
        if zone is not None:
            return _set(ctx, session, zone)
        unknown = say(session, "tz_unknown", example="Europe/Paris")
        return _menu(ctx, session).after(unknown)
    return _menu(ctx, session)


def on_button(ctx: SceneContext, session: Session, event: Incoming, button: TimeZone) -> Turn:
    return _set(ctx, session, button.zone)


def _menu(ctx: SceneContext, session: Session) -> Turn:
    now = ctx.clock.now()
    current = session.timezone or ctx.rules.timezone
    guess = guess_zone(session.phone, ctx.rules.timezone, now)
    zones = list(dict.fromkeys([ctx.rules.timezone, *([guess] if guess else []), *COMMON_ZONES]))
    mark = {zone: "✓ " if zone == current else "" for zone in zones}
    rows = [
        [
            Button(
                f"{mark[zone]}{zone_city(zone, session.language)} ({offset_label(zone, now)})", TimeZone(zone)
            )
        ]
        for zone in zones
    ]
    text = t(
        session.language,
        "tz_menu",
        zone=zone_time(current, session.language),
        offset=offset_label(current, now),
        example="Europe/Paris",
    )
    return Turn(session.scene, [Reply(text, buttons=rows)])


def _set(ctx: SceneContext, session: Session, zone: str) -> Turn:
    """Times from now on in `zone`; the lesson (or the days being chosen) shown again in it."""
    session.timezone = None if zone == ctx.rules.timezone else zone
    session.timezone_asked = True
    if session.lead_id:
        ctx.claim()
        ctx.registration.set_timezone(session.lead_id, session.timezone)
        if (waitlist := ctx.waitlist) is not None:  # a rare command: one more round trip, when waiting
            waitlist.follow_zone(session.lead_id, session.timezone)
    done = say(
        session, "tz_set", zone=zone_time(zone, session.language), offset=offset_label(zone, ctx.clock.now())
    )
    if session.lead_id and session.scene in questions.REGISTERED_SCENES:
        return questions.after_registration(ctx, session).after(done)
    return Turn(session.scene, [done])
