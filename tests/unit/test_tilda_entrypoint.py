"""tilda_webhook's HTTP contract, through Flask's test client, with the ports faked."""

from __future__ import annotations

import json
from typing import Any

import fakeredis
import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from shared.adapters.store_redis import RedisStore
from shared.bootstrap import Container
from shared.config import load_settings
from shared.entrypoints import tilda
from tests.factories import tilda_form, urlencoded
from tests.fakes import FixedClock, RecordingScheduler

SECRET = "tilda-secret-value"


class Harness:
    def __init__(self, **settings: Any) -> None:
        values = {
            "app_env": "test",
            "tilda_secret": SECRET,
            "email_chain_url": "http://127.0.0.1:1/email_chain",
            "google_cloud_project": "demo",
            "tilda_max_body_bytes": 4096,
            **settings,
        }
        self.redis = fakeredis.FakeRedis()
        self.scheduler = RecordingScheduler()
        self.container = Container(
            load_settings("tilda_webhook", **values),
            store=RedisStore(self.redis),
            scheduler=self.scheduler,
            clock=FixedClock(),
        )
        app = Flask(__name__)
        app.add_url_rule("/", "tilda", lambda: tilda.handle(request, self.container), methods=["GET", "POST"])
        self.client: FlaskClient = app.test_client()

    def post(self, body: bytes, content_type: str = "application/x-www-form-urlencoded", **headers: str):
        return self.client.post(
            "/", data=body, content_type=content_type, headers={"X-Tilda-Secret": SECRET, **headers}
        )

    def nothing_written(self) -> bool:
        return self.redis.dbsize() == 0 and not self.scheduler.jobs


@pytest.fixture
def harness() -> Harness:
    return Harness()


def test_form_is_accepted(harness: Harness) -> None:
    response = harness.post(urlencoded(tilda_form()))
    assert response.status_code == 200, response.text
    assert response.json["outcome"] == "created"
    assert len(harness.scheduler.jobs) == 2


def test_json_body_is_accepted(harness: Harness) -> None:
    response = harness.post(json.dumps(tilda_form()).encode(), "application/json")
    assert response.status_code == 200 and response.json["outcome"] == "created"


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
def test_wrong_or_missing_secret_is_401(harness: Harness, secret: str | None) -> None:
    headers = {"X-Tilda-Secret": secret} if secret is not None else {}
    response = harness.client.post(
        "/", data=urlencoded(tilda_form()), content_type="application/x-www-form-urlencoded", headers=headers
    )
    assert response.status_code == 401
    assert harness.nothing_written()


def test_tilda_connection_check_writes_nothing(harness: Harness) -> None:
    response = harness.post(urlencoded({"test": "test"}))
    assert response.status_code == 200 and response.json["test"] is True
    assert harness.nothing_written()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Phone": "12"}, "Phone"),
        ({"Email": "anna@"}, "Email"),
        ({"Name": ""}, "Name is required"),
        ({"Phone": None, "Email": None}, "Phone or Email is required"),
    ],
)
def test_invalid_fields_are_400_with_a_reason(harness: Harness, overrides: dict, message: str) -> None:
    response = harness.post(urlencoded(tilda_form(**overrides)))
    assert response.status_code == 400 and message in response.json["error"]
    assert harness.nothing_written()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{broken", "application/json"),
        (b"\xff\xfe\xfd", "application/x-www-form-urlencoded"),
        (b"<x/>", "text/xml"),
    ],
)
def test_malformed_body_is_400(harness: Harness, body: bytes, content_type: str) -> None:
    assert harness.post(body, content_type).status_code == 400
    assert harness.nothing_written()


def test_oversized_body_is_413(harness: Harness) -> None:
    response = harness.post(urlencoded(tilda_form(Name="A" * 5000)))
    assert response.status_code == 413
    assert harness.nothing_written()


def test_get_is_405(harness: Harness) -> None:
    assert harness.client.get("/").status_code == 405


def test_same_form_three_times_is_one_lead(harness: Harness) -> None:
    outcomes = [harness.post(urlencoded(tilda_form())).json["outcome"] for _ in range(3)]
    assert outcomes == ["created", "duplicate", "duplicate"]
    assert len(harness.scheduler.jobs) == 2


def test_secret_in_a_query_parameter_when_configured() -> None:
    harness = Harness(tilda_secret_param="key")
    form = urlencoded(tilda_form())
    assert (
        harness.client.post("/", data=form, content_type="application/x-www-form-urlencoded").status_code
        == 401
    )
    ok = harness.client.post(f"/?key={SECRET}", data=form, content_type="application/x-www-form-urlencoded")
    assert ok.status_code == 200
    in_form = harness.client.post(
        "/",
        data=urlencoded(tilda_form(tranid="t2", key=SECRET)),
        content_type="application/x-www-form-urlencoded",
    )
    assert in_form.status_code == 200


def test_custom_header_name() -> None:
    harness = Harness(tilda_secret_header="X-Api-Key")
    assert harness.post(urlencoded(tilda_form())).status_code == 401
    assert harness.post(urlencoded(tilda_form()), **{"X-Api-Key": SECRET}).status_code == 200


def test_cloud_tasks_down_is_503_so_tilda_retries(harness: Harness) -> None:
    harness.scheduler.fail = True
    assert harness.post(urlencoded(tilda_form())).status_code == 503
    harness.scheduler.fail = False
    assert harness.post(urlencoded(tilda_form())).status_code == 200
