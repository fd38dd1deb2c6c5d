"""/privacy and /delete_me on fakes: a booked parent forgotten, the CRM row blanked, nothing else touched."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.domain.effects import OUTBOX, Effect, EffectKind
from shared.domain.leads import PERSONAL_COLUMNS
from shared.flows.assistant import HISTORY, RATE
from shared.flows.crm_flush import FlushRequests
from shared.flows.erasure import Erasure
from shared.flows.lead_repository import INDEX
from shared.flows.outbox import DeliveryOutcome, Outbox
from tests.fakes import RecordingNotifier
from tests.unit.test_booking import Academy, Parent, academy_outbox


class Desk:
    """The academy with erasure wired as the bootstrap wires it; the outbox delivers to recording fakes."""

    def __init__(self, academy: Academy) -> None:
        self.academy = academy
        self.notifier = RecordingNotifier()
        self.outbox: Outbox = academy_outbox(academy, self.notifier)
        self.erasure = Erasure(
            store=academy.store,
            leads=academy.leads,
            scheduler=academy.scheduler,
            outbox=lambda: self.outbox,
            flushes=FlushRequests(academy.store, academy.scheduler, academy.clock, timedelta(seconds=5)),
            clock=academy.clock,
            booking=lambda: academy.booking,
            timezone="Europe/Riga",
        )
        academy.scenes.erasure_factory = lambda: self.erasure

    def deliver(self) -> dict[DeliveryOutcome, int]:
        """What the batched writer does a few seconds later."""
        self.academy.clock.advance(seconds=10)
        return self.outbox.redrive(batched=True)


@pytest.fixture
def desk() -> Desk:
    return Desk(Academy())


def keys_mentioning(desk: Desk, *needles: str) -> list[str]:
    """Every document whose key or content holds one of `needles`."""
    store = desk.academy.store._redis  # type: ignore[attr-defined]
    found = []
    for raw in store.scan_iter():
        key = raw.decode()
        value = store.get(raw) if store.type(raw) == b"string" else b""
        if any(n in key or n.encode() in (value or b"") for n in needles):
            found.append(key)
    return sorted(found)


def test_privacy_tells_what_is_kept_and_offers_deletion(desk: Desk) -> None:
    parent = Parent(desk.academy, 1, "+79161234567", "anna@example.com")
    [info] = parent.send("command", text="privacy")
    assert "365 дней" in info.text and "24 ч" in info.text and "/delete_me" in info.text
    assert "https://allinacademy.example/privacy" in info.text
    [ask] = parent.press_labelled("Удалить мои данные")
    assert "Отменить это будет нельзя" in ask.text
    assert [text for text, _ in parent.buttons()] == ["🗑 Да, удалить", "Нет, оставить"]


def test_keeping_the_data_changes_nothing(desk: Desk) -> None:
    parent = Parent(desk.academy, 1, "+79161234567", "anna@example.com")
    parent.book_first_slot()
    before = parent.lead
    parent.send("command", text="delete_me")
    [kept] = parent.press_labelled("Нет, оставить")
    assert "ничего не удаляем" in kept.text and parent.lead == before


def test_a_booked_parent_is_forgotten_and_the_crm_row_blanked(desk: Desk) -> None:
    academy = desk.academy
    anna = Parent(academy, 1, "+79161234567", "anna@example.com")
    boris = Parent(academy, 2, "+79162223344", "boris@example.com")
    anna.book_first_slot()
    lead = anna.lead
    academy.store.put(HISTORY, "1", {"turns": [{"q": "сколько стоит?", "a": "…", "at": "x"}]})
    academy.store.put(RATE, "1", {"times": []})
    desk.outbox.record(  # what the sync task of her booking recorded, delivered
        [
            Effect(kind=EffectKind.CRM_ROW, lead_id=lead.lead_id, key="booked", columns=("status",)),
            Effect(kind=EffectKind.MANAGERS, lead_id=lead.lead_id, key="booked", text="Анна записалась"),
        ]
    )
    assert desk.deliver() == {DeliveryOutcome.DONE: 2}
    assert academy.crm.row(lead.lead_id)["phone"] == "+79161234567"

    [ask] = anna.send("command", text="delete_me")
    assert "будет отменён" in ask.text  # her lesson is named before she confirms
    turn_replies = anna.press_labelled("Да, удалить")
    assert "ваши данные удалены" in turn_replies[0].text and "отменён" in turn_replies[0].text
    assert turn_replies[0].remove_keyboard

    # The slot is free again, with nothing of Anna in it; her meeting is gone; no task of hers is left.
    event = academy.calendar.events[lead.calendar_event_id]
    assert event["summary"] == "FREE" and event["description"] == ""
    assert academy.meetings.deleted == [lead.zoom_meeting_id]
    assert not [name for name in academy.scheduler.jobs if name.startswith(lead.lead_id)]
    # The store knows nothing of her but the erasure's own effects (no personal data in them).
    assert academy.leads.get(lead.lead_id) is None
    assert academy.leads.find_by(email="anna@example.com", phone="+79161234567") is None
    assert academy.store.keys(INDEX, "") and all(
        academy.store.get(INDEX, key).data["lead_id"] != lead.lead_id  # type: ignore[union-attr]
        for key in academy.store.keys(INDEX, "")
    )
    assert academy.store.get(HISTORY, "1") is None and academy.store.get(RATE, "1") is None
    assert academy.store.keys(OUTBOX, lead.lead_id) == [
        f"{lead.lead_id}-{kind}-erased" for kind in ("crm_log", "crm_row", "managers")
    ]
    assert keys_mentioning(desk, "+79161234567", "anna@example.com") == []
    assert keys_mentioning(desk, lead.lead_id) == [
        f"outbox:{key}" for key in academy.store.keys(OUTBOX, lead.lead_id)
    ]
    # Boris is untouched.
    assert boris.lead is not None and academy.leads.find_by(email="boris@example.com") == boris.lead

    assert desk.deliver() == {DeliveryOutcome.DONE: 3}
    row = academy.crm.row(lead.lead_id)
    assert row["status"] == "DELETED" and all(row[column] == "" for column in PERSONAL_COLUMNS)
    assert row["source"] == "direct_bot"  # the counts hold
    assert academy.crm.log[-1].event == "DELETED" and academy.crm.log[-1].lead_id == lead.lead_id
    assert lead.lead_id in desk.notifier.managers[-1] and "слот свободен" in desk.notifier.managers[-1]
    assert "Анна" not in desk.notifier.managers[-1]


def test_the_conversation_is_told_to_delete_the_session(desk: Desk) -> None:
    from shared.bot import scenes
    from shared.domain.conversation import Incoming, Scene

    parent = Parent(desk.academy, 1, "+79161234567", "anna@example.com")
    event = Incoming("callback", chat_id=1, user_id=1, callback_data="erase:yes")
    turn = scenes.advance(desk.academy.scenes, parent.session, event)
    assert turn.forget_session and turn.scene is Scene.WELCOME


def test_the_calendar_down_deletes_nothing_and_says_so(desk: Desk) -> None:
    parent = Parent(desk.academy, 1, "+79161234567", "anna@example.com")
    parent.book_first_slot()
    before = parent.lead
    desk.academy.calendar.fail = True
    [failed] = parent.press("erase:yes")
    assert "ничего не изменилось" in failed.text and "https://t.me/allin_manager" in failed.text
    assert parent.lead == before and desk.academy.meetings.deleted == []
    desk.academy.calendar.fail = False
    assert "удалены" in parent.press("erase:yes")[0].text


def test_erasing_twice_or_without_a_lead_is_harmless(desk: Desk) -> None:
    assert desk.erasure.erase(7, None).lead_id is None  # type: ignore[union-attr]
    parent = Parent(desk.academy, 1, "+79161234567", "anna@example.com")
    lead_id = parent.session.lead_id
    desk.academy.scheduler.fail = True  # Cloud Tasks down: left-over tasks find no lead and do nothing
    first, second = desk.erasure.erase(1, lead_id), desk.erasure.erase(1, lead_id)
    assert first.lead_id == lead_id and second.lead_id is None  # type: ignore[union-attr]


def test_a_row_still_due_is_written_blank_when_the_erasure_comes_in_the_same_batch(desk: Desk) -> None:
    academy = desk.academy
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    lead_id = parent.session.lead_id or ""
    erased = Effect(kind=EffectKind.CRM_ROW, lead_id=lead_id, key="erased", erased_at=academy.clock.now())
    older = Effect(kind=EffectKind.CRM_ROW, lead_id=lead_id, key="activated", columns=("name",))
    results = desk.outbox.perform_batch([older, erased])  # type: ignore[misc]
    assert results == {older.effect_id: None, erased.effect_id: None}
    assert academy.crm.row(lead_id)["status"] == "DELETED" and academy.crm.row(lead_id)["name"] == ""


def test_a_past_lesson_is_scrubbed_from_the_calendar_but_not_announced_as_cancelled(desk: Desk) -> None:
    academy = desk.academy
    parent = Parent(academy, 1, "+79161234567", "anna@example.com")
    parent.book_first_slot()
    lead = parent.lead
    academy.clock.advance(days=3)  # the lesson took place
    erased = desk.erasure.erase(1, lead.lead_id)
    assert erased.released_lesson is None  # type: ignore[union-attr]
    assert academy.calendar.events[lead.calendar_event_id]["description"] == ""
    desk.deliver()
    assert "слот" not in desk.notifier.managers[-1] and academy.crm.log[-1].details == ""
