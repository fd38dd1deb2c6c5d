"""What every scene handler shares: the turn it returns, the context it works with, its reply helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.bot.replies import Reply
from shared.domain.booking import BookingRules
from shared.domain.conversation import Incoming, Scene, Session
from shared.flows.registration import Parent, Registration
from shared.i18n import language_for, t
from shared.ports import Clock

if TYPE_CHECKING:  # built on first use: a plain /start must not pay for the Calendar and Zoom clients
    from shared.flows.booking import BookingFlow
    from shared.flows.erasure import Erasure
    from shared.flows.waitlist import Waitlist


@dataclass(frozen=True)
class Turn:
    """What a handler decided: the scene the chat is in next, and what to send."""

    scene: Scene
    replies: list[Reply] = field(default_factory=list)
    forget_session: bool = False  # the parent was forgotten: the chat's session is deleted, not saved

    def after(self, *intro: Reply) -> Turn:
        """The same turn with `intro` sent first."""
        return Turn(self.scene, [*intro, *self.replies], self.forget_session)


@dataclass(frozen=True)
class SceneSettings:
    manager_link: str
    privacy_policy_url: str
    privacy_policy_version: str
    welcome_video_note: str | None
    phone_region: str
    retention_days: int = 365  # DATA_RETENTION_DAYS and AI_HISTORY_HOURS, told by /privacy
    ai_history_hours: float = 24


@dataclass
class SceneContext:
    """The use cases and settings the scenes work with (one per instance, built by the bootstrap)."""

    registration: Registration
    clock: Clock
    rules: BookingRules
    settings: SceneSettings
    # None without a calendar: a manager arranges the lesson.
    booking_factory: Callable[[], BookingFlow] | None = None
    erasure_factory: Callable[[], Erasure] | None = None  # None: /delete_me sends the parent to a manager
    waitlist_factory: Callable[[], Waitlist] | None = None  # None (no calendar): no waitlist to join
    # Called by a step before its first effect outside the session (booking, registering, erasing): the
    # conversation takes the chat's lock then, so the effect happens once (see shared/bot/chat_document.py).
    claim: Callable[[], None] = lambda: None

    @property
    def booking(self) -> BookingFlow | None:
        return self.booking_factory() if self.booking_factory else None

    @property
    def waitlist(self) -> Waitlist | None:
        return self.waitlist_factory() if self.waitlist_factory else None

    @property
    def erasure(self) -> Erasure | None:
        return self.erasure_factory() if self.erasure_factory else None


def say(session: Session, key: str, **values: object) -> Reply:
    """A plain message from the catalog, in the parent's language."""
    return Reply(t(session.language, key, **values))


def follow_telegram_language(session: Session, event: Incoming) -> None:
    """Speak the language of the parent's Telegram until they choose one with /language."""
    if not session.language_chosen:
        session.language = language_for(event.language_code)


def parent_of(event: Incoming) -> Parent:
    return Parent(user_id=event.user_id, username=event.username)
