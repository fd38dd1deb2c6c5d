"""Nudges on fakes: a parent who stops half-way hears from the bot twice at most, never at night, never
after a step forward, /delete_me or a block."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fakeredis

from shared.adapters.store_redis import RedisStore
from shared.bot.callbacks import Consent, encode
from shared.bot.chat_document import SESSIONS
from shared.bot.conversation import Conversation
from shared.bot.keyboards import nudge_keyboard
from shared.bot.nudges import Nudges, NudgeSettings
from shared.domain.conversation import Incoming
from shared.domain.jobs import Nudge
from shared.flows.lead_repository import LeadRepository
from shared.i18n import t
from tests.factories import outbox, scene_context
from tests.fakes import FixedClock, RecordingCrm, RecordingNotifier, RecordingScheduler

CHAT = 5550001
MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 11:00 in Riga


class Chat:
    def __init__(self, now: datetime = MORNING) -> None:
        self.store = RedisStore(fakeredis.FakeRedis())
        self.clock = FixedClock(now)
        self.scheduler = RecordingScheduler()
        self.notifier = RecordingNotifier()
        leads = LeadRepository(self.store)
        scenes = scene_context(leads, RecordingScheduler(), self.clock)

        self.nudges = Nudges(
            store=self.store,
            leads=leads,
            outbox=outbox(self.store, self.clock, leads, RecordingCrm(), self.notifier),
            scheduler=self.scheduler,
            clock=self.clock,
            settings=NudgeSettings(timezone="Europe/Riga"),
            buttons=nudge_keyboard,
        )
        self.conversation = Conversation(
            store=self.store,
            scenes=lambda: scenes,
            assistant=lambda: None,  # type: ignore[arg-type,return-value]
            voice=lambda: None,  # type: ignore[arg-type,return-value]
            clock=self.clock,
            nudge=self.nudges.start,
        )
        self.update_id = 0

    def send(self, kind: str = "text", **fields: object) -> None:
        self.update_id += 1
        event = Incoming(
            kind, chat_id=CHAT, user_id=CHAT, update_id=self.update_id, language_code="ru", **fields
        )  # type: ignore[arg-type]
        self.conversation.handle(event)

    def wait(self, **delta: float) -> list[str]:
        """Time passes; the nudge tasks that come due run (as Cloud Tasks would): their outcomes."""
        end = self.clock.now() + timedelta(**delta)
        outcomes = []
        while True:
            due = sorted(
                (job.run_at, name)
                for name, job in self.scheduler.jobs.items()
                if isinstance(job.job, Nudge) and job.run_at is not None and job.run_at <= end
            )
            if not due:
                break
            run_at, name = due[0]
            job = self.scheduler.jobs.pop(name)
            self.clock.current = max(self.clock.current, run_at)
            outcomes.append(self.nudges.run(job.job))  # type: ignore[arg-type]
        self.clock.current = end
        return outcomes

    def nudges_sent(self) -> list[str]:
        return [text for chat, text in self.notifier.parents if chat == CHAT]


def test_a_parent_who_stops_is_nudged_after_an_hour_and_a_day_then_left_alone() -> None:
    chat = Chat()
    chat.send("command", text="start")
    assert chat.wait(minutes=59) == [] and chat.nudges_sent() == []
    assert chat.wait(minutes=2) == ["sent"]
    assert chat.nudges_sent() == [t("ru", "nudge_register_1")]
    [[button]] = chat.notifier.markups[-1]["inline_keyboard"]  # type: ignore[index]
    assert button == {"text": "▶ Продолжить", "callback_data": "ai:back"}
    assert chat.wait(hours=23) == ["sent"]  # a day after the last step
    assert chat.nudges_sent()[-1] == t("ru", "nudge_register_2")
    assert chat.wait(days=30) == [] and len(chat.nudges_sent()) == 2  # twice at most


def test_a_step_forward_moves_the_nudge_on() -> None:
    chat = Chat()
    chat.send("command", text="start")
    chat.wait(minutes=40)
    chat.send("callback", callback_data=encode(Consent()))  # on to the phone
    assert chat.wait(minutes=30) == ["later"] and chat.nudges_sent() == []  # an hour after the consent
    assert chat.wait(minutes=31) == ["sent"]


def test_no_nudge_at_night_it_waits_for_the_morning() -> None:
    chat = Chat(datetime(2026, 11, 24, 18, 30, tzinfo=UTC))  # 20:30 in Riga
    chat.send("command", text="start")
    assert chat.wait(hours=1, minutes=1) == ["quiet"] and chat.nudges_sent() == []
    [moved] = [job.run_at for job in chat.scheduler.jobs.values()]
    assert moved == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 09:00 in Riga: the quiet hours' end
    assert chat.wait(hours=12) == ["sent"]


def test_no_nudge_after_delete_me_or_a_block() -> None:
    gone = Chat()
    gone.send("command", text="start")
    gone.store.delete(SESSIONS, str(CHAT))  # /delete_me
    assert gone.wait(hours=2) == ["gone"] and gone.nudges_sent() == []
    blocked = Chat()
    blocked.send("command", text="start")
    blocked.notifier.blocked.add(CHAT)
    assert blocked.wait(days=3) == ["blocked"] and blocked.nudges_sent() == []
