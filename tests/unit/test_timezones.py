"""The parent's time zone: guessed from the phone, asked once, changed with /timezone; times shown in it
with the academy's beside them, correct over every DST change of both zones; quiet hours are theirs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.bot.callbacks import TimeZone, encode
from shared.domain.booking import BookingRules, slot_label, when_label
from shared.domain.timezones import guess_zone, offset_label, same_clock, valid_zone
from tests.unit.test_booking import Academy, Parent
from tests.unit.test_nudges import Chat

RIGA = BookingRules(timezone="Europe/Riga")
NY = "America/New_York"
NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)


def test_the_phone_tells_the_zone_only_when_its_country_keeps_one_other_clock() -> None:
    assert guess_zone("+12125551234", "Europe/Riga", NOW) == NY
    assert guess_zone("+380501234567", "Europe/Riga", NOW) is None  # Kyiv keeps Riga's clock
    assert guess_zone("+37120000000", "Europe/Riga", NOW) is None  # Latvia: Europe/Bucharest, same clock
    assert guess_zone("+74951234567", "Europe/Riga", NOW) == "Europe/Moscow"  # a Moscow landline
    assert guess_zone("+79161234567", "Europe/Riga", NOW) is None  # a Russian mobile: eleven zones
    assert guess_zone("+447911123456", "Europe/Riga", NOW) == "Europe/London"  # Jersey, Guernsey: same
    assert guess_zone("+4915112345678", "Europe/Moscow", NOW) == "Europe/Berlin"
    assert (
        guess_zone("not a phone", "Europe/Riga", NOW) is None and guess_zone(None, "Europe/Riga", NOW) is None
    )


def test_zone_names_are_checked_and_clocks_compared_all_year() -> None:
    assert valid_zone("Europe/Paris") == "Europe/Paris"
    assert valid_zone("Europe/Atlantis") is None and valid_zone("../etc/passwd") is None
    assert valid_zone("UTC") is None  # a place, please: /timezone offers the list
    assert same_clock("Europe/Riga", "Europe/Bucharest", 2026)
    assert not same_clock("Europe/Riga", "Europe/Istanbul", 2026)  # the same in summer, not in winter
    assert offset_label("Asia/Kolkata", NOW) == "UTC+5:30" and offset_label(NY, NOW) == "UTC−5"


def test_times_over_both_dst_changes_of_both_zones() -> None:
    """2026: the US springs forward on 8 March and the EU on 29 March, back on 25 October (EU) and on
    1 November (US). The same 13:00 UTC lesson is 6 or 7 hours apart in Riga and New York."""
    cases = [
        (datetime(2026, 3, 6, 13, tzinfo=UTC), "08:00 (15:00 Рига)"),  # both on winter time: 7 h
        (datetime(2026, 3, 10, 13, tzinfo=UTC), "09:00 (15:00 Рига)"),  # NY on summer time: 6 h
        (datetime(2026, 3, 31, 13, tzinfo=UTC), "09:00 (16:00 Рига)"),  # both on summer time: 7 h
        (datetime(2026, 10, 27, 13, tzinfo=UTC), "09:00 (15:00 Рига)"),  # Riga back on winter time: 6 h
        (datetime(2026, 11, 3, 13, tzinfo=UTC), "08:00 (15:00 Рига)"),  # both on winter time: 7 h
    ]
    assert [slot_label(start, RIGA, NY) for start, _ in cases] == [label for _, label in cases]
    assert slot_label(cases[0][0], RIGA) == "15:00"  # the academy's zone: as before
    assert slot_label(cases[0][0], RIGA, NY, "en") == "08:00 (15:00 Riga)"
    assert (
        when_label(cases[1][0], "ru", RIGA, NY)
        == "Вт, 10 мар, 09:00 по нью-йоркскому времени; 15:00 по рижскому времени"
    )
    assert when_label(cases[1][0], "ru", RIGA) == "Вт, 10 мар, 15:00 по рижскому времени"
    late = datetime(2026, 11, 3, 23, tzinfo=UTC)  # 18:00 in New York is already Wednesday in Riga
    assert when_label(late, "en", RIGA, NY) == "Tue, 3 Nov, 18:00 New York time; Wed, 4 Nov, 01:00 Riga time"


def test_a_parent_abroad_is_asked_once_and_sees_days_and_times_in_their_zone() -> None:
    academy = Academy()
    parent = Parent(academy, 1, "+12125551234", "ny@example.com")
    ask, days = parent.last[-2:]
    assert (
        "живёте по нью-йоркскому времени (UTC−5), а школа работает по рижскому времени" in ask.text
    )  # as people say it
    assert [row[0].text for row in ask.buttons] == [
        "Да, по нью-йоркскому времени (UTC−5)",
        "Нет, по рижскому времени",
    ]
    assert "Выберите день" in days.text
    replies = parent.press(encode(TimeZone(NY)))
    assert replies[0].text.startswith("Готово: время показываю по нью-йоркскому времени")
    assert not any("Судя по номеру" in r.text for r in replies)  # asked once
    parent.press(parent.buttons()[0][1])  # the first day
    # 10:00 UTC tomorrow is 12:00 in Riga and 05:00 in New York (the slots of tests.unit.test_booking).
    assert parent.buttons()[0][0] == "05:00 (12:00 Рига)"
    assert "(по нью-йоркскому времени)" in parent.last[0].text
    parent.press(parent.buttons()[0][1])
    booked = parent.press_labelled("Подтвердить")[-1].text
    assert "05:00 по нью-йоркскому времени; 12:00 по рижскому времени" in booked
    assert parent.lead.timezone == NY  # the reminders' zone

    replies = parent.send("command", text="timezone", payload="Europe/Riga")  # back to the academy's
    assert parent.lead.timezone is None and "12:00 по рижскому времени" in replies[-1].text
    assert "нью-йорк" not in replies[-1].text


def test_a_parent_at_home_is_not_asked_and_timezone_lists_the_zones() -> None:
    academy = Academy()
    parent = Parent(academy, 2, "+37120000002", "riga@example.com")
    assert not any("Судя по номеру" in r.text for r in parent.last)
    [menu] = parent.send("command", text="timezone")
    assert "по рижскому времени (UTC+2)" in menu.text
    labels = [text for text, _ in parent.buttons()]
    assert labels[0] == "✓ Рига (UTC+2)" and "Нью-Йорк (UTC−5)" in labels
    replies = parent.send("command", text="timezone", payload="Mars/Olympus")
    assert replies[0].text.startswith("Не знаю такого часового пояса")


def test_quiet_hours_are_the_parents_night() -> None:
    chat = Chat(datetime(2026, 11, 24, 18, 30, tzinfo=UTC))  # 20:30 in Riga, 13:30 in New York
    chat.send("command", text="timezone", payload=NY)
    chat.send("command", text="start")
    assert chat.wait(hours=1, minutes=1) == ["sent"]  # 14:31 in New York: not night there
    later = Chat(datetime(2026, 11, 25, 2, 30, tzinfo=UTC))  # 04:30 in Riga, 21:30 in New York
    later.send("command", text="timezone", payload=NY)
    later.send("command", text="start")
    assert later.wait(hours=1, minutes=1) == ["quiet"]
    [moved] = [job.run_at for job in later.scheduler.jobs.values()]
    assert moved == datetime(2026, 11, 25, 14, tzinfo=UTC)  # 09:00 in New York
    assert moved - timedelta(hours=12) > datetime(2026, 11, 25, 1, tzinfo=UTC)
