"""The local console in a real browser (Debian's chromium, driven by selenium through chromedriver): a
parent is walked from /start to a booked lesson only by clicking and typing in the page, the clock is
moved from the page until the −24 h reminder arrives, and the CRM table shows the lead as SCHEDULED.
Screenshots of each step are saved under test-artifacts/console/ (TEST_ARTIFACTS overrides)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.processes import REPO
from tests.conftest import require
from tests.e2e.conftest import System

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", REPO / "test-artifacts")) / "console"
WAIT = 30  # seconds a step may take to show (the page polls once a second)


@pytest.fixture
def console(system: System) -> Iterator[str]:
    server = system.stack.console()
    try:
        yield f"http://127.0.0.1:{server.port}/"
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    require(bool(shutil.which("chromium") and shutil.which("chromedriver")), "chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    profile = tempfile.mkdtemp(prefix="console-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver") or ""))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Page:
    """What a person does in the console: click, type, look."""

    def __init__(self, driver: Any, url: str, name: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver, self.by, self.name = driver, By, name
        self.shots = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.get(url)

    def wait(self, what: str, check: Callable[[], Any]) -> Any:
        from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        def attempt(_: Any) -> Any:
            try:
                return check()
            except StaleElementReferenceException:
                return None  # the page re-rendered under us: look again

        try:
            return WebDriverWait(self.driver, WAIT, poll_frequency=0.2).until(attempt)
        except TimeoutException:
            self.screenshot(f"timeout-{what}")
            raise AssertionError(f"the page never showed {what}") from None

    def click(self, xpath: str, what: str) -> None:
        def clicked() -> bool:
            found = self.driver.find_elements(self.by.XPATH, xpath)
            if not found or not found[-1].is_enabled():
                return False
            found[-1].click()
            return True

        self.wait(what, clicked)

    def tab(self, name: str) -> None:
        self.click(f"//button[@data-tab='{name}']", f"the {name} tab")

    def type(self, element_id: str, text: str, *, submit: bool = False) -> None:
        field = self.driver.find_element(self.by.ID, element_id)
        field.clear()
        field.send_keys(text + ("\n" if submit else ""))

    def chat_button(self, label: str) -> None:
        """Press the latest inline button in the parent chat whose text contains `label`."""
        self.click(f"//div[@id='parent-chat']//button[contains(., '{label}')]", f"a button '{label}'")

    def first_button_of_last_keyboard(self, what: str) -> None:
        last_keyboard = "(//div[@id='parent-chat']//div[contains(@class,'msg')][.//button])[last()]"
        self.click(f"({last_keyboard}//button)[1]", what)

    def bot_says(self, text: str) -> None:
        self.wait(
            f"the bot saying '{text}'",
            lambda: any(
                text in m.text
                for m in self.driver.find_elements(self.by.CSS_SELECTOR, "#parent-chat .msg.bot")
            ),
        )

    def screenshot(self, name: str) -> None:
        self.shots += 1
        self.driver.save_screenshot(str(ARTIFACTS / f"{self.name}-{self.shots:02d}-{name}.png"))


def test_a_parent_books_by_clicking_and_the_clock_brings_the_reminder(
    system: System, console: str, browser: Any
) -> None:
    start = (system.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    system.add_free_slot(start)  # a manager's FREE slot (the calendar panel adds them too: see below)
    page = Page(browser, console, "booking")

    page.type("parent-name", "Анна")
    page.type("parent-phone", "+79161234567")
    page.click("//button[@id='parent-add']", "Add parent")
    page.wait(
        "the new parent chosen", lambda: "Анна" in browser.find_element(page.by.ID, "parent-select").text
    )
    page.type("chat-input", "/start", submit=True)
    page.bot_says("Согласен")
    page.screenshot("welcome")
    page.chat_button("Согласен")
    page.click("//div[@id='parent-reply-keyboard']//button", "the share-contact key")
    page.bot_says("email")
    page.type("chat-input", "anna.console@example.com", submit=True)
    page.bot_says("Как вас зовут")
    page.type("chat-input", "Анна", submit=True)
    page.bot_says("Выберите день")
    page.first_button_of_last_keyboard("a day")
    page.bot_says("выберите время")
    page.first_button_of_last_keyboard("a time")
    page.chat_button("Подтвердить")
    page.bot_says("Готово")
    page.screenshot("booked")

    page.tab("queue")
    page.type("clock-amount", "25")
    browser.find_element(page.by.CSS_SELECTOR, "#clock-unit option[value='3600']").click()
    page.click("//button[@id='clock-move']", "Move")
    page.tab("parent")
    page.bot_says("завтра пробный урок")
    page.screenshot("reminder")

    page.tab("crm")
    page.wait(
        "the lead SCHEDULED in the Leads table",
        lambda: any(
            "anna.console@example.com" in row.text and "SCHEDULED" in row.text
            for row in browser.find_elements(page.by.CSS_SELECTOR, "table[data-sheet='Leads'] tr")
        ),
    )
    page.screenshot("crm")

    page.tab("calendar")
    page.wait(
        "the booked lesson in the calendar",
        lambda: "Пробный урок: Анна" in browser.find_element(page.by.ID, "calendar").text,
    )
    page.screenshot("calendar")
    lead = system.leads().find_by(email="anna.console@example.com")
    assert lead is not None and lead.status.value == "SCHEDULED" and lead.lesson_at == start


def test_the_console_api_refuses_bad_input_and_writes_nothing(system: System, console: str) -> None:
    http = httpx.Client(base_url=console, timeout=10)
    assert http.post("/api/parents", json={"name": "", "phone": "x"}).status_code == 400
    assert http.post("/api/chat/424242/send", json={"kind": "text", "text": "hi"}).status_code == 400
    assert http.post("/api/clock", json={"seconds": -5}).status_code == 400
    assert http.post("/api/calendar", json={"start": "tomorrow"}).status_code == 400
    assert http.post("/api/faults/telegram", json={"mode": "explode"}).status_code == 400
    assert http.post("/api/tasks/run", json={"name": "../../x"}).status_code == 400
    assert http.post("/api/parents", content=b"not json").status_code == 400
    assert http.get("/static/../app.py").status_code == 404
    assert http.get("/api/overview").json()["parents"] == [] and system.bot_messages(1001) == []


def test_faults_are_switched_from_the_console(system: System, console: str) -> None:
    http = httpx.Client(base_url=console, timeout=10)
    assert http.post("/api/faults/sheets", json={"mode": "500"}).json() == {"sheets": "500"}
    assert http.get("/api/faults").json()["sheets"] == "500"
    assert http.post("/api/faults/sheets", json={"mode": "off"}).json() == {"sheets": "off"}
    emails = http.get("/api/emails").json()
    assert emails == {"emails": []}


def test_an_emails_link_opens_the_bot_in_the_console_and_a_manager_marks_the_card(
    system: System, console: str, browser: Any
) -> None:
    """A Tilda lead: the managers' card in the managers' pane, marked with a click; email1 rendered in
    the emails pane, its link followed into the parent chat, where the bot greets the lead by name."""
    assert system.post_tilda().status_code == 200
    page = Page(browser, console, "deep-link")
    page.tab("queue")
    page.type("clock-amount", "31")  # minutes: email1 goes out 30 minutes after the form
    page.click("//button[@id='clock-move']", "Move")

    page.tab("managers")
    page.click("//div[@id='managers-chat']//button[contains(., 'Дозвонились')]", "the card's Called button")
    page.wait(
        "the card marked",
        lambda: "Отметил(а)" in browser.find_element(page.by.ID, "managers-chat").text,
    )
    page.screenshot("managers-card")

    page.tab("emails")
    page.click("//ul[@id='email-list']/li", "the first email")
    frame = page.wait("the email shown", lambda: browser.find_element(page.by.ID, "email-view"))
    browser.switch_to.frame(frame)
    page.click("//a[contains(., 'Выбрать время урока')]", "the email's link to the bot")
    browser.switch_to.default_content()
    page.wait("the console opened from the link", lambda: "start=" in browser.current_url)
    page.click("//button[@id='parent-add']", "Add parent")
    page.bot_says("Рады видеть вас")
    page.screenshot("deep-link")


def test_the_console_api_adds_slots_runs_tasks_and_sends_voice(system: System, console: str) -> None:
    http = httpx.Client(base_url=console, timeout=30)
    day = (system.now() + timedelta(days=3)).date()
    added = http.post("/api/calendar", json={"start": f"{day}T15:00", "minutes": 45}).json()
    [event] = [e for e in http.get("/api/calendar").json()["events"] if e["id"] == added["id"]]
    assert event["free"] and event["start"].startswith(f"{day}T15:00:00+02:00")  # Riga's winter time
    assert http.delete(f"/api/calendar/{added['id']}").status_code == 200
    assert added["id"] not in [e["id"] for e in http.get("/api/calendar").json()["events"]]

    system.post_tilda()
    pending = http.get("/api/tasks").json()["pending"]
    [email1] = [t for t in pending if t["name"].endswith("-email1")]
    assert '"step":"email1"' in email1["payload"]
    assert http.post("/api/tasks/run", json={"name": email1["name"]}).status_code == 200
    assert any(a["name"] == email1["name"] for a in http.get("/api/tasks").json()["history"])

    parent = http.post(
        "/api/parents", json={"name": "Вера", "language": "ru", "phone": "+37120000077"}
    ).json()
    assert http.post(
        f"/api/chat/{parent['user_id']}/send", json={"kind": "text", "text": "/start"}
    ).json() == {
        "webhook_status": 200,
        "error": None,
    }
    script = f"{system.stack.fakes_url['openai']}/_fake/script"
    system.http.post(script, json={"reply": "Пробный урок длится 60 минут."}).raise_for_status()
    voice = {"kind": "voice", "says": "Сколько длится пробный урок?"}
    assert http.post(f"/api/chat/{parent['user_id']}/send", json=voice).json()["webhook_status"] == 200
    chat = http.get(f"/api/chat/{parent['user_id']}").json()["messages"]
    assert [m["voice"]["duration"] for m in chat if m.get("voice")] == [5]  # the parent's note
    assert chat[-1]["text"] == "Пробный урок длится 60 минут."
