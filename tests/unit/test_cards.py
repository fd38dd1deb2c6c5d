"""One card per lead in the managers' chat: posted for news, edited otherwise, each event drawn once."""

from __future__ import annotations

from datetime import UTC, datetime

import fakeredis

from shared.adapters.store_redis import RedisStore
from shared.domain.effects import Effect, EffectKind
from shared.domain.leads import Lead, Source
from shared.flows.cards import CARDS, LeadCards
from tests.fakes import RecordingNotifier

LEAD = Lead(
    lead_id="0123456789abcdef0123",
    created_at=datetime(2026, 12, 4, tzinfo=UTC),
    updated_at=datetime(2026, 12, 4, tzinfo=UTC),
    source=Source.TILDA,
    name="Анна",
)


def event(key: str, line: str, *, fresh: bool = False) -> Effect:
    return Effect(kind=EffectKind.MANAGERS, lead_id=LEAD.lead_id, key=key, text="-", line=line, fresh=fresh)


def test_news_posts_the_card_other_events_edit_it_and_each_is_drawn_once() -> None:
    store, notifier = RedisStore(fakeredis.FakeRedis()), RecordingNotifier()
    cards = LeadCards(store, notifier, lambda lead: (f"card of {lead.name}", None))
    cards.tell(event("new", "🆕 new", fresh=True), LEAD)
    cards.tell(event("bot", "🤖 in the bot"), LEAD)
    cards.tell(event("bot", "🤖 in the bot"), LEAD)  # delivered again
    assert list(notifier.cards.values()) == ["card of Анна\n\n🆕 new\n🤖 in the bot"]
    cards.tell(event("cancel", "✖ cancelled", fresh=True), LEAD)  # news: a new card below
    assert list(notifier.cards.values())[-1] == "card of Анна\n\n🆕 new\n🤖 in the bot\n✖ cancelled"
    assert len(notifier.cards) == 2 and store.get(CARDS, LEAD.lead_id).data["message_id"] == 2  # type: ignore[union-attr]


def test_a_card_that_can_no_longer_be_edited_is_posted_anew() -> None:
    store, notifier = RedisStore(fakeredis.FakeRedis()), RecordingNotifier()
    cards = LeadCards(store, notifier, lambda lead: ("card", None))
    cards.tell(event("new", "🆕 new", fresh=True), LEAD)
    notifier.cards.clear()  # deleted in the chat, or too old to edit
    cards.tell(event("booked", "📅 booked"), LEAD)
    assert list(notifier.cards.values()) == ["card\n\n🆕 new\n📅 booked"]
